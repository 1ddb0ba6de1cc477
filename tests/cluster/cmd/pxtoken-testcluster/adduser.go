package main

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// addUser is `pxtoken-testcluster add-user --dir DIR [--groups g1,g2] [--not-after TIME] NAME...`:
// it issues client certificates for more users from the CA in DIR/pki and writes
// DIR/NAME.kubeconfig, so a test can have a user of its own. The control plane need not be
// restarted: the API server trusts every certificate its CA signs while it is valid.
// --not-after (RFC 3339) ends the validity early, e.g. in the past for an expired certificate.
func addUser(args []string) error {
	fs := flag.NewFlagSet("add-user", flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "the control plane's directory (required)")
	groupsFlag := fs.String("groups", "", "comma-separated groups for the certificate's O=")
	notAfterFlag := fs.String("not-after", "", "end of the certificate's validity, RFC 3339 (default: in 10 years)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dirFlag == "" || fs.NArg() == 0 {
		return errors.New("usage: pxtoken-testcluster add-user --dir DIR [--groups g1,g2] [--not-after TIME] NAME...")
	}
	var notAfter time.Time
	if *notAfterFlag != "" {
		t, err := time.Parse(time.RFC3339, *notAfterFlag)
		if err != nil {
			return fmt.Errorf("--not-after: %w", err)
		}
		notAfter = t
	}
	var groups []string
	for _, g := range strings.Split(*groupsFlag, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	dir := *dirFlag
	p := pkiPaths(filepath.Join(dir, "pki"))
	ca, err := loadCA(p)
	if err != nil {
		return fmt.Errorf("reading the CA in %s (is DIR a control plane's directory?): %w", p.Dir, err)
	}
	server, err := os.ReadFile(filepath.Join(dir, "server"))
	if err != nil {
		return err
	}
	for _, name := range fs.Args() {
		if err := issueClient(p, ca, name, groups, notAfter); err != nil {
			return err
		}
		if err := writeKubeconfig(dir, strings.TrimSpace(string(server)), p, name); err != nil {
			return err
		}
	}
	return nil
}

func loadCA(p *pkiFiles) (*keyPair, error) {
	certPEM, err := os.ReadFile(p.CACert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(p.CAKey)
	if err != nil {
		return nil, err
	}
	certBlock, _ := pem.Decode(certPEM)
	keyBlock, _ := pem.Decode(keyPEM)
	if certBlock == nil || keyBlock == nil {
		return nil, errors.New("CA certificate or key is not PEM")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, err
	}
	ecKey, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("CA key is not ECDSA")
	}
	return &keyPair{cert: cert, key: ecKey}, nil
}
