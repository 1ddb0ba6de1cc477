package peer

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func buildScript(t *testing.T) string {
	t.Helper()
	_, thisFile, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(filepath.Dir(thisFile)), "build.sh")
}

// TestBuildScript runs build.sh twice into a fresh cache directory: the first
// run builds, the second answers the same cached path, and the binary works.
func TestBuildScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not available")
	}
	cache := t.TempDir()
	run := func() string {
		cmd := exec.Command("bash", buildScript(t))
		cmd.Env = append(os.Environ(), "PXTOKEN_CACHE_DIR="+cache)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("build.sh: %v\n%s", err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	first := run()
	if !strings.HasPrefix(first, filepath.Join(cache, "bin", "pxtoken-peer-")) {
		t.Fatalf("build.sh printed %q, want a path under %s/bin", first, cache)
	}
	if second := run(); second != first {
		t.Errorf("second run printed %q, want cached %q", second, first)
	}
	out, err := exec.Command(first, "version").Output()
	if err != nil || !strings.Contains(string(out), `"openstorage":"v1.0.1-0.20240416193513-1e07b4359307"`) {
		t.Errorf("cached binary version: %v %s", err, out)
	}
}

// TestBuildScriptWithoutGo checks the message when Go is missing and nothing
// is cached.
func TestBuildScriptWithoutGo(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not available")
	}
	// A PATH with the basic tools but no go.
	dir := t.TempDir()
	for _, tool := range []string{"dirname", "sha256sum", "shasum", "cut", "find", "sed", "sort", "mkdir", "mktemp"} {
		if p, err := exec.LookPath(tool); err == nil {
			if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(bash, buildScript(t))
	cmd.Env = []string{"PATH=" + dir, "HOME=" + t.TempDir(), "PXTOKEN_CACHE_DIR=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("build.sh succeeded without go: %s", out)
	}
	if !strings.Contains(string(out), "go not found") {
		t.Errorf("output %q lacks a clear 'go not found' message", out)
	}
}
