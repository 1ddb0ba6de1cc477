// Command pxtoken-testcluster is the control plane that kubectl-pxtoken's end-to-end
// tests run against: an embedded etcd and a real kube-apiserver in one process, bound
// to 127.0.0.1 only, with RBAC on and users that authenticate with client
// certificates.
//
//	pxtoken-testcluster --dir DIR [--users alice,bob,carol] [--pid-file F] [--restart] [-- extra kube-apiserver flags]
//	pxtoken-testcluster add-user --dir DIR [--groups g1,g2] [--not-after TIME] NAME...
//
// It writes into DIR:
//
//	pki/                     CA (with its key, for add-user), serving and client certificates,
//	                         service-account key
//	admin.kubeconfig         user "admin", group system:masters
//	<user>.kubeconfig        one per --users entry, no rights until a test grants some
//	server                   the API server URL
//	cluster.pid              this process's id (--pid-file)
//	etcd/                    etcd's data and the ports it listens on
//	apiserver-flags          the extra kube-apiserver flags, one a line, for --restart
//	ready                    created once /readyz answers 200, removed on shutdown
//
// It stops cleanly, removing DIR/etcd, on SIGTERM or SIGINT, and when the process named
// by env PXTOKEN_CLUSTER_WATCH_PID disappears (polled every 500ms), so a control plane
// started for a `cargo test` run dies with that run. SIGUSR1 stops it cleanly keeping
// DIR/etcd (tests/cluster/stop.sh); so does SIGKILL, uncleanly. --restart then starts it
// again from what DIR holds: the same certificates, API server port, etcd data and extra
// flags (unless new ones are given), so every kubeconfig stays valid
// (tests/cluster/start.sh).
//
// Of kube-controller-manager it runs only the namespace and ServiceAccount controllers
// (controllers.go); there are no nodes, no scheduler and no garbage collector: objects
// are stored and validated, and Pods never run.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/rest"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/component-base/featuregate"
	logsapi "k8s.io/component-base/logs/api/v1"
	_ "k8s.io/component-base/logs/json/register"          // as upstream kube-apiserver
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // as upstream kube-apiserver
	_ "k8s.io/component-base/metrics/prometheus/version"  // as upstream kube-apiserver
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
)

