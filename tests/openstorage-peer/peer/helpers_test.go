package peer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	// The same golang-jwt module openstorage uses (go.mod pins v4.3.0), used
	// here directly so test tokens are made independently of the code under
	// test.
	jwt "github.com/golang-jwt/jwt/v4"
)

// ---- keys ---------------------------------------------------------------

type keys struct {
	secret                      []byte
	rsaPriv, rsaOther           *rsa.PrivateKey
	ecPriv, ecOther             *ecdsa.PrivateKey
	rsaPubPEM, rsaOtherPubPEM   []byte
	ecPubPEM, ecOtherPubPEM     []byte
	rsaPrivPEM, ecPrivPEM       []byte
	rsaPKCS8PEM, ecPKCS8PrivPEM []byte
}

var (
	keysOnce sync.Once
	testKeys keys
)

func mustPEM(typ string, der []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func getKeys() *keys {
	keysOnce.Do(func() {
		k := &testKeys
		k.secret = []byte("A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6A7b8C9d0E1f2")
		var err error
		if k.rsaPriv, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if k.ecPriv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if k.ecOther, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		pub := func(key interface{}) []byte {
			der, err := x509.MarshalPKIXPublicKey(key)
			return mustPEM("PUBLIC KEY", der, err)
		}
		k.rsaPubPEM = pub(&k.rsaPriv.PublicKey)
		k.rsaOtherPubPEM = pub(&k.rsaOther.PublicKey)
		k.ecPubPEM = pub(&k.ecPriv.PublicKey)
		k.ecOtherPubPEM = pub(&k.ecOther.PublicKey)
		k.rsaPrivPEM = mustPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k.rsaPriv), nil)
		ecDER, err := x509.MarshalECPrivateKey(k.ecPriv)
		k.ecPrivPEM = mustPEM("EC PRIVATE KEY", ecDER, err)
		p8, err := x509.MarshalPKCS8PrivateKey(k.rsaPriv)
		k.rsaPKCS8PEM = mustPEM("PRIVATE KEY", p8, err)
		p8, err = x509.MarshalPKCS8PrivateKey(k.ecPriv)
		k.ecPKCS8PrivPEM = mustPEM("PRIVATE KEY", p8, err)
	})
	return &testKeys
}

// ---- tokens -------------------------------------------------------------

// goodClaims is the claim set openstorage's generator writes.
func goodClaims(iss string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss":   iss,
		"sub":   "6f1b8a7e-5d4c-4b3a-9f2e-1d0c9b8a7f6e",
		"name":  "team-a",
		"email": "team-a@" + iss,
		"roles": []string{"system.user"},
		"iat":   now.Add(-10 * time.Minute).Unix(),
		"exp":   now.Add(24 * time.Hour).Unix(),
	}
}

func mint(t *testing.T, method jwt.SigningMethod, key interface{}, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("mint %s token: %v", method.Alg(), err)
	}
	return s
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---- running the CLI ----------------------------------------------------

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// runner runs the pxtoken-peer CLI, either in-process (through Main) or as
// the real binary.
type runner struct {
	name string
	run  func(t *testing.T, stdin string, args ...string) result
}

func inProcess(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, IO{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb})
	return result{code, out.String(), errb.String()}
}

var (
	binOnce sync.Once
	binPath string
	binDir  string // temp dir of a binary this run built, removed by TestMain
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// peerBinary returns the pxtoken-peer binary: $PXTOKEN_PEER_BIN when set
// (e.g. the one build.sh cached), else one built once for this test run.
func peerBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("PXTOKEN_PEER_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "pxtoken-peer-test-")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "pxtoken-peer")
		_, thisFile, _, _ := runtime.Caller(0)
		moduleRoot := filepath.Dir(filepath.Dir(thisFile))
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/pxtoken-peer")
		cmd.Dir = moduleRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("build pxtoken-peer: %v", binErr)
	}
	return binPath
}

func viaBinary(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(peerBinary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run pxtoken-peer: %v", err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

func runners() []runner {
	return []runner{{"in-process", inProcess}, {"binary", viaBinary}}
}
