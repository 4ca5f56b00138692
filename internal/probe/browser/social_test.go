package browser

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

const socialProvider = "authtui-oidc"

// The social sign-in in a real Chrome, through a real OIDC provider
// (it signs in without a person) and BetterAuth's genericOAuth, each hop
// a navigation Chrome takes itself.
func TestBrowserSocial(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	social := &Social{Provider: socialProvider}

	t.Run("same site", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{Email: "social-same@example.com"})
		srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
		res := run(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social})
		if !res.Passes[0].Session || !res.Passes[1].Session || len(res.Findings) != 0 {
			t.Fatalf("%s", dump(res))
		}
		if !hasStep(res, "provider") || !hasStep(res, "callback") || !hasStep(res, "landing") {
			t.Errorf("the hops: %s", dump(res))
		}
	})

	// The state cookie is set on the answer to the page's fetch: from a
	// front end on another site, Chrome refuses the SameSite=Lax cookie,
	// the callback comes without it, and BetterAuth says state_mismatch.
	t.Run("cross site, state cookie Lax", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{Email: "social-cross@example.com"})
		srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: append(p.Env(), "FIXTURE_CORS_ORIGIN="+front, "BETTER_AUTH_TRUSTED_ORIGINS="+front)})
		res := run(t, Options{Origin: front, BaseURL: srv.URL, Social: social})
		f, ok := firstOf(res, finding.OAuthStateCookieLost)
		if !ok || res.Passes[0].CallbackError != "state_mismatch" || !strings.Contains(f.Message, "SameSiteLax") || !strings.Contains(f.Message, ".state") {
			t.Fatalf("%s", dump(res))
		}
		t.Logf("%s", f.Message)
	})

	t.Run("redirect_uri not registered", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{RedirectURIs: []string{"https://app.example.com/api/auth/callback/" + socialProvider}})
		srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
		res := run(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social})
		if !res.Findings.Has(finding.OAuthProviderRefused) || res.Passes[0].Session {
			t.Fatalf("%s", dump(res))
		}
	})

	t.Run("access denied", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{})
		p.Deny("access_denied")
		srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
		res := run(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social})
		if !res.Findings.Has(finding.OAuthProviderDenied) || res.Passes[0].CallbackError != "access_denied" {
			t.Fatalf("%s", dump(res))
		}
	})

	t.Run("provider down", func(t *testing.T) {
		p := oidctest.Start(t, oidctest.Options{})
		srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
		p.Stop()
		res := run(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social})
		if !res.Findings.Has(finding.OAuthProviderUnreachable) {
			t.Fatalf("%s", dump(res))
		}
	})
}

func hasStep(res *Result, step string) bool {
	for _, q := range res.Passes[0].Requests {
		if q.Step == step {
			return true
		}
	}
	return false
}

func firstOf(res *Result, id finding.ID) (finding.Finding, bool) {
	for _, f := range res.Findings {
		if f.ID == id {
			return f, true
		}
	}
	return finding.Finding{}, false
}

func dump(res *Result) string {
	var b strings.Builder
	for _, p := range res.Passes {
		fmt.Fprintf(&b, "pass blocked=%v session=%v landed=%s error=%s callback_error=%s page_error=%s\n", p.ThirdPartyBlocked, p.Session, p.Landed, p.Error, p.CallbackError, p.PageError)
		for _, q := range p.Requests {
			fmt.Fprintf(&b, "  %-12s %d %s stored=%v refused=%v sent=%v withheld=%v failed=%s cors=%s\n", q.Step, q.Status, q.URL, q.Stored, q.Refused, q.Sent, q.Withheld, q.Failed, q.CORSError)
		}
	}
	for _, f := range res.Findings {
		fmt.Fprintf(&b, "finding %s: %s\n", f.ID, f.Message)
	}
	return b.String()
}

// A provider that shows a sign-in page first: the run waits while the
// window is at the provider, so a person (here the page itself, after
// 1.5 s) can sign in; a page nobody signs in at is said, not judged.
func TestBrowserSocialPersonAtProvider(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	p := oidctest.Start(t, oidctest.Options{Email: "social-person@example.com"})
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: p.Env()})
	social := &Social{Provider: socialProvider}

	p.RequirePerson(1500 * time.Millisecond)
	res := run(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social})
	if !res.Passes[0].Session || len(res.Findings) != 0 {
		t.Fatalf("a person signs in after 1.5 s: %s", dump(res))
	}

	p.RequirePerson(0) // nobody comes
	res = run2(t, Options{Origin: srv.URL, BaseURL: srv.URL, Social: social, Timeout: 2 * time.Second})
	f, ok := firstOf(res, finding.BrowserRunFailed)
	if !ok || !res.Passes[0].AtProvider || !strings.Contains(f.Message, "--headed") || res.Findings.Has(finding.OAuthProviderRefused) {
		t.Fatalf("nobody at the provider: %s", dump(res))
	}
}

// run2 is run without its check that no pass failed.
func run2(t *testing.T, o Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o.Email, o.Password = "web@example.com", password
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
