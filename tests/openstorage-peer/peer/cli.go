// Package peer implements pxtoken-peer, the project's reference checker for
// Portworx tokens. Every decision about a token (issuer, signature, time
// window, required claims, username claim), every duration parse and every
// generated token is made by openstorage's own pkg/auth code
// (github.com/libopenstorage/openstorage, pinned in go.mod); this package only
// reads inputs, calls that code the way Portworx does, and prints the result.
//
// Secrets never travel in argv: keys are read from files (or stdin for the
// generator's shared secret) and tokens from stdin.
package peer

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes of the CLI contract.
const (
	ExitOK       = 0 // success (verify: token accepted)
	ExitRejected = 1 // verify: token rejected; generate: openstorage refused
	ExitUsage    = 2 // bad usage or unreadable/invalid configuration
)

const usageText = `pxtoken-peer: reference checker built on openstorage's own pkg/auth

Usage:
  pxtoken-peer verify --issuer ISS [--issuer ISS2 ...] [--shared-secret-file F]
                      [--rsa-public-keyfile F] [--ecdsa-public-keyfile F]
                      [--username-claim sub|email|name] [--now UNIX_SECONDS] < token
  pxtoken-peer duration [--] STRING... | -      (- reads one string per line from stdin)
  pxtoken-peer generate --auth-config FILE --issuer ISS
                      (--shared-secret-file F|- | --rsa-private-keyfile F | --ecdsa-private-keyfile F)
                      [--token-duration 1d] [--iat-subtract GO_DURATION]
  pxtoken-peer version

Exit codes: 0 success, 1 token rejected / generation refused, 2 usage or configuration error.
`

// usageError marks an error that must exit with ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...interface{}) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// IO bundles the process streams so the CLI can run in-process in tests.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs the CLI with args (without the program name) and returns the exit code.
func Main(args []string, stdio IO) int {
	if len(args) == 0 {
		fmt.Fprint(stdio.Stderr, usageText)
		return ExitUsage
	}
	var err error
	switch args[0] {
	case "verify":
		err = runVerify(args[1:], stdio)
	case "duration":
		err = runDuration(args[1:], stdio)
	case "generate":
		err = runGenerate(args[1:], stdio)
	case "version":
		err = runVersion(args[1:], stdio)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdio.Stdout, usageText)
		return ExitOK
	default:
		fmt.Fprintf(stdio.Stderr, "pxtoken-peer: unknown subcommand %q\n\n%s", args[0], usageText)
		return ExitUsage
	}
	return exitFor(err, stdio)
}

func exitFor(err error, stdio IO) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	// Messages are printed on one line, unprefixed, so callers can compare
	// them with openstorage's own wording.
	fmt.Fprintln(stdio.Stderr, oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitRejected
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", " ")
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stdio IO) *flag.FlagSet {
	fs := flag.NewFlagSet("pxtoken-peer "+name, flag.ContinueOnError)
	fs.SetOutput(stdio.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(stdio.Stderr, "Usage of pxtoken-peer %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and refuses positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%v", err)
	}
	if fs.NArg() != 0 {
		return usagef("%s: unexpected argument %q (secrets and tokens are read from files or stdin, never argv)", fs.Name(), fs.Arg(0))
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
