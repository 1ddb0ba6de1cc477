package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// pkiFiles names the files writePKI wrote. Certificates are x509 v3 with ECDSA P-256
// keys, shaped for strict verifiers (rustls/webpki): the CA has BasicConstraints
// CA:true and KeyUsage certSign; leaves are non-CA with serverAuth or clientAuth.
type pkiFiles struct {
	Dir               string
	CACert            string
	CAKey             string
	ServingCert       string
	ServingKey        string
	ServiceAccountKey string
}

func (p *pkiFiles) clientCert(user string) string { return filepath.Join(p.Dir, user+".crt") }
func (p *pkiFiles) clientKey(user string) string  { return filepath.Join(p.Dir, user+".key") }

type keyPair struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func pkiPaths(dir string) *pkiFiles {
	return &pkiFiles{
		Dir:               dir,
		CACert:            filepath.Join(dir, "ca.crt"),
		CAKey:             filepath.Join(dir, "ca.key"),
		ServingCert:       filepath.Join(dir, "apiserver.crt"),
		ServingKey:        filepath.Join(dir, "apiserver.key"),
		ServiceAccountKey: filepath.Join(dir, "service-account.key"),
	}
}

// writePKI makes a new CA, the serving certificate, a client certificate for admin
// (group system:masters) and for each user (no group), and the service-account key.
func writePKI(dir string, users []string) (*pkiFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := pkiPaths(dir)

	ca, err := newCert(nil, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "pxtoken-test-ca"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(p.CACert, ca.cert); err != nil {
		return nil, err
	}
	if err := writeKey(p.CAKey, ca.key); err != nil { // for add-user
		return nil, err
	}

	serving, err := newCert(ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP("10.0.0.1")},
	})
	if err != nil {
		return nil, err
	}
	if err := writeCert(p.ServingCert, serving.cert); err != nil {
		return nil, err
	}
	if err := writeKey(p.ServingKey, serving.key); err != nil {
		return nil, err
	}

	if err := issueClient(p, ca, "admin", []string{"system:masters"}, time.Time{}); err != nil {
		return nil, err
	}
	for _, u := range users {
		if err := issueClient(p, ca, u, nil, time.Time{}); err != nil {
			return nil, err
		}
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// SEC1 ("EC PRIVATE KEY"): --service-account-key-file does not read PKCS#8.
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.ServiceAccountKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}), 0o600); err != nil {
		return nil, err
	}
	return p, nil
}

// issueClient writes a client certificate and key for user, signed by ca, valid until
// notAfter (zero: the default 10 years; in the past: valid for the hour before it).
func issueClient(p *pkiFiles, ca *keyPair, user string, groups []string, notAfter time.Time) error {
	c, err := newCert(ca, &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		NotAfter:    notAfter,
	})
	if err != nil {
		return err
	}
	if err := writeCert(p.clientCert(user), c.cert); err != nil {
		return err
	}
	return writeKey(p.clientKey(user), c.key)
}

// newCert signs tmpl with parent, or self-signs when parent is nil.
func newCert(parent *keyPair, tmpl *x509.Certificate) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	}
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	if tmpl.NotAfter.Before(tmpl.NotBefore) {
		tmpl.NotBefore = tmpl.NotAfter.Add(-time.Hour)
	}
	tmpl.SubjectKeyId = keyID(&key.PublicKey)
	if !tmpl.IsCA {
		tmpl.BasicConstraintsValid = true // explicit CA:false
	}

	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
		tmpl.AuthorityKeyId = parent.cert.SubjectKeyId
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signerKey)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &keyPair{cert: cert, key: key}, nil
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha1.Sum(der)
	return sum[:]
}

func writeCert(path string, cert *x509.Certificate) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// writeKubeconfigs writes DIR/<user>.kubeconfig for admin and every user, and
// DIR/server with the URL.
func writeKubeconfigs(dir, server string, p *pkiFiles, users []string) error {
	for _, user := range append([]string{"admin"}, users...) {
		if err := writeKubeconfig(dir, server, p, user); err != nil {
			return err
		}
	}
	return writeAtomic(filepath.Join(dir, "server"), []byte(server+"\n"), 0o644)
}

// writeKubeconfig writes DIR/<user>.kubeconfig: one cluster and one context, both named
// pxtoken-test, with the CA and the user's client certificate and key inline.
func writeKubeconfig(dir, server string, p *pkiFiles, user string) error {
	ca, err := os.ReadFile(p.CACert)
	if err != nil {
		return err
	}
	cert, err := os.ReadFile(p.clientCert(user))
	if err != nil {
		return err
	}
	key, err := os.ReadFile(p.clientKey(user))
	if err != nil {
		return err
	}
	b64 := base64.StdEncoding.EncodeToString
	cfg := strings.Join([]string{
		"apiVersion: v1",
		"kind: Config",
		"clusters:",
		"- name: " + clusterName,
		"  cluster:",
		"    server: " + server,
		"    certificate-authority-data: " + b64(ca),
		"users:",
		"- name: " + user,
		"  user:",
		"    client-certificate-data: " + b64(cert),
		"    client-key-data: " + b64(key),
		"contexts:",
		"- name: " + clusterName,
		"  context:",
		"    cluster: " + clusterName,
		"    user: " + user,
		"    namespace: default",
		"current-context: " + clusterName,
		"preferences: {}",
		"",
	}, "\n")
	return writeAtomic(filepath.Join(dir, user+".kubeconfig"), []byte(cfg), 0o600)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
