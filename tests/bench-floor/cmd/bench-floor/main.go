// bench-floor makes, with client-go, the API requests `kubectl pxtoken tenant` makes, so
// scripts/bench.sh can compare the plugin with the API server's own cost (the "floor").
//
//	bench-floor one   --kubeconfig K --namespace NS [--secret-name S]
//	    GET kube-system/pxkeys, GET NS/S, then create S (or replace it at the version read):
//	    the 3 requests of one tenant with --shared-secret-ref and --issuer.
//	bench-floor bulk  --kubeconfig K --prefix P --count N --concurrency C [--secret-name S]
//	    GET kube-system/pxkeys once, then for namespaces P0000 … P(N-1), C at a time: GET the
//	    Secret, then create it or replace it at the version read (`tenant --from-file`).
//	bench-floor rotate --kubeconfig K --concurrency C [--events=false]
//	    GET kube-system/pxkeys once, list the floor's Secrets in every namespace (its managed-by
//	    label, 500 a page), then for each, C at a time: GET it, replace it at the version read
//	    and record a core/v1 Event on it (`rotate -A --all`). --count is ignored.
//	bench-floor namespaces --kubeconfig K --prefix P --count N     create the namespaces
//	bench-floor delete --kubeconfig K --prefix P --count N [--secret-name S]   delete S in each
//
// The written Secret has the shape and size of the plugin's: a token-sized value under
// auth-token, a managed-by label and six annotations. Client-side rate limiting is off (QPS -1)
// so the figure is the API server's, not client-go's default 5 requests per second.
// Prints one JSON line: {"mode","count","concurrency","requests","seconds"}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// tokenBytes is the length of the HS256 token the plugin writes for the benchmark's tenants
// (namespace bench-tNNNN as name and email, a UUID sub, system.user, issuer portworx.com).
const tokenBytes = 323

// The label that marks the Secrets this program writes (the plugin's, with another value).
const (
	floorLabel   = "app.kubernetes.io/managed-by"
	floorManager = "kubectl-pxtoken-floor"
)

