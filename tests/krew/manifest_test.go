// Checks of the committed krew manifest and its template against krew's own Plugin type,
// decoded strictly (krew itself ignores unknown keys, so a misspelt key would pass it
// silently). Installing each platform with krew's validator is tests/e2e/krew.rs's job
// (cargo test).
package krew_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

var platforms = []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}

func repoFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decode(t *testing.T, name string) index.Plugin {
	t.Helper()
	var p index.Plugin
	if err := yaml.UnmarshalStrict(repoFile(t, name), &p); err != nil {
		t.Fatalf("%s does not decode strictly as krew's Plugin: %v", name, err)
	}
	return p
}

func cargoVersion(t *testing.T) string {
	m := regexp.MustCompile(`(?m)^version = "([^"]+)"$`).FindSubmatch(repoFile(t, "Cargo.toml"))
	if m == nil {
		t.Fatal("no version in Cargo.toml")
	}
	return string(m[1])
}

func checkPlugin(t *testing.T, name string, p index.Plugin) {
	if p.Kind != "Plugin" || p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || p.Name != "pxtoken" {
		t.Errorf("%s: kind %q apiVersion %q name %q", name, p.Kind, p.APIVersion, p.Name)
	}
	s := p.Spec
	if strings.Contains(s.ShortDescription, "\n") || len(s.ShortDescription) > 50 || len(s.ShortDescription) < 20 {
		t.Errorf("%s: shortDescription should be one line of about 45 characters: %q", name, s.ShortDescription)
	}
	if s.Description == "" || !strings.HasPrefix(s.Homepage, "https://") {
		t.Errorf("%s: description or homepage missing", name)
	}
	if !strings.Contains(s.Caveats, "kubectl_complete-pxtoken") {
		t.Errorf("%s: the caveats do not explain the completion companion", name)
	}
	var got []string
	for _, pl := range s.Platforms {
		labels := pl.Selector.MatchLabels
		platform := labels["os"] + "/" + labels["arch"]
		got = append(got, platform)
		exe := ""
		if labels["os"] == "windows" {
			exe = ".exe"
		}
		if pl.Bin != "kubectl-pxtoken"+exe {
			t.Errorf("%s %s: bin %q", name, platform, pl.Bin)
		}
		from := map[string]bool{}
		for _, f := range pl.Files {
			from[f.From] = true
		}
		for _, want := range []string{"kubectl-pxtoken" + exe, "kubectl_complete-pxtoken" + exe, "LICENSE", "man"} {
			if !from[want] {
				t.Errorf("%s %s: %s is not installed (files: %v)", name, platform, want, pl.Files)
			}
		}
		ext := ".tar.gz"
		if exe != "" {
			ext = ".zip"
		}
		if !strings.HasSuffix(pl.URI, "_"+labels["os"]+"_"+labels["arch"]+ext) {
			t.Errorf("%s %s: uri %q", name, platform, pl.URI)
		}
	}
	if strings.Join(got, " ") != strings.Join(platforms, " ") {
		t.Errorf("%s: platforms %v, want %v", name, got, platforms)
	}
}

func TestKrewManifestIsTheCurrentVersion(t *testing.T) {
	p := decode(t, "krew-manifest.yaml")
	checkPlugin(t, "krew-manifest.yaml", p)
	version := "v" + cargoVersion(t)
	if p.Spec.Version != version {
		t.Errorf("krew-manifest.yaml: version %q, Cargo.toml says %q", p.Spec.Version, version)
	}
	sha := regexp.MustCompile(`^[a-f0-9]{64}$`)
	for _, pl := range p.Spec.Platforms {
		if !sha.MatchString(pl.Sha256) {
			t.Errorf("sha256 %q", pl.Sha256)
		}
		if !strings.Contains(pl.URI, "/releases/download/"+version+"/kubectl-pxtoken_"+version+"_") {
			t.Errorf("uri %q is not the %s release's", pl.URI, version)
		}
	}
}

func TestPluginTemplate(t *testing.T) {
	p := decode(t, "plugin.yaml")
	checkPlugin(t, "plugin.yaml", p)
	if p.Spec.Version != "${TAG}" {
		t.Errorf("plugin.yaml: version %q, want the ${TAG} placeholder", p.Spec.Version)
	}
	for _, pl := range p.Spec.Platforms {
		upper := strings.ToUpper(pl.Selector.MatchLabels["os"] + "_" + pl.Selector.MatchLabels["arch"])
		if pl.Sha256 != "${SHA256_"+upper+"}" || !strings.HasPrefix(pl.URI, "${BASE_URL}/kubectl-pxtoken_${TAG}_") {
			t.Errorf("plugin.yaml %s: uri %q sha256 %q", upper, pl.URI, pl.Sha256)
		}
	}
}
