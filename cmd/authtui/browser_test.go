package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

// `authtui browser` against a cross-site setup names Chrome's reason;
// without a browser it is a usage error naming what was searched.
func TestBrowserCommand(t *testing.T) {
	if _, err := browser.Find(""); err != nil {
		testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "test@example.com", testPass)
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", batest.FixtureSecret, "BETTER_AUTH_URL", srv.URL)
	r := runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"browser", "--env-file", env, "--origin", front}, creds()...)...)
	t.Logf("authtui browser --origin %s …:\n%s", front, r.stdout)
	if r.code != exitFound || !strings.Contains(r.stdout, "SameSiteLax") || !strings.Contains(r.stdout, "browser-cookie-refused") {
		t.Errorf("cross-site: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, testPass) {
		t.Fatal("the password in the output")
	}
	// --json: one line per pass event (start, end), then the summary.
	r = runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"browser", "--env-file", env, "--origin", front, "--json"}, creds()...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var phases []string
	for _, l := range lines[:len(lines)-1] {
		var e browser.Event
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("an event line: %v\n%s", err, l)
		}
		phases = append(phases, e.Phase)
	}
	var sum struct {
		Summary  bool            `json:"summary"`
		Browser  *browser.Result `json:"browser"`
		Findings finding.List    `json:"findings"`
		Verdict  check.Verdict   `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || !sum.Summary || sum.Browser == nil ||
		strings.Join(phases, ",") != "start,end,start,end" || sum.Verdict.ID != finding.BrowserCookieRefused || r.code != exitFound {
		t.Errorf("--json: exit %d, phases %v, %v\n%s", r.code, phases, err, r.stdout)
	}
	if strings.Contains(r.stdout, testPass) {
		t.Fatal("the password in the JSON")
	}
	r = runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"browser", "--env-file", env, "--origin", front, "--chrome", "/nonexistent/chrome"}, creds()...)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no Chrome or Chromium found") {
		t.Errorf("no browser: exit %d %s", r.code, r.stderr)
	}
}

// `authtui browser --social`: the social sign-in in Chrome from a front
// end on another site. The state cookie comes on the answer to the
// page's fetch, Chrome refuses it (SameSite=Lax), and the callback says
// state_mismatch: the verdict names the state cookie and Chrome's reason.
// `login --social --provider-auto --browser` runs authtui's own flow
// first, then Chrome's, with one verdict.
func TestBrowserSocialCommand(t *testing.T) {
	if _, err := browser.Find(""); err != nil {
		testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	p := oidctest.Start(t, oidctest.Options{Email: "social-browser@example.com"})
	srv := batest.Start(t, batest.Options{DatabaseURL: pgtest.DSN(t), ExtraEnv: append(p.Env(), "FIXTURE_CORS_ORIGIN="+front, "BETTER_AUTH_TRUSTED_ORIGINS="+front)})
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", batest.FixtureSecret, "BETTER_AUTH_URL", srv.URL)
	r := runEnv(t, nil, "browser", "--env-file", env, "--origin", front, "--social", "authtui-oidc")
	t.Logf("authtui browser --origin %s --social authtui-oidc:\n%s", front, r.stdout)
	if r.code != exitFound || !strings.Contains(r.stdout, "oauth-state-cookie-lost") || !strings.Contains(r.stdout, "SameSiteLax") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Without Chrome, authtui's own flow says the same (it did not, until
	// the browser disagreed: a Lax state cookie on a cross-site fetch's
	// answer is never stored).
	r = runEnv(t, nil, "login", "--env-file", env, "--origin", front, "--social", "authtui-oidc", "--provider-auto")
	if r.code != exitFound || !strings.Contains(r.stdout, "oauth-state-cookie-lost") || !strings.Contains(r.stdout, "browsers do not store it") {
		t.Errorf("login --social without the browser: exit %d\n%s", r.code, r.stdout)
	}
	// The first leg only: the rest is offered in a visible window, which
	// needs a display (none here: a clear message, not a hang).
	r = runEnv(t, nil, "login", "--env-file", env, "--origin", front, "--social", "authtui-oidc")
	if !strings.Contains(r.stdout, "authtui browser --social authtui-oidc --origin "+front+" --headed") {
		t.Errorf("no offer of a visible window:\n%s", r.stdout)
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		r = runEnv(t, nil, "browser", "--env-file", env, "--origin", front, "--social", "authtui-oidc", "--headed")
		if r.code != exitUsage || !strings.Contains(r.stderr, "needs a display") {
			t.Errorf("--headed without a display: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	r = runEnv(t, nil, "login", "--env-file", env, "--origin", front, "--social", "authtui-oidc", "--provider-auto", "--browser", "--json")
	var sum struct {
		Summary bool          `json:"summary"`
		Verdict check.Verdict `json:"verdict"`
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || !sum.Summary {
		t.Fatalf("login --json's last line: %v\n%s", err, r.stdout)
	}
	// authtui's own flow predicts what Chrome does (the browser probe
	// found the prediction missing at first), and Chrome's words are
	// evidence of the one verdict.
	chrome := false
	for _, e := range sum.Verdict.Evidence {
		chrome = chrome || (e.Step == "browser" && strings.Contains(e.Seen, "SameSiteLax"))
	}
	if sum.Verdict.ID != finding.OAuthStateCookieLost || !chrome {
		t.Errorf("verdict %s: %s %+v", sum.Verdict.ID, sum.Verdict.Message, sum.Verdict.Evidence)
	}
	for _, s := range []string{p.ClientSecret, batest.FixtureSecret} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Fatal("a secret in the output")
		}
	}
}
