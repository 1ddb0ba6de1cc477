// Command pxtoken-peer verifies, generates and parses Portworx tokens and
// durations with openstorage's own pkg/auth code. See tests/openstorage-peer/README.md.
package main

import (
	"os"

	"github.com/kubectl-pxtoken/kubectl-pxtoken/tests/openstorage-peer/peer"
)

func main() {
	os.Exit(peer.Main(os.Args[1:], peer.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
