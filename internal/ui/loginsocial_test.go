package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/testenv"
)

// The console's login pane with --social: enter follows the social
// sign-in through a real OIDC provider (signing in without a person) and
// BetterAuth; a provider that refuses the redirect_uri ends in that
// verdict; b runs the same sign-in in Chrome after it.
func TestLoginPaneSocial(t *testing.T) {
	dsn := pgtest.DSN(t)
	p := oidctest.Start(t, oidctest.Options{Email: "social-console@example.com"})
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
	cfg := &Config{Login: login.Options{Social: login.Social{Provider: "authtui-oidc", Auto: true}}}
	cfg.defaults()
	pane := newTestLogin(t, cfg, srv.URL)
	if v := ansi.Strip(pane.View(160, 30)); !strings.Contains(v, "sign in through authtui-oidc") {
		t.Errorf("the idle text:\n%s", v)
	}
	lfRun(t, pane, pane.Update(press("enter")))
	v, healthy := pane.verdictOf()
	if !healthy || pane.result == nil || pane.result.Outcomes[login.StepCallback].Result != login.Accepted {
		t.Fatalf("social sign-in: %s %s\n%s", v.ID, v.Message, ansi.Strip(pane.View(160, 60)))
	}

	p.AllowRedirectURIs("https://app.example.com/api/auth/callback/authtui-oidc")
	lfRun(t, pane, pane.Update(press("enter")))
	if v, _ := pane.verdictOf(); v.ID != finding.OAuthRedirectURIMismatch {
		t.Errorf("a redirect_uri the provider has not registered: %s %s", v.ID, v.Message)
	}
	if strings.Contains(ansi.Strip(pane.View(200, 80)), p.ClientSecret) {
		t.Error("the client secret on screen")
	}

	// b: authtui's own flow, then the same sign-in in Chrome.
	if _, err := browser.Find(""); err != nil {
		testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
	}
	p.AllowRedirectURIs() // any again
	pane.Update(pane.Init()())
	lfRun(t, pane, pane.Update(press("b")))
	if v, healthy := pane.verdictOf(); !healthy || pane.browserRes == nil || pane.browserRes.Social != "authtui-oidc" || !pane.browserRes.Passes[0].Session {
		t.Fatalf("b with --social: %s %s\n%s", v.ID, v.Message, ansi.Strip(pane.View(160, 80)))
	}
}
