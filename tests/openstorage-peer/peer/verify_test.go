package peer

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
)

const iss = "portworx.com"

type verifyCase struct {
	name     string
	token    func(t *testing.T, k *keys) string
	args     func(t *testing.T, k *keys) []string
	wantCode int
	// wantErr is a substring of stderr (rejections print the verifier's own message).
	wantErr string
	check   func(t *testing.T, acc map[string]interface{})
}

func secretArgs(t *testing.T, k *keys) []string {
	return []string{"--issuer", iss, "--shared-secret-file", writeFile(t, "secret", k.secret)}
}

func hs(mod func(c jwt.MapClaims)) func(t *testing.T, k *keys) string {
	return func(t *testing.T, k *keys) string {
		c := goodClaims(iss)
		if mod != nil {
			mod(c)
		}
		return mint(t, jwt.SigningMethodHS256, k.secret, c)
	}
}

func verifyCases() []verifyCase {
	return []verifyCase{
		{
			name:     "HS256 right secret and trusted issuer is accepted",
			token:    hs(nil),
			args:     secretArgs,
			wantCode: 0,
			check: func(t *testing.T, acc map[string]interface{}) {
				want := map[string]interface{}{
					"iss": iss, "sub": "6f1b8a7e-5d4c-4b3a-9f2e-1d0c9b8a7f6e", "name": "team-a",
					"email": "team-a@" + iss, "alg": "HS256",
					"username": "6f1b8a7e-5d4c-4b3a-9f2e-1d0c9b8a7f6e",
				}
				for k, v := range want {
					if acc[k] != v {
						t.Errorf("%s = %v, want %v", k, acc[k], v)
					}
				}
				if roles, _ := json.Marshal(acc["roles"]); string(roles) != `["system.user"]` {
					t.Errorf("roles = %s", roles)
				}
				if _, ok := acc["groups"]; ok {
					t.Errorf("groups present although the token has none: %v", acc["groups"])
				}
				for _, f := range []string{"iat", "exp"} {
					n, ok := acc[f].(json.Number)
					if !ok {
						t.Fatalf("%s is %T, want a JSON number", f, acc[f])
					}
					payloadN := acc["payload"].(map[string]interface{})[f]
					if n != payloadN {
						t.Errorf("%s = %v, payload has %v", f, n, payloadN)
					}
				}
			},
		},
		{
			name: "HS256 wrong secret is rejected",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodHS256, []byte("not-the-secret"), goodClaims(iss))
			},
			args:     secretArgs,
			wantCode: 1, wantErr: "signature is invalid",
		},
		{
			name: "untrusted issuer is rejected with Portworx's message",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodHS256, k.secret, goodClaims("evil.example"))
			},
			args:     secretArgs,
			wantCode: 1, wantErr: "evil.example is not a trusted issuer",
		},
		{
			name: "issuer match is exact (case and scheme matter)",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodHS256, k.secret, goodClaims("https://Portworx.com"))
			},
			args:     secretArgs,
			wantCode: 1, wantErr: "https://Portworx.com is not a trusted issuer",
		},
		{
			name: "any of several trusted issuers is accepted",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodHS256, k.secret, goodClaims("operator.portworx.io"))
			},
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--issuer", "operator.portworx.io")
			},
			wantCode: 0,
		},
		{
			name:     "expired exp is rejected",
			token:    hs(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Token is expired",
		},
		{
			name:     "iat in the future is rejected",
			token:    hs(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Token used before issued",
		},
		{
			name:     "missing sub is rejected",
			token:    hs(func(c jwt.MapClaims) { delete(c, "sub") }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Required claim sub missing from token",
		},
		{
			name:     "empty sub is rejected by the username check",
			token:    hs(func(c jwt.MapClaims) { c["sub"] = "" }),
			args:     secretArgs,
			wantCode: 1, wantErr: "the value of sub in the token cannot be empty",
		},
		{
			name:     "missing name is rejected",
			token:    hs(func(c jwt.MapClaims) { delete(c, "name") }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Required claim name missing from token",
		},
		{
			name:     "missing email is rejected",
			token:    hs(func(c jwt.MapClaims) { delete(c, "email") }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Required claim email missing from token",
		},
		{
			name:     "missing iat is rejected",
			token:    hs(func(c jwt.MapClaims) { delete(c, "iat") }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Required claim iat missing from token",
		},
		// Quirks of openstorage + golang-jwt v4.3.0 that a reimplementation
		// of the verifier has to know about.
		{
			name:     "exp 0 is accepted: golang-jwt treats it as absent",
			token:    hs(func(c jwt.MapClaims) { c["exp"] = 0 }),
			args:     secretArgs,
			wantCode: 0,
			check: func(t *testing.T, acc map[string]interface{}) {
				if acc["exp"] != json.Number("0") {
					t.Errorf("exp = %v, want raw 0", acc["exp"])
				}
			},
		},
		{
			name:     "exp as a string is rejected as expired",
			token:    hs(func(c jwt.MapClaims) { c["exp"] = "4102444800" }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Token is expired",
		},
		{
			name:     "a future nbf is rejected",
			token:    hs(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Token is not valid yet",
		},
		{
			name:     "a null name passes the required-claim presence check",
			token:    hs(func(c jwt.MapClaims) { c["name"] = nil }),
			args:     secretArgs,
			wantCode: 0,
		},
		{
			name:     "roles that are not a list make the issuer unreadable",
			token:    hs(func(c jwt.MapClaims) { c["roles"] = "system.admin" }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Unable to obtain token issuer from authorization token",
		},
		{
			name: "wrong secret and expired: the signature error is reported",
			token: func(t *testing.T, k *keys) string {
				c := goodClaims(iss)
				c["exp"] = int64(1)
				return mint(t, jwt.SigningMethodHS256, []byte("x"), c)
			},
			args:     secretArgs,
			wantCode: 1, wantErr: "signature is invalid",
		},
		{
			name:     "missing iss cannot be looked up",
			token:    hs(func(c jwt.MapClaims) { delete(c, "iss") }),
			args:     secretArgs,
			wantCode: 1, wantErr: "Unable to obtain token issuer from authorization token",
		},
		{
			name:  "username claim email: empty email is rejected",
			token: hs(func(c jwt.MapClaims) { c["email"] = "" }),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--username-claim", "email")
			},
			wantCode: 1, wantErr: "the value of email in the token cannot be empty",
		},
		{
			name:  "username claim name is reported as the username",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--username-claim", "name")
			},
			wantCode: 0,
			check: func(t *testing.T, acc map[string]interface{}) {
				if acc["username"] != "team-a" {
					t.Errorf("username = %v, want team-a", acc["username"])
				}
			},
		},
		{
			name:  "--now moves the verifier's clock past exp",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--now", "4102444800") // 2100-01-01
			},
			wantCode: 1, wantErr: "Token is expired",
		},
		{
			name:  "RS256 with the matching public key is accepted",
			token: func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodRS256, k.rsaPriv, goodClaims(iss)) },
			args: func(t *testing.T, k *keys) []string {
				return []string{"--issuer", iss, "--rsa-public-keyfile", writeFile(t, "rsa.pub", k.rsaPubPEM)}
			},
			wantCode: 0,
			check: func(t *testing.T, acc map[string]interface{}) {
				if acc["alg"] != "RS256" {
					t.Errorf("alg = %v", acc["alg"])
				}
			},
		},
		{
			name:  "RS256 with a different public key is rejected",
			token: func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodRS256, k.rsaPriv, goodClaims(iss)) },
			args: func(t *testing.T, k *keys) []string {
				return []string{"--issuer", iss, "--rsa-public-keyfile", writeFile(t, "rsa.pub", k.rsaOtherPubPEM)}
			},
			wantCode: 1, wantErr: "crypto/rsa: verification error",
		},
		{
			name:  "ES256 with the matching public key is accepted",
			token: func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodES256, k.ecPriv, goodClaims(iss)) },
			args: func(t *testing.T, k *keys) []string {
				return []string{"--issuer", iss, "--ecdsa-public-keyfile", writeFile(t, "ec.pub", k.ecPubPEM)}
			},
			wantCode: 0,
			check: func(t *testing.T, acc map[string]interface{}) {
				if acc["alg"] != "ES256" {
					t.Errorf("alg = %v", acc["alg"])
				}
			},
		},
		{
			name:  "ES256 with a different public key is rejected",
			token: func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodES256, k.ecPriv, goodClaims(iss)) },
			args: func(t *testing.T, k *keys) []string {
				return []string{"--issuer", iss, "--ecdsa-public-keyfile", writeFile(t, "ec.pub", k.ecOtherPubPEM)}
			},
			wantCode: 1, wantErr: "crypto/ecdsa: verification error",
		},
		{
			name:  "all three keys configured: each alg picks its own key",
			token: func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodES256, k.ecPriv, goodClaims(iss)) },
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k),
					"--rsa-public-keyfile", writeFile(t, "rsa.pub", k.rsaPubPEM),
					"--ecdsa-public-keyfile", writeFile(t, "ec.pub", k.ecPubPEM))
			},
			wantCode: 0,
		},
		{
			name:     "RS256 token when only a shared secret is trusted is rejected",
			token:    func(t *testing.T, k *keys) string { return mint(t, jwt.SigningMethodRS256, k.rsaPriv, goodClaims(iss)) },
			args:     secretArgs,
			wantCode: 1, wantErr: "key is of invalid type",
		},
		{
			name: "HS256 keyed with the RSA public key (alg confusion) is rejected",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodHS256, k.rsaPubPEM, goodClaims(iss))
			},
			args: func(t *testing.T, k *keys) []string {
				return []string{"--issuer", iss, "--rsa-public-keyfile", writeFile(t, "rsa.pub", k.rsaPubPEM)}
			},
			wantCode: 1, wantErr: "key is of invalid type",
		},
		{
			name: "alg none is rejected",
			token: func(t *testing.T, k *keys) string {
				return mint(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, goodClaims(iss))
			},
			args:     secretArgs,
			wantCode: 1, wantErr: "Unknown token algorithm: none",
		},
		{
			name:     "garbage is rejected without echoing it",
			token:    func(t *testing.T, k *keys) string { return "not-a-token" },
			args:     secretArgs,
			wantCode: 1, wantErr: "Unable to obtain token issuer from authorization token",
		},
		// usage and configuration errors: exit 2
		{
			name:  "no issuer is a usage error",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return []string{"--shared-secret-file", writeFile(t, "s", k.secret)}
			},
			wantCode: 2, wantErr: "at least one --issuer",
		},
		{
			name:     "no key is a configuration error",
			token:    hs(nil),
			args:     func(t *testing.T, k *keys) []string { return []string{"--issuer", iss} },
			wantCode: 2, wantErr: "no shared secret or pem files set",
		},
		{
			name:  "a positional argument (token in argv) is refused",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "eyJhbGciOi.x.y")
			},
			wantCode: 2, wantErr: "never argv",
		},
		{
			name:     "empty stdin is a usage error",
			token:    func(t *testing.T, k *keys) string { return "" },
			args:     secretArgs,
			wantCode: 2, wantErr: "no token on stdin",
		},
		{
			name:  "unknown username claim is a usage error",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--username-claim", "uid")
			},
			wantCode: 2, wantErr: "--username-claim must be",
		},
		{
			name:  "unparsable public key is a configuration error",
			token: hs(nil),
			args: func(t *testing.T, k *keys) []string {
				return append(secretArgs(t, k), "--rsa-public-keyfile", writeFile(t, "bad.pem", []byte("nope")))
			},
			wantCode: 2, wantErr: "Unable to parse rsa public key",
		},
	}
}

