package peer

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
)

// Versions reports the module versions compiled into this binary, so a test
// log can say exactly which openstorage code judged a token.
func Versions() map[string]string {
	out := map[string]string{"go": runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, dep := range info.Deps {
		m := dep
		if dep.Replace != nil {
			m = dep.Replace
		}
		switch dep.Path {
		case "github.com/libopenstorage/openstorage":
			out["openstorage"] = m.Version
		case "github.com/golang-jwt/jwt/v4":
			out["golang-jwt"] = m.Version
		}
	}
	return out
}

func runVersion(args []string, stdio IO) error {
	fs := newFlagSet("version", stdio)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return json.NewEncoder(stdio.Stdout).Encode(Versions())
}
