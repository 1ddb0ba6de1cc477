package peer

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

const sampleAuthConfig = `name: Test
email: 123@abc.com
sub: test-sub
roles: ["system.admin"]
groups: ["*"]
`

// parseIndependently checks a generated token with golang-jwt alone (not
// through openstorage) and returns its raw payload.
func parseIndependently(t *testing.T, token string, alg string, key interface{}) map[string]interface{} {
	t.Helper()
	p := jwt.Parser{ValidMethods: []string{alg}, UseJSONNumber: true}
	tok, err := p.Parse(token, func(*jwt.Token) (interface{}, error) { return key, nil })
	if err != nil {
		t.Fatalf("golang-jwt rejects the generated %s token: %v", alg, err)
	}
	return map[string]interface{}(tok.Claims.(jwt.MapClaims))
}

func keysOf(m map[string]interface{}) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ",")
}

func TestGenerateEachKeyType(t *testing.T) {
	k := getKeys()
	acPath := writeFile(t, "auth.yml", []byte(sampleAuthConfig))
	type kind struct {
		name     string
		alg      string
		keyArgs  []string
		stdin    string
		verify   interface{} // golang-jwt verification key
		peerArgs []string    // pxtoken-peer verify key flags
	}
	kinds := []kind{
		{"shared secret file", "HS256", []string{"--shared-secret-file", writeFile(t, "s", k.secret)}, "", k.secret,
			[]string{"--shared-secret-file", writeFile(t, "s2", k.secret)}},
		{"shared secret on stdin", "HS256", []string{"--shared-secret-file", "-"}, string(k.secret), k.secret,
			[]string{"--shared-secret-file", writeFile(t, "s3", k.secret)}},
		{"RSA PKCS#1", "RS256", []string{"--rsa-private-keyfile", writeFile(t, "rsa.key", k.rsaPrivPEM)}, "", &k.rsaPriv.PublicKey,
			[]string{"--rsa-public-keyfile", writeFile(t, "rsa.pub", k.rsaPubPEM)}},
		{"RSA PKCS#8", "RS256", []string{"--rsa-private-keyfile", writeFile(t, "rsa8.key", k.rsaPKCS8PEM)}, "", &k.rsaPriv.PublicKey,
			[]string{"--rsa-public-keyfile", writeFile(t, "rsa8.pub", k.rsaPubPEM)}},
		{"ECDSA SEC1", "ES256", []string{"--ecdsa-private-keyfile", writeFile(t, "ec.key", k.ecPrivPEM)}, "", &k.ecPriv.PublicKey,
			[]string{"--ecdsa-public-keyfile", writeFile(t, "ec.pub", k.ecPubPEM)}},
	}
	for _, r := range runners() {
		for _, kd := range kinds {
			t.Run(r.name+"/"+kd.name, func(t *testing.T) {
				before := time.Now().Unix()
				args := append([]string{"generate", "--auth-config", acPath, "--issuer", iss, "--token-duration", "2h"}, kd.keyArgs...)
				res := r.run(t, kd.stdin, args...)
				after := time.Now().Unix()
				if res.code != 0 {
					t.Fatalf("generate: %s", res)
				}
				token := strings.TrimSpace(res.stdout)
				if strings.Count(res.stdout, "\n") != 1 || strings.Count(token, ".") != 2 {
					t.Fatalf("stdout is not one JWT line: %q", res.stdout)
				}
				claims := parseIndependently(t, token, kd.alg, kd.verify)
				// Exactly the claims openstorage's auth.Token writes.
				if got := keysOf(claims); got != "email,exp,groups,iat,iss,name,roles,sub" {
					t.Errorf("claim keys = %s", got)
				}
				if claims["iss"] != iss || claims["sub"] != "test-sub" || claims["name"] != "Test" || claims["email"] != "123@abc.com" {
					t.Errorf("claims = %v", claims)
				}
				iat, _ := claims["iat"].(json.Number).Int64()
				exp, _ := claims["exp"].(json.Number).Int64()
				if iat < before || iat > after {
					t.Errorf("iat %d not within [%d, %d] (openstorage's generator does not backdate)", iat, before, after)
				}
				if exp-iat < 2*3600-1 || exp-iat > 2*3600+1 {
					t.Errorf("exp-iat = %d, want 7200", exp-iat)
				}
				// And the checker (openstorage's verifier) accepts it.
				v := r.run(t, token, append([]string{"verify", "--issuer", iss}, kd.peerArgs...)...)
				if v.code != 0 {
					t.Fatalf("verify the generated token: %s", v)
				}
				acc := decodeAccepted(t, v.stdout)
				if acc["alg"] != kd.alg {
					t.Errorf("alg = %v, want %s", acc["alg"], kd.alg)
				}
			})
		}
	}
}