func decodeAccepted(t *testing.T, stdout string) map[string]interface{} {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	var acc map[string]interface{}
	if err := dec.Decode(&acc); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Errorf("stdout is not a single line: %q", stdout)
	}
	return acc
}

func TestVerify(t *testing.T) {
	k := getKeys()
	for _, r := range runners() {
		r := r
		t.Run(r.name, func(t *testing.T) {
			for _, c := range verifyCases() {
				c := c
				t.Run(c.name, func(t *testing.T) {
					token := c.token(t, k)
					args := append([]string{"verify"}, c.args(t, k)...)
					res := r.run(t, token+"\n", args...)
					if res.code != c.wantCode {
						t.Fatalf("want exit %d, got %s", c.wantCode, res)
					}
					if c.wantErr != "" && !strings.Contains(res.stderr, c.wantErr) {
						t.Errorf("stderr %q does not contain %q", res.stderr, c.wantErr)
					}
					if token != "" && strings.Contains(res.stderr, token) {
						t.Errorf("stderr echoes the token: %q", res.stderr)
					}
					if c.wantCode == 0 {
						if res.stderr != "" {
							t.Errorf("unexpected stderr on success: %q", res.stderr)
						}
						acc := decodeAccepted(t, res.stdout)
						if c.check != nil {
							c.check(t, acc)
						}
					} else {
						if res.stdout != "" {
							t.Errorf("unexpected stdout on failure: %q", res.stdout)
						}
						if strings.Count(strings.TrimRight(res.stderr, "\n"), "\n") != 0 && c.wantCode == 1 {
							t.Errorf("rejection message is not one line: %q", res.stderr)
						}
					}
				})
			}
		})
	}
}

// TestVerifyAPI checks the library entry point's error typing: rejections
// are *Rejection, configuration problems are not.
func TestVerifyAPI(t *testing.T) {
	k := getKeys()
	cfg := VerifyConfig{Issuers: []string{iss}, SharedSecret: k.secret}
	good := mint(t, jwt.SigningMethodHS256, k.secret, goodClaims(iss))
	acc, err := Verify(context.Background(), cfg, good)
	if err != nil {
		t.Fatalf("good token rejected: %v", err)
	}
	if acc.Subject != "6f1b8a7e-5d4c-4b3a-9f2e-1d0c9b8a7f6e" || acc.Alg != "HS256" {
		t.Errorf("unexpected claims: %+v", acc)
	}
	_, err = Verify(context.Background(), cfg, mint(t, jwt.SigningMethodHS256, []byte("x"), goodClaims(iss)))
	if _, ok := err.(*Rejection); !ok {
		t.Errorf("wrong secret: want *Rejection, got %T %v", err, err)
	}
	_, err = Verify(context.Background(), VerifyConfig{Issuers: []string{iss}}, good)
	if _, ok := err.(*Rejection); ok || err == nil {
		t.Errorf("no key: want a configuration error, got %T %v", err, err)
	}
}
