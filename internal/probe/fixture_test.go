package probe

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixture is one capture from the real better-auth server
// (testdata/betterauth/capture.mjs; regenerate with `make fixtures`).
type fixture struct {
	Case         string            `json:"case"`
	Env          map[string]string `json:"env"`
	IssuerEnv    map[string]string `json:"issuer_env"`
	SessionToken string            `json:"session_token"`
	Exchanges    []struct {
		Name           string            `json:"name"`
		Method         string            `json:"method"`
		URL            string            `json:"url"`
		Status         int               `json:"status"`
		RequestHeaders map[string]string `json:"request_headers"`
		SetCookie      []string          `json:"set_cookie"`
		SetAuthToken   *string           `json:"set_auth_token"`
		Body           json.RawMessage   `json:"body"`
	} `json:"exchanges"`
	CookieHeader string `json:"cookie_header"`
}

const fixtureDir = "../../testdata/fixtures"

// The fixed fake secrets of testdata/betterauth/cases.mjs.
const (
	secretA = "authtui-fixture-secret-A-0123456789abcdef"
	secretB = "authtui-fixture-secret-B-fedcba9876543210"
	secretC = "authtui-fixture-secret-C-00112233445566778899"
)

func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name+".json"))
	if err != nil {
		t.Fatalf("fixture %s: %v (regenerate with `make fixtures`)", name, err)
	}
	var f fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return f
}

// allFixtures lists every captured case.
func allFixtures(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(fixtureDir, "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in %s", fixtureDir)
	}
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	sort.Strings(names)
	return names
}

// exchange returns the named exchange of a fixture.
func (f fixture) exchange(t testing.TB, name string) (setCookie []string, authToken string) {
	t.Helper()
	for _, e := range f.Exchanges {
		if e.Name == name {
			if e.SetAuthToken != nil {
				authToken = *e.SetAuthToken
			}
			return e.SetCookie, authToken
		}
	}
	t.Fatalf("fixture %s has no exchange %q", f.Case, name)
	return nil, ""
}

// source builds a loaded source from an env map, as an env file would.
func source(label string, env map[string]string) Source {
	vars := map[string]string{}
	for k, v := range env {
		vars[k] = v
	}
	return Source{Label: label, Vars: vars}
}

// captureTime is a moment inside the capture's validity window: caches
// carry a 5-minute expiry from when the fixture was captured, so tests
// judge them at the time the server issued them.
func captureTime(t testing.TB, f fixture) time.Time {
	t.Helper()
	for _, e := range f.Exchanges {
		var body struct {
			User struct {
				UpdatedAt time.Time `json:"updatedAt"`
			} `json:"user"`
		}
		if json.Unmarshal(e.Body, &body) == nil && !body.User.UpdatedAt.IsZero() {
			return body.User.UpdatedAt.Add(time.Minute)
		}
	}
	t.Fatalf("fixture %s: no timestamp in any body", f.Case)
	return time.Time{}
}
