package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// state is what one run of the control plane keeps in DIR so that a later run with
// --restart comes back the same: certificates, the API server's address, etcd's data
// and ports, and the extra kube-apiserver flags.
type state struct {
	dir            string
	pki            *pkiFiles
	dataDir        string // DIR/etcd
	restart        bool
	apiserverFlags []string
}

func (s *state) portsFile() string { return filepath.Join(s.dataDir, "ports") }
func (s *state) flagsFile() string { return filepath.Join(s.dir, "apiserver-flags") }
func (s *state) memberDir() string { return filepath.Join(s.dataDir, "member-data") }

// prepareState makes a new state in dir (new certificates, empty etcd directory, the
// given flags), or with restart reads the one a previous run left; flags given with
// restart replace the saved ones.
func prepareState(dir string, users []string, restart bool, flags []string) (*state, error) {
	s := &state{dir: dir, dataDir: filepath.Join(dir, "etcd"), restart: restart, apiserverFlags: flags}
	if !restart {
		if err := os.RemoveAll(s.dataDir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
			return nil, err
		}
		pki, err := writePKI(filepath.Join(dir, "pki"), users)
		if err != nil {
			return nil, fmt.Errorf("generating certificates: %w", err)
		}
		s.pki = pki
		return s, s.saveFlags()
	}

	s.pki = pkiPaths(filepath.Join(dir, "pki"))
	for _, f := range []string{s.pki.CACert, s.pki.ServingCert, s.pki.ServiceAccountKey, s.portsFile(), filepath.Join(dir, "server")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("--restart: %s is not a stopped control plane's directory: %w", dir, err)
		}
	}
	if len(flags) == 0 {
		b, err := os.ReadFile(s.flagsFile())
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, f := range strings.Split(string(b), "\n") {
			if f = strings.TrimSpace(f); f != "" {
				s.apiserverFlags = append(s.apiserverFlags, f)
			}
		}
		return s, nil
	}
	return s, s.saveFlags()
}

func (s *state) saveFlags() error {
	text := ""
	for _, f := range s.apiserverFlags {
		text += f + "\n"
	}
	return writeAtomic(s.flagsFile(), []byte(text), 0o644)
}

// listen binds the API server's port: a free one for a new control plane, the one in
// DIR/server on restart (waiting a little in case the previous process is still going).
func (s *state) listen() (net.Listener, error) {
	if !s.restart {
		return net.Listen("tcp", "127.0.0.1:0")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "server"))
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s/server: %w", s.dir, err)
	}
	var ln net.Listener
	for deadline := time.Now().Add(10 * time.Second); ; {
		ln, err = net.Listen("tcp", u.Host)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd starts a single-member etcd on loopback ports and waits until it serves.
// A new one gets free ports, saved in DIR/etcd/ports; a restarted one reuses them and its
// data.
func startEtcd(s *state) (*embed.Etcd, string, error) {
	var lastErr error
	attempts := 3 // ports are picked then bound: retry a lost race
	if s.restart {
		attempts = 1
	}
	for attempt := 0; attempt < attempts; attempt++ {
		clientPort, peerPort, err := s.etcdPorts()
		if err != nil {
			return nil, "", err
		}
		clientURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
		peerURL := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}

		cfg := embed.NewConfig()
		cfg.Name = "pxtoken-test"
		cfg.Dir = s.memberDir()
		cfg.UnsafeNoFsync = true
		cfg.ListenClientUrls = []url.URL{clientURL}
		cfg.AdvertiseClientUrls = []url.URL{clientURL}
		cfg.ListenPeerUrls = []url.URL{peerURL}
		cfg.AdvertisePeerUrls = []url.URL{peerURL}
		cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
		cfg.LogLevel = "warn"
		cfg.LogOutputs = []string{"stderr"}

		e, err := embed.StartEtcd(cfg)
		if err != nil {
			lastErr = err
			continue
		}
		select {
		case <-e.Server.ReadyNotify():
			return e, clientURL.String(), nil
		case err := <-e.Err():
			e.Close()
			lastErr = err
		case <-time.After(60 * time.Second):
			e.Close()
			return nil, "", errors.New("etcd did not become ready within 60s")
		}
	}
	return nil, "", lastErr
}

// etcdPorts returns the saved ports on restart; otherwise picks two free ones, saves them
// and empties the member directory a failed attempt may have started.
func (s *state) etcdPorts() (client, peer int, err error) {
	if s.restart {
		b, err := os.ReadFile(s.portsFile())
		if err != nil {
			return 0, 0, err
		}
		if _, err := fmt.Sscanf(string(b), "%d %d", &client, &peer); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", s.portsFile(), err)
		}
		return client, peer, nil
	}
	if client, err = freePort(); err != nil {
		return 0, 0, err
	}
	if peer, err = freePort(); err != nil {
		return 0, 0, err
	}
	if err := os.RemoveAll(s.memberDir()); err != nil {
		return 0, 0, err
	}
	return client, peer, writeAtomic(s.portsFile(), []byte(fmt.Sprintf("%d %d\n", client, peer)), 0o644)
}