// TestGenerateOpenstorageQuirks pins behaviours of openstorage's generator
// that a drop-in replacement has to reproduce or knowingly differ from.
func TestGenerateOpenstorageQuirks(t *testing.T) {
	k := getKeys()
	gen := func(t *testing.T, authConfig string, extra ...string) (map[string]interface{}, result) {
		t.Helper()
		args := append([]string{"generate", "--auth-config", writeFile(t, "ac.yml", []byte(authConfig)),
			"--issuer", iss, "--shared-secret-file", writeFile(t, "s", k.secret)}, extra...)
		res := inProcess(t, "", args...)
		if res.code != 0 {
			return nil, res
		}
		return parseIndependently(t, strings.TrimSpace(res.stdout), "HS256", k.secret), res
	}

	t.Run("empty sub becomes base64 of openstorage.io/name/email", func(t *testing.T) {
		c, res := gen(t, "name: Test\nemail: 123@abc.com\n")
		if c == nil {
			t.Fatal(res)
		}
		want := base64.StdEncoding.EncodeToString([]byte("openstorage.io/Test/123@abc.com"))
		if c["sub"] != want {
			t.Errorf("sub = %v, want %s", c["sub"], want)
		}
	})
	t.Run("no roles are written as null, no groups are omitted", func(t *testing.T) {
		c, res := gen(t, "name: Test\nemail: 123@abc.com\nsub: s\n")
		if c == nil {
			t.Fatal(res)
		}
		if v, ok := c["roles"]; !ok || v != nil {
			t.Errorf("roles = %#v (present=%v), want JSON null", v, ok)
		}
		if _, ok := c["groups"]; ok {
			t.Errorf("groups present: %v", c["groups"])
		}
	})
	t.Run("an empty groups list is written", func(t *testing.T) {
		c, res := gen(t, "name: Test\nemail: e\nsub: s\ngroups: []\n")
		if c == nil {
			t.Fatal(res)
		}
		if g, ok := c["groups"].([]interface{}); !ok || len(g) != 0 {
			t.Errorf("groups = %#v, want []", c["groups"])
		}
	})
	t.Run("an issuer key in the auth-config overrides --issuer", func(t *testing.T) {
		c, res := gen(t, "name: Test\nemail: e\nsub: s\nissuer: from-yaml\n")
		if c == nil {
			t.Fatal(res)
		}
		if c["iss"] != "from-yaml" {
			t.Errorf("iss = %v, want from-yaml", c["iss"])
		}
	})
	t.Run("--iat-subtract backdates iat", func(t *testing.T) {
		before := time.Now().Add(-10 * time.Minute).Unix()
		c, res := gen(t, sampleAuthConfig, "--iat-subtract", "10m")
		if c == nil {
			t.Fatal(res)
		}
		iat, _ := c["iat"].(json.Number).Int64()
		if iat < before || iat > before+2 {
			t.Errorf("iat = %d, want about %d", iat, before)
		}
	})
	t.Run("shared secret wins over RSA and ECDSA keys", func(t *testing.T) {
		c, res := gen(t, sampleAuthConfig, "--rsa-private-keyfile", writeFile(t, "r", k.rsaPrivPEM))
		if c == nil {
			t.Fatal(res) // parseIndependently demanded HS256
		}
	})

	refusals := []struct {
		name, authConfig string
		extra            []string
		code             int
		msg              string
	}{
		{"bad duration", sampleAuthConfig, []string{"--token-duration", "1w"}, 1, "Unable to parse duration"},
		{"https issuer", sampleAuthConfig, []string{"--issuer", "https://portworx.com"}, 1, "issuer cannot contain http:// or https://"},
		{"roles as a scalar", "name: a\nemail: b\nroles: system.admin\n", nil, 1, "Failed to parse"},
	}
	for _, c := range refusals {
		t.Run("refuses "+c.name, func(t *testing.T) {
			_, res := gen(t, c.authConfig, c.extra...)
			if res.code != c.code || !strings.Contains(res.stderr, c.msg) || res.stdout != "" {
				t.Errorf("want exit %d with %q, got %s", c.code, c.msg, res)
			}
		})
	}

	t.Run("no key is a usage error", func(t *testing.T) {
		res := inProcess(t, "", "generate", "--auth-config", writeFile(t, "ac.yml", []byte(sampleAuthConfig)), "--issuer", iss)
		if res.code != 2 || !strings.Contains(res.stderr, "Must provide a secret key to sign token") {
			t.Errorf("got %s", res)
		}
	})
	t.Run("an unreadable key file is a usage error, an unparsable one a refusal", func(t *testing.T) {
		ac := writeFile(t, "ac.yml", []byte(sampleAuthConfig))
		res := inProcess(t, "", "generate", "--auth-config", ac, "--issuer", iss, "--rsa-private-keyfile", "/nonexistent/rsa.pem")
		if res.code != 2 {
			t.Errorf("missing file: got %s", res)
		}
		res = inProcess(t, "", "generate", "--auth-config", ac, "--issuer", iss, "--ecdsa-private-keyfile", writeFile(t, "bad.pem", []byte("nope")))
		if res.code != 1 || !strings.Contains(res.stderr, "Failed to parse ECDSA file") {
			t.Errorf("bad PEM: got %s", res)
		}
	})
	t.Run("missing --issuer is a usage error", func(t *testing.T) {
		res := inProcess(t, "", "generate", "--auth-config", writeFile(t, "ac.yml", []byte(sampleAuthConfig)),
			"--shared-secret-file", writeFile(t, "s", k.secret))
		if res.code != 2 {
			t.Errorf("got %s", res)
		}
	})
}

func TestVersion(t *testing.T) {
	res := viaBinary(t, "", "version")
	if res.code != 0 {
		t.Fatal(res)
	}
	var v map[string]string
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v["openstorage"], "v1.0.1-0.20240416193513-1e07b4359307") || v["golang-jwt"] != "v4.3.0" {
		t.Errorf("versions = %v", v)
	}
	if res := inProcess(t, "", "bogus"); res.code != 2 {
		t.Errorf("unknown subcommand: %s", res)
	}
}

// Verify must accept exactly what openstorage's generator writes, including
// a token with roles null (openstorage's own output when roles is unset).
func TestVerifyAcceptsGeneratorOutput(t *testing.T) {
	k := getKeys()
	tok, err := Generate(GenerateConfig{AuthConfig: []byte("name: n\nemail: e\nsub: s\n"), Issuer: iss,
		SharedSecret: k.secret, TokenDuration: "1h"})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := Verify(context.Background(), VerifyConfig{Issuers: []string{iss}, SharedSecret: k.secret}, tok)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Roles != nil || acc.Subject != "s" {
		t.Errorf("claims = %+v", acc.Claims)
	}
}
