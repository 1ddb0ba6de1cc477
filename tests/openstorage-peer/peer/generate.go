package peer

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/libopenstorage/openstorage/pkg/auth"
	yaml "gopkg.in/yaml.v2"
)

// GenerateConfig holds the inputs of openstorage's token generator
// (cmd/osd-token-generator), whose flags `pxctl auth token generate` shares.
type GenerateConfig struct {
	AuthConfig     []byte // the --auth-config YAML
	AuthConfigName string // its file name, for messages
	Issuer         string
	SharedSecret   []byte
	RsaPrivPath    string
	EcdsaPrivPath  string
	TokenDuration  string
	IATSubtract    time.Duration
}

// Generate follows openstorage's cmd/osd-token-generator/main.go step by
// step, calling the same pkg/auth functions in the same order:
//   - the issuer may not contain http:// or https://;
//   - claims start as auth.Claims{Issuer: issuer} and the auth-config YAML is
//     unmarshalled over them with gopkg.in/yaml.v2 (so a YAML key `issuer`
//     overrides --issuer, exactly as in openstorage: Claims.Issuer has no yaml
//     tag and yaml.v2 falls back to the lower-cased field name);
//   - an empty sub becomes base64("openstorage.io/" + name + "/" + email);
//   - exp = now + auth.ParseToDuration(duration), iat = now - IATSubtract
//     (openstorage's generator leaves IATSubtract at 0);
//   - the key is chosen shared secret, then RSA, then ECDSA, and signed with
//     auth.NewSignature* and auth.Token.
//
// The error texts are the generator's own.
func Generate(cfg GenerateConfig) (string, error) {
	if strings.Contains(cfg.Issuer, "http://") || strings.Contains(cfg.Issuer, "https://") {
		return "", fmt.Errorf("%s issuer cannot contain http:// or https://", cfg.Issuer)
	}
	claims := &auth.Claims{Issuer: cfg.Issuer}
	if err := yaml.Unmarshal(cfg.AuthConfig, claims); err != nil {
		return "", fmt.Errorf("Failed to parse %s: %v", cfg.AuthConfigName, err)
	}
	if len(claims.Subject) == 0 {
		claims.Subject = base64.StdEncoding.EncodeToString([]byte("openstorage.io/" +
			claims.Name + "/" +
			claims.Email))
	}

	options := &auth.Options{IATSubtract: cfg.IATSubtract}
	expDuration, err := auth.ParseToDuration(cfg.TokenDuration)
	if err != nil {
		return "", fmt.Errorf("Unable to parse duration")
	}
	options.Expiration = time.Now().Add(expDuration).Unix()

	var signature *auth.Signature
	if len(cfg.SharedSecret) != 0 {
		signature, err = auth.NewSignatureSharedSecret(string(cfg.SharedSecret))
	} else if len(cfg.RsaPrivPath) != 0 {
		signature, err = auth.NewSignatureRSAFromFile(cfg.RsaPrivPath)
	} else if len(cfg.EcdsaPrivPath) != 0 {
		signature, err = auth.NewSignatureECDSAFromFile(cfg.EcdsaPrivPath)
	} else {
		return "", usagef("Must provide a secret key to sign token")
	}
	if err != nil {
		return "", fmt.Errorf("Failed: %v", err)
	}

	token, err := auth.Token(claims, signature, options)
	if err != nil {
		return "", fmt.Errorf("Failed to create token: %v", err)
	}
	return token, nil
}

func runGenerate(args []string, stdio IO) error {
	fs := newFlagSet("generate", stdio)
	authConfig := fs.String("auth-config", "", "pxctl/openstorage auth-config YAML (name, email, sub, roles, groups)")
	issuer := fs.String("issuer", "", "token issuer (required)")
	secretFile := fs.String("shared-secret-file", "", "file whose exact bytes are the HMAC shared secret (- = stdin)")
	rsaFile := fs.String("rsa-private-keyfile", "", "RSA private key PEM file (RS256)")
	ecdsaFile := fs.String("ecdsa-private-keyfile", "", "ECDSA private key PEM file (ES256)")
	duration := fs.String("token-duration", "1d", "token lifetime in openstorage's grammar <digits>(s|m|h|d|y)")
	iatSubtract := fs.Duration("iat-subtract", 0, "backdate iat by this Go duration (auth.Options.IATSubtract; openstorage's generator uses 0)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *authConfig == "" {
		return usagef("generate: --auth-config is required")
	}
	if *issuer == "" {
		return usagef("generate: --issuer is required")
	}
	data, err := os.ReadFile(*authConfig)
	if err != nil {
		return usagef("Failed to read %s: %v", *authConfig, err)
	}
	// Unreadable key files are a usage error here; openstorage reads them
	// again itself, and a file it cannot parse is its refusal (exit 1).
	if _, err := readKeyFile("rsa-private-keyfile", *rsaFile); err != nil {
		return err
	}
	if _, err := readKeyFile("ecdsa-private-keyfile", *ecdsaFile); err != nil {
		return err
	}
	cfg := GenerateConfig{
		AuthConfig:     data,
		AuthConfigName: *authConfig,
		Issuer:         *issuer,
		RsaPrivPath:    *rsaFile,
		EcdsaPrivPath:  *ecdsaFile,
		TokenDuration:  *duration,
		IATSubtract:    *iatSubtract,
	}
	switch *secretFile {
	case "":
	case "-":
		if cfg.SharedSecret, err = io.ReadAll(stdio.Stdin); err != nil {
			return usagef("--shared-secret-file: read stdin: %v", err)
		}
		if len(cfg.SharedSecret) == 0 {
			return usagef("--shared-secret-file: stdin is empty")
		}
	default:
		if cfg.SharedSecret, err = readKeyFile("shared-secret-file", *secretFile); err != nil {
			return err
		}
	}
	token, err := Generate(cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdio.Stdout, token)
	return err
}
