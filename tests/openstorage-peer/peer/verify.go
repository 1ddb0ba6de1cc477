package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	jwt "github.com/golang-jwt/jwt/v4"
	"github.com/libopenstorage/openstorage/pkg/auth"
)

// VerifyConfig is what a Portworx node is configured with: the issuers it
// trusts and the keys it verifies with (the same keys for every issuer here).
type VerifyConfig struct {
	Issuers       []string
	SharedSecret  []byte
	RsaPublicPem  []byte
	ECDSPublicPem []byte
	UsernameClaim auth.UsernameClaimType
}

// Accepted is the JSON printed for an accepted token: openstorage's Claims
// (iss, sub, name, email, roles, groups with its own json tags), plus the raw
// iat/exp values exactly as written in the token payload, the header's alg,
// the username the verifier derived, and the whole raw payload.
type Accepted struct {
	*auth.Claims
	Iat      json.RawMessage `json:"iat"`
	Exp      json.RawMessage `json:"exp"`
	Alg      string          `json:"alg"`
	Username string          `json:"username"`
	Payload  json.RawMessage `json:"payload"`
}

// Rejection is a token refused by the verifier; its message is openstorage's
// (or Portworx's server interceptor's) own.
type Rejection struct{ msg string }

func (r *Rejection) Error() string { return r.msg }

// Verify checks rawToken exactly as Portworx's SDK server interceptor does
// (api/server/sdk/server_interceptors.go, auth()): read the issuer without
// verification, look it up by exact string among the trusted issuers, then
// authenticate with openstorage's JwtAuthenticator. A *Rejection is returned
// for a refused token; any other error is a configuration error.
func Verify(ctx context.Context, cfg VerifyConfig, rawToken string) (*Accepted, error) {
	if len(cfg.Issuers) == 0 {
		return nil, usagef("verify: at least one --issuer is required")
	}
	authenticator, err := auth.NewJwtAuth(&auth.JwtAuthConfig{
		SharedSecret:  cfg.SharedSecret,
		RsaPublicPem:  cfg.RsaPublicPem,
		ECDSPublicPem: cfg.ECDSPublicPem,
		UsernameClaim: cfg.UsernameClaim,
	})
	if err != nil {
		return nil, usagef("%v", err)
	}

	issuer, err := auth.TokenIssuer(rawToken)
	if err != nil {
		// Portworx answers "Unable to obtain token issuer from authorization
		// token"; openstorage's detail is kept, minus the token it may quote.
		detail := err.Error()
		if rawToken != "" {
			detail = strings.ReplaceAll(detail, rawToken, "<token>")
		}
		return nil, &Rejection{msg: "Unable to obtain token issuer from authorization token: " + detail}
	}
	trusted := false
	for _, iss := range cfg.Issuers {
		if iss == issuer { // exact string match, as Portworx's map lookup
			trusted = true
			break
		}
	}
	if !trusted {
		return nil, &Rejection{msg: fmt.Sprintf("%s is not a trusted issuer", issuer)}
	}

	claims, err := authenticator.AuthenticateToken(ctx, rawToken)
	if err != nil {
		return nil, &Rejection{msg: err.Error()}
	}

	out := &Accepted{Claims: claims, Username: authenticator.Username(claims)}
	parts := strings.Split(rawToken, ".")
	if hdr, err := jwt.DecodeSegment(parts[0]); err == nil {
		var h struct {
			Alg string `json:"alg"`
		}
		if json.Unmarshal(hdr, &h) == nil {
			out.Alg = h.Alg
		}
	}
	payload, err := jwt.DecodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode accepted payload: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("decode accepted payload: %v", err)
	}
	out.Iat = raw["iat"]
	out.Exp = raw["exp"]
	var compact bytes.Buffer
	if err := json.Compact(&compact, payload); err != nil {
		return nil, fmt.Errorf("decode accepted payload: %v", err)
	}
	out.Payload = compact.Bytes()
	return out, nil
}

func runVerify(args []string, stdio IO) error {
	fs := newFlagSet("verify", stdio)
	var issuers stringList
	fs.Var(&issuers, "issuer", "trusted issuer, exact string (repeatable; at least one)")
	secretFile := fs.String("shared-secret-file", "", "file whose exact bytes are the HMAC shared secret")
	rsaFile := fs.String("rsa-public-keyfile", "", "RSA public key PEM file")
	ecdsaFile := fs.String("ecdsa-public-keyfile", "", "ECDSA public key PEM file")
	usernameClaim := fs.String("username-claim", "sub", "claim used as the username: sub, email or name")
	now := fs.String("now", "", "verify as if the clock read this Unix time (seconds); default: the real clock")
	if err := parseFlags(fs, args); err != nil {
		return err
	}

	cfg := VerifyConfig{Issuers: issuers}
	switch *usernameClaim {
	case "sub":
		cfg.UsernameClaim = auth.UsernameClaimTypeSubject
	case "email":
		cfg.UsernameClaim = auth.UsernameClaimTypeEmail
	case "name":
		cfg.UsernameClaim = auth.UsernameClaimTypeName
	default:
		return usagef("verify: --username-claim must be sub, email or name, not %q", *usernameClaim)
	}
	var err error
	if cfg.SharedSecret, err = readKeyFile("shared-secret-file", *secretFile); err != nil {
		return err
	}
	if cfg.RsaPublicPem, err = readKeyFile("rsa-public-keyfile", *rsaFile); err != nil {
		return err
	}
	if cfg.ECDSPublicPem, err = readKeyFile("ecdsa-public-keyfile", *ecdsaFile); err != nil {
		return err
	}
	if *now != "" {
		secs, err := strconv.ParseInt(*now, 10, 64)
		if err != nil {
			return usagef("verify: --now must be Unix seconds: %v", err)
		}
		// jwt.TimeFunc is the clock golang-jwt (and so openstorage) validates
		// exp and iat against.
		saved := jwt.TimeFunc
		jwt.TimeFunc = func() time.Time { return time.Unix(secs, 0) }
		defer func() { jwt.TimeFunc = saved }()
	}

	in, err := io.ReadAll(stdio.Stdin)
	if err != nil {
		return usagef("verify: read token from stdin: %v", err)
	}
	token := strings.TrimSpace(string(in))
	if token == "" {
		return usagef("verify: no token on stdin")
	}

	out, err := Verify(context.Background(), cfg, token)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdio.Stdout)
	return enc.Encode(out)
}

// readKeyFile reads a key file's exact bytes; an empty path means "not given".
func readKeyFile(flagName, path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s: %v", flagName, err)
	}
	if len(data) == 0 {
		return nil, usagef("--%s: %s is empty", flagName, path)
	}
	return data, nil
}
