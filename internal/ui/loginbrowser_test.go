package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/testenv"
)

// b in the login pane: the login flow, then the sign-in from the front
// end's origin in a real Chrome, its passes shown as they end, and the
// verdict Chrome's: here a cross-site SameSite=Lax cookie that every
// request of authtui's own gets through, and Chrome refuses.
func TestLoginPaneBrowser(t *testing.T) {
	if _, err := browser.Find(""); err != nil {
		testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
	}
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	srv := batest.Start(t, batest.Options{DatabaseURL: pgtest.DSN(t), ExtraEnv: []string{"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "ada@example.com", lfPassword)
	cfg := &Config{Login: login.Options{Email: "ada@example.com", Password: lfPassword, Origin: front}}
	cfg.defaults()
	p := newTestLogin(t, cfg, srv.URL)
	if p.bindings().Browser.Enabled() {
		t.Fatal("b is offered before Chrome was looked for")
	}
	p.Update(p.Init()()) // the tail is off: Init is the Chrome lookup alone
	if !p.bindings().Browser.Enabled() || !strings.Contains(ansi.Strip(p.View(160, 40)), "then sign in from the front end's origin in Chrome") {
		t.Fatalf("b not offered with Chrome on the machine:\n%s", ansi.Strip(p.View(160, 40)))
	}
	snaps := lfRun(t, p, p.Update(press("b")))
	var midway bool
	for _, s := range snaps {
		if strings.Contains(s, "third-party cookies allowed") && strings.Contains(s, "running") {
			midway = true
		}
	}
	if !midway {
		t.Error("the browser's first pass was not shown while the run went on")
	}
	view := ansi.Strip(p.View(160, 60))
	if p.browserRes == nil || !strings.Contains(view, "SameSiteLax") || !strings.Contains(view, "Browser") {
		t.Fatalf("the browser's result:\n%s", view)
	}
	v, _ := p.verdictOf()
	if v.ID != finding.BrowserCookieRefused {
		t.Errorf("verdict %s: %s", v.ID, v.Message)
	}
	if !p.Findings().Has(finding.BrowserCookieRefused) {
		t.Errorf("Chrome's findings not in the pane's list: %v", p.Findings())
	}
	lfNoPassword(t, p, lfPassword)
}
