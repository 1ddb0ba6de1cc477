package main

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	namespacecontroller "k8s.io/kubernetes/pkg/controller/namespace"
	serviceaccountcontroller "k8s.io/kubernetes/pkg/controller/serviceaccount"
)

// runControllers runs, in this process, the two kube-controller-manager controllers
// that make a bare API server behave like a cluster for the tests: the namespace
// controller (a deleted namespace and everything in it goes away instead of staying
// Terminating) and the ServiceAccount controller (every namespace gets "default").
// Nothing else reconciles: no scheduler, no nodes, no garbage collector.
func runControllers(ctx context.Context, adminKubeconfig string) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", adminKubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 100, 200
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	metaClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactory(client, 0)

	namespaces := namespacecontroller.NewNamespaceController(ctx, client, metaClient,
		client.Discovery().ServerPreferredNamespacedResources,
		factory.Core().V1().Namespaces(), 5*time.Minute, v1.FinalizerKubernetes)
	serviceAccounts, err := serviceaccountcontroller.NewServiceAccountsController(klog.FromContext(ctx),
		factory.Core().V1().ServiceAccounts(), factory.Core().V1().Namespaces(), client,
		serviceaccountcontroller.DefaultServiceAccountsControllerOptions())
	if err != nil {
		return err
	}

	factory.Start(ctx.Done())
	go namespaces.Run(ctx, 4)
	go serviceAccounts.Run(ctx, 1)
	return nil
}