const (
	watchPIDEnv   = "PXTOKEN_CLUSTER_WATCH_PID"
	clusterName   = "pxtoken-test"
	serviceCIDR   = "10.0.0.0/24"
	stopDeadline  = 20 * time.Second
	readyDeadline = 5 * time.Minute
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "add-user" {
		if err := addUser(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "pxtoken-testcluster add-user: error: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pxtoken-testcluster: error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	dirFlag := flag.String("dir", "", "directory for certificates, kubeconfigs and the ready marker (required)")
	usersFlag := flag.String("users", "alice,bob,carol", "comma-separated users without rights, each gets <user>.kubeconfig")
	pidFile := flag.String("pid-file", "", "write this process's id to this file (removed on exit)")
	restart := flag.Bool("restart", false, "start again from DIR as a stopped run left it: same certificates, port, etcd data and flags")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s --dir DIR [--users a,b] [--restart] [-- kube-apiserver flags]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if *dirFlag == "" {
		flag.Usage()
		return errors.New("--dir is required")
	}
	dir, err := filepath.Abs(*dirFlag)
	if err != nil {
		return err
	}
	users := []string{}
	for _, u := range strings.Split(*usersFlag, ",") {
		if u = strings.TrimSpace(u); u != "" {
			users = append(users, u)
		}
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	readyFile := filepath.Join(dir, "ready")
	_ = os.Remove(readyFile)
	if *pidFile != "" {
		me := []byte(strconv.Itoa(os.Getpid()) + "\n")
		if err := writeAtomic(*pidFile, me, 0o644); err != nil {
			return err
		}
		defer func() {
			if b, _ := os.ReadFile(*pidFile); string(b) == string(me) {
				_ = os.Remove(*pidFile)
			}
		}()
	}

	// Everything below stops when ctx is cancelled: SIGTERM, SIGINT, SIGUSR1 (keeping the
	// etcd data), or the watched process gone.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var keepData atomic.Bool
	go func() {
		usr1 := make(chan os.Signal, 1)
		signal.Notify(usr1, syscall.SIGUSR1)
		select {
		case <-usr1:
			klog.Infof("pxtoken-testcluster: SIGUSR1, stopping and keeping the etcd data")
			keepData.Store(true)
			cancel()
		case <-ctx.Done():
		}
	}()
	if v := os.Getenv(watchPIDEnv); v != "" {
		pid, err := strconv.Atoi(v)
		if err != nil || pid <= 0 {
			return fmt.Errorf("%s=%q is not a process id", watchPIDEnv, v)
		}
		go watchPID(ctx, pid, cancel)
	}

	st, err := prepareState(dir, users, *restart, flag.Args())
	if err != nil {
		return err
	}
	pki := st.pki
	removeData := func() {
		if !keepData.Load() {
			_ = os.RemoveAll(st.dataDir)
		}
	}
	defer removeData()

	etcd, etcdURL, err := startEtcd(st)
	if err != nil {
		return fmt.Errorf("starting etcd: %w", err)
	}
	etcdStopped := false
	stopEtcd := func() {
		if !etcdStopped {
			etcdStopped = true
			etcd.Close()
		}
	}
	defer stopEtcd()
	klog.Infof("pxtoken-testcluster: etcd serving on %s (data in %s)", etcdURL, st.dataDir)

	ln, err := st.listen()
	if err != nil {
		return err
	}
	server := "https://" + ln.Addr().String()
	if !*restart {
		if err := writeKubeconfigs(dir, server, pki, users); err != nil {
			ln.Close()
			return err
		}
	}

	// Once ctx ends, give the API server and etcd stopDeadline to stop, then clean up
	// and exit anyway; a second signal exits at once.
	go func() {
		<-ctx.Done()
		klog.Infof("pxtoken-testcluster: shutting down")
		force := make(chan os.Signal, 1)
		signal.Notify(force, syscall.SIGTERM, syscall.SIGINT)
		select {
		case <-time.After(stopDeadline):
			klog.Errorf("pxtoken-testcluster: did not stop within %s, exiting", stopDeadline)
		case <-force:
			klog.Errorf("pxtoken-testcluster: second signal, exiting")
		}
		_ = os.Remove(readyFile)
		removeData()
		os.Exit(1)
	}()

	apiErr := make(chan error, 1)
	go func() { apiErr <- runAPIServer(ctx, ln, etcdURL, pki, st.apiserverFlags) }()
	startErr := make(chan error, 1)
	go func() {
		if err := waitReady(ctx, server, pki); err != nil {
			startErr <- err
			return
		}
		if err := runControllers(ctx, filepath.Join(dir, "admin.kubeconfig")); err != nil {
			startErr <- fmt.Errorf("starting controllers: %w", err)
			return
		}
		if err := os.WriteFile(readyFile, []byte(server+"\n"), 0o644); err != nil {
			startErr <- err
			return
		}
		klog.Infof("pxtoken-testcluster: ready at %s, kubeconfigs in %s", server, dir)
	}()

	var runErr error
	apiStopped := false
	select {
	case err := <-apiErr:
		apiStopped = true
		if ctx.Err() == nil {
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			runErr = fmt.Errorf("kube-apiserver: %w", err)
		}
	case err := <-etcd.Err():
		runErr = fmt.Errorf("etcd: %w", err)
	case err := <-startErr:
		if ctx.Err() == nil {
			runErr = err
		}
	case <-ctx.Done(): // asked to stop
	}
	cancel()
	if !apiStopped { // let the API server drain before etcd goes
		if err := <-apiErr; err != nil {
			klog.Infof("pxtoken-testcluster: kube-apiserver stopped with: %v", err)
		}
	}
	_ = os.Remove(readyFile)
	stopEtcd()
	klog.Infof("pxtoken-testcluster: stopped")
	klog.Flush()
	return runErr
}

// watchPID cancels when pid no longer exists.
func watchPID(ctx context.Context, pid int, cancel context.CancelFunc) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				klog.Infof("pxtoken-testcluster: watched process %d is gone", pid)
				cancel()
				return
			}
		}
	}
}

// runAPIServer runs kube-apiserver in this process, as its own command would, with
// the listener already bound (no port race) and until ctx ends.
func runAPIServer(ctx context.Context, ln net.Listener, etcdURL string, pki *pkiFiles, extra []string) error {
	s := options.NewServerRunOptions()
	featureGate := s.GenericServerRunOptions.ComponentGlobalsRegistry.FeatureGateFor(basecompatibility.DefaultKubeComponent)

	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	for _, f := range s.Flags().FlagSets {
		fs.AddFlagSet(f)
	}
	args := []string{
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none", // a loopback address cannot be an endpoint
		"--etcd-servers=" + etcdURL,
		"--tls-cert-file=" + pki.ServingCert,
		"--tls-private-key-file=" + pki.ServingKey,
		"--client-ca-file=" + pki.CACert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + pki.ServiceAccountKey,
		"--service-account-signing-key-file=" + pki.ServiceAccountKey,
		"--service-cluster-ip-range=" + serviceCIDR,
		"--profiling=false",
	}
	args = append(args, extra...) // extra kube-apiserver flags after "--"
	if err := fs.Parse(args); err != nil {
		return err
	}
	s.SecureServing.Listener = ln
	s.SecureServing.BindPort = ln.Addr().(*net.TCPAddr).Port

	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	if err := logsapi.ValidateAndApply(s.Logs, featureGate); err != nil {
		return err
	}
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	featureGate.(featuregate.MutableFeatureGate).AddMetrics()
	return app.Run(ctx, completed)
}

// waitReady polls /readyz as admin until it answers 200.
func waitReady(ctx context.Context, server string, pki *pkiFiles) error {
	caPEM, err := os.ReadFile(pki.CACert)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	admin, err := tls.LoadX509KeyPair(pki.clientCert("admin"), pki.clientKey("admin"))
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      roots,
			Certificates: []tls.Certificate{admin},
		}},
	}
	deadline := time.Now().Add(readyDeadline)
	last := "no answer yet"
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s/readyz not ready after %s: %s", server, readyDeadline, last)
}
