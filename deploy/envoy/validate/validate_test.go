package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The production config and every file in testdata/good must pass.
func TestGoodConfigsPass(t *testing.T) {
	files, _ := filepath.Glob("testdata/good/*.yaml")
	files = append(files, filepath.Join("..", "envoy.yaml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if probs := ValidateYAML(data, Options{}); len(probs) != 0 {
				for _, p := range probs {
					t.Errorf("%s: %s", f, p)
				}
			}
		})
	}
}

// Every file in testdata/bad must fail, and the problems must mention each "# expect:" text
// from the file's header (the path and the reason), so a file cannot pass the test by failing
// for some other, unintended reason.
func TestBadConfigsFail(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 10 {
		t.Fatalf("expected the bad variants in testdata/bad, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var expects []string
			for _, line := range strings.Split(string(data), "\n") {
				if e, ok := strings.CutPrefix(line, "# expect: "); ok {
					expects = append(expects, strings.TrimSpace(e))
				}
			}
			if len(expects) == 0 {
				t.Fatalf("%s has no '# expect:' line", f)
			}
			probs := ValidateYAML(data, Options{})
			if len(probs) == 0 {
				t.Fatalf("%s: accepted, but it is invalid", f)
			}
			var all []string
			for _, p := range probs {
				all = append(all, p.String())
			}
			joined := strings.Join(all, "\n")
			for _, e := range expects {
				if !strings.Contains(joined, e) {
					t.Errorf("%s: no problem mentions %q; got:\n%s", f, e, joined)
				}
			}
			t.Logf("%s:\n%s", filepath.Base(f), joined)
		})
	}
}

// Deprecated fields are errors by default and accepted on request.
func TestAllowDeprecated(t *testing.T) {
	data, err := os.ReadFile("testdata/bad/deprecated_vhost_cors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if probs := ValidateYAML(data, Options{AllowDeprecated: true}); len(probs) != 0 {
		t.Fatalf("with AllowDeprecated: %v", probs)
	}
}

// The walker must reach Any values nested inside other Any values (HCM -> route config ->
// typed_per_filter_config): break the CorsPolicy's origin matcher there.
func TestNestedAnyIsValidated(t *testing.T) {
	data, err := os.ReadFile("testdata/good/minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), `{ exact: "https://dashboard.example.org" }`, `{ safe_regex: { regex: "" } }`, 1)
	if bad == string(data) {
		t.Fatal("fixture changed: replacement did not apply")
	}
	probs := ValidateYAML([]byte(bad), Options{})
	if len(probs) == 0 {
		t.Fatal("empty regex inside CorsPolicy (Any inside Any) was accepted")
	}
	if !strings.Contains(probs[0].Path, "<envoy.extensions.filters.http.cors.v3.CorsPolicy>") {
		t.Errorf("problem not located inside the CorsPolicy: %v", probs)
	}
}

func TestPGVFieldToPath(t *testing.T) {
	for in, want := range map[string]string{
		"StaticResources":      "static_resources",
		"Listeners[0]":         "listeners[0]",
		"Http2ProtocolOptions": "http2_protocol_options",
		"TypedPerFilterConfig[envoy.filters.http.cors]": "typed_per_filter_config[envoy.filters.http.cors]",
	} {
		if got := pgvFieldToPath(in); got != want {
			t.Errorf("pgvFieldToPath(%q) = %q, want %q", in, got, want)
		}
	}
}