type floor struct {
	client   kubernetes.Interface
	name     string
	token    []byte
	requests atomic.Int64
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	namespace := fs.String("namespace", "", "tenant namespace (one)")
	prefix := fs.String("prefix", "bench-t", "namespace prefix (bulk, namespaces, delete)")
	count := fs.Int("count", 1, "number of namespaces (bulk, namespaces, delete)")
	concurrency := fs.Int("concurrency", 4, "tenants at once")
	secretName := fs.String("secret-name", "px-floor", "the Secret written in each namespace")
	events := fs.Bool("events", true, "rotate: record an Event on each rotated Secret, as the plugin does")
	_ = fs.Parse(os.Args[2:])
	if fs.NArg() != 0 || *concurrency < 1 || *count < 1 {
		usage()
	}

	config, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	check(err)
	config.QPS = -1
	client, err := kubernetes.NewForConfig(config)
	check(err)
	f := &floor{client: client, name: *secretName, token: []byte(strings.Repeat("t", tokenBytes))}
	ctx := context.Background()
	names := make([]string, *count)
	for i := range names {
		names[i] = fmt.Sprintf("%s%04d", *prefix, i)
	}

	start := time.Now()
	switch mode {
	case "one":
		if *namespace == "" {
			usage()
		}
		names = []string{*namespace}
		f.readKey(ctx)
		check(f.tenant(ctx, *namespace))
	case "bulk":
		f.readKey(ctx)
		f.each(names, *concurrency, func(ns string) error { return f.tenant(ctx, ns) })
	case "rotate":
		f.readKey(ctx)
		targets := f.listOwn(ctx)
		names = names[:0]
		for _, t := range targets {
			names = append(names, t.Namespace)
		}
		f.each(names, *concurrency, func(ns string) error { return f.rotate(ctx, ns, *events) })
	case "namespaces":
		f.each(names, *concurrency, func(ns string) error {
			f.requests.Add(1)
			_, err := client.CoreV1().Namespaces().Create(ctx,
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				return nil
			}
			return err
		})
	case "delete":
		f.each(names, *concurrency, func(ns string) error {
			f.requests.Add(1)
			err := client.CoreV1().Secrets(ns).Delete(ctx, f.name, metav1.DeleteOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
	default:
		usage()
	}
	out, _ := json.Marshal(map[string]any{
		"mode": mode, "count": len(names), "concurrency": *concurrency,
		"requests": f.requests.Load(), "seconds": time.Since(start).Seconds(),
	})
	fmt.Println(string(out))
}

// readKey reads the shared secret's Secret, as the plugin does once per run.
func (f *floor) readKey(ctx context.Context) {
	f.requests.Add(1)
	_, err := f.client.CoreV1().Secrets("kube-system").Get(ctx, "pxkeys", metav1.GetOptions{})
	check(err)
}

// tenant stores a token for one namespace: GET, then create or replace at the version read.
func (f *floor) tenant(ctx context.Context, ns string) error {
	secrets := f.client.CoreV1().Secrets(ns)
	f.requests.Add(2)
	existing, err := secrets.Get(ctx, f.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = secrets.Create(ctx, f.desired(ns, nil), metav1.CreateOptions{FieldManager: "bench-floor"})
		return err
	}
	if err != nil {
		return err
	}
	_, err = secrets.Update(ctx, f.desired(ns, existing), metav1.UpdateOptions{FieldManager: "bench-floor"})
	return err
}

// listOwn lists, page by page, the Secrets this program wrote in every namespace.
func (f *floor) listOwn(ctx context.Context) []corev1.Secret {
	var all []corev1.Secret
	opts := metav1.ListOptions{LabelSelector: floorLabel + "=" + floorManager, Limit: 500}
	for {
		f.requests.Add(1)
		page, err := f.client.CoreV1().Secrets("").List(ctx, opts)
		check(err)
		for _, s := range page.Items {
			if s.Name == f.name {
				all = append(all, s)
			}
		}
		if page.Continue == "" {
			return all
		}
		opts.Continue = page.Continue
	}
}

// rotate re-issues one Secret's token in place: GET, replace at the version read, an Event.
func (f *floor) rotate(ctx context.Context, ns string, event bool) error {
	secrets := f.client.CoreV1().Secrets(ns)
	f.requests.Add(2)
	existing, err := secrets.Get(ctx, f.name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	written, err := secrets.Update(ctx, f.desired(ns, existing), metav1.UpdateOptions{FieldManager: "bench-floor"})
	if err != nil || !event {
		return err
	}
	f.requests.Add(1)
	now := metav1.NewTime(time.Now())
	_, err = f.client.CoreV1().Events(ns).Create(ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: f.name + ".", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Secret", APIVersion: "v1", Namespace: ns, Name: f.name,
			UID: written.UID, ResourceVersion: written.ResourceVersion},
		Reason: "TokenRotated", Type: corev1.EventTypeNormal, Count: 1, FirstTimestamp: now, LastTimestamp: now,
		Message: "renewed the token (bench-floor)", Source: corev1.EventSource{Component: "bench-floor"},
	}, metav1.CreateOptions{FieldManager: "bench-floor"})
	return err
}

func (f *floor) desired(ns string, existing *corev1.Secret) *corev1.Secret {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: f.name, Namespace: ns}, Type: corev1.SecretTypeOpaque}
	if existing != nil {
		secret = existing.DeepCopy()
		secret.ManagedFields = nil
	}
	secret.Labels = map[string]string{floorLabel: floorManager}
	now := time.Now().UTC()
	secret.Annotations = map[string]string{
		"kubectl-pxtoken/subject":     "00000000-0000-4000-8000-000000000000",
		"kubectl-pxtoken/issuer":      "portworx.com",
		"kubectl-pxtoken/issued-at":   now.Format(time.RFC3339),
		"kubectl-pxtoken/expires-at":  now.AddDate(1, 0, 0).Format(time.RFC3339),
		"kubectl-pxtoken/key-source":  "secret:kube-system/pxkeys:shared-secret",
		"kubectl-pxtoken/key-version": "1",
	}
	secret.Data = map[string][]byte{"auth-token": f.token}
	return secret
}

// each runs work on every name, at most concurrency at a time; the first error ends the program.
func (f *floor) each(names []string, concurrency int, work func(string) error) {
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ns := range jobs {
				if err := work(ns); err != nil {
					check(fmt.Errorf("%s: %w", ns, err))
				}
			}
		}()
	}
	for _, ns := range names {
		jobs <- ns
	}
	close(jobs)
	wg.Wait()
}

func check(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-floor: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: bench-floor one|bulk|rotate|namespaces|delete [--kubeconfig K] [--namespace NS] [--prefix P] [--count N] [--concurrency C] [--secret-name S] [--events=false]")
	os.Exit(2)
}
