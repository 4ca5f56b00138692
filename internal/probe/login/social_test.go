package login_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/testenv"
)

const (
	socialSecretA = "authtui-fixture-secret-A-0123456789abcdef"
	socialSecretC = "authtui-fixture-secret-C-00112233445566778899"
	provider      = "authtui-oidc"
)

// source is an env source as the auth service's env file would be.
func source(label, secret, baseURL string) probe.Source {
	return probe.Source{Label: label, Vars: map[string]string{"BETTER_AUTH_SECRET": secret, "BETTER_AUTH_URL": baseURL}}
}

// socialCheck runs the whole pipeline (check.Run) with a social sign-in
// through the real provider, as `authtui login --social … --provider-auto` does.
func socialCheck(t *testing.T, base, dsn string, sources []probe.Source, client *http.Client) *check.Report {
	t.Helper()
	cfg := probe.Config{Sources: sources, BaseURL: probe.Setting{Value: base, From: "--base-url"}, Timeout: 5 * time.Second}
	if dsn != "" {
		cfg.DatabaseURL = probe.Setting{Value: dsn, From: "--database-url"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	rep := check.Run(ctx, check.Options{Config: cfg, Social: login.Social{Provider: provider, Auto: true}, Client: client}, nil)
	if db := rep.DB(); db != nil {
		db.Close()
	}
	t.Logf("social run in %s", time.Since(start).Round(time.Millisecond))
	for _, e := range rep.Steps {
		t.Logf("  %-20s %-4s %s", e.Step, e.Status, e.Detail)
	}
	t.Logf("verdict %s: %s", rep.Verdict.ID, rep.Verdict.Message)
	return rep
}

func step(rep *check.Report, name string) login.Event {
	for _, e := range rep.Steps {
		if e.Step == name {
			return e
		}
	}
	return login.Event{}
}

// wantVerdict asserts the verdict, that the finding was raised, and that
// no output of the run shows a state, code or client secret whole.
func wantVerdict(t *testing.T, rep *check.Report, id finding.ID, secrets ...string) {
	t.Helper()
	if !rep.Findings.Has(id) {
		t.Errorf("no %s finding: %v", id, rep.Findings)
	}
	if rep.Verdict.ID != id {
		t.Errorf("verdict %s (%s), want %s", rep.Verdict.ID, rep.Verdict.Message, id)
	}
	if rep.Healthy {
		t.Errorf("healthy with %s", id)
	}
	noSecrets(t, rep, secrets...)
}

func noSecrets(t *testing.T, rep *check.Report, secrets ...string) {
	t.Helper()
	var all strings.Builder
	for _, e := range rep.Steps {
		fmt.Fprintln(&all, e.Detail, e.Redirect)
		for _, f := range e.Findings {
			fmt.Fprintln(&all, f.Message, f.Evidence)
		}
	}
	fmt.Fprintln(&all, rep.Verdict.Message, rep.Verdict.Evidence)
	for _, s := range secrets {
		if s != "" && strings.Contains(all.String(), s) {
			t.Errorf("output shows a secret value (%.6s…)", s)
		}
	}
	// No state or code whole: every state= and code= value is cut.
	for _, key := range []string{"state=", "code="} {
		rest := all.String()
		for {
			i := strings.Index(rest, key)
			if i < 0 {
				break
			}
			v := rest[i+len(key):]
			if j := strings.IndexAny(v, "&; )\n"); j >= 0 {
				v = v[:j]
			}
			if len(v) > 8 && !strings.Contains(v, "…") && !strings.Contains(v, "%E2%80%A6") {
				t.Errorf("%s%s shown whole", key, v)
			}
			rest = rest[i+len(key):]
		}
	}
}

func TestSocialSignIn(t *testing.T) {
	t.Parallel()
	t.Run("success", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{Email: "social-ok@example.com"})
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
		p.AllowRedirectURIs(a.URL + "/api/auth/callback/" + provider)
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		if !rep.Healthy || rep.Verdict.ID != "" {
			t.Fatalf("not healthy: %s %s", rep.Verdict.ID, rep.Verdict.Message)
		}
		for _, s := range []string{login.StepSocialStart, login.StepRedirectURI, login.StepState, login.StepAuthorize, login.StepCallback, login.StepCookie, login.StepGetCookie, login.StepDatabase} {
			if e := step(rep, s); e.Status != login.StatusOK {
				t.Errorf("step %s: %s %q", s, e.Status, e.Detail)
			}
		}
		if e := step(rep, login.StepState); !strings.Contains(e.Detail, "verification row auth-state:") {
			t.Errorf("state step does not show the verification row: %q", e.Detail)
		}
		if e := step(rep, login.StepGetCookie); !strings.Contains(e.Detail, "social-ok@example.com") {
			t.Errorf("get-session: %q", e.Detail)
		}
		if e := step(rep, login.StepSignOut); e.Status != login.StatusOK {
			t.Errorf("sign-out %s %q", e.Status, e.Detail)
		}
		noSecrets(t, rep, p.ClientSecret)
	})

	t.Run("registered redirect URI differs", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{RedirectURIs: []string{"https://app.example.com/api/auth/callback/" + provider}})
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthRedirectURIMismatch, p.ClientSecret)
		if p.Refused.Load() != 1 || p.Tokens.Load() != 0 {
			t.Errorf("provider refused %d, token requests %d", p.Refused.Load(), p.Tokens.Load())
		}
		if !strings.Contains(rep.Verdict.Message, a.URL+"/api/auth/callback/"+provider) {
			t.Errorf("verdict does not name the redirect_uri: %s", rep.Verdict.Message)
		}
	})

	t.Run("callback handled by an instance with another secret", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		b := batest.Start(t, batest.Options{Secret: socialSecretC, DatabaseURL: dsn, ExtraEnv: p.Env()})
		// The first instance builds the redirect_uri of the second: the
		// provider sends the browser back to another instance, on the
		// same database.
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn,
			ExtraEnv: append(p.Env(), "FIXTURE_OIDC_REDIRECT_URI="+b.URL+"/api/auth/callback/"+provider)})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL), source("callback.env", socialSecretC, b.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthStateMismatch, p.ClientSecret, socialSecretA, socialSecretC)
		if !strings.Contains(rep.Verdict.Message, "callback.env") || !strings.Contains(rep.Verdict.Message, "auth.env") {
			t.Errorf("verdict does not name both secrets' sources: %s", rep.Verdict.Message)
		}
		if e := step(rep, login.StepRedirectURI); e.Status != login.StatusOK || !strings.Contains(e.Detail, "callback.env") {
			t.Errorf("redirect-uri: %s %q", e.Status, e.Detail)
		}
	})

	t.Run("callback handled by an instance on another database", func(t *testing.T) {
		t.Parallel()
		dsn, other := pgtest.DSN(t), pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		b := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: other, ExtraEnv: p.Env()})
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn,
			ExtraEnv: append(p.Env(), "FIXTURE_OIDC_REDIRECT_URI="+b.URL+"/api/auth/callback/"+provider)})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL), source("callback.env", socialSecretA, b.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthStateMismatch, p.ClientSecret, socialSecretA)
		if !strings.Contains(rep.Verdict.Message, "another database") || strings.Contains(rep.Verdict.Message, "signs with") {
			t.Errorf("verdict: %s", rep.Verdict.Message)
		}
	})

	t.Run("token exchange refused: wrong client secret", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn,
			ExtraEnv: []string{"FIXTURE_OIDC_ISSUER=" + p.Issuer, "FIXTURE_OIDC_CLIENT_ID=" + p.ClientID, "FIXTURE_OIDC_CLIENT_SECRET=not-the-client-secret"}})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthCallbackError, p.ClientSecret)
		if !strings.Contains(rep.Verdict.Message, "error=invalid_code") || !strings.Contains(rep.Verdict.Message, "client secret") {
			t.Errorf("verdict: %s", rep.Verdict.Message)
		}
		if p.Tokens.Load() != 1 {
			t.Errorf("token requests %d", p.Tokens.Load())
		}
	})

	t.Run("state cookie dropped between the legs", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		// A proxy on the callback path that drops the Cookie header, as a
		// CDN rule or middleware does; the first leg goes straight to
		// BetterAuth.
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		proxyURL := fmt.Sprintf("http://127.0.0.1:%d", port)
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn,
			ExtraEnv: append(p.Env(), "FIXTURE_OIDC_REDIRECT_URI="+proxyURL+"/api/auth/callback/"+provider)})
		target, _ := url.Parse(a.URL)
		rp := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/callback/") {
				r.Header.Del("Cookie")
			}
			rp.ServeHTTP(w, r)
		}))
		ln, err := netListen(port)
		if err != nil {
			t.Fatal(err)
		}
		proxy.Listener = ln
		proxy.Start()
		t.Cleanup(proxy.Close)
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthStateCookieLost, p.ClientSecret, socialSecretA)
		if !strings.Contains(rep.Verdict.Message, "did not arrive") {
			t.Errorf("verdict: %s", rep.Verdict.Message)
		}
	})

	t.Run("callback on another host than the one that set the state cookie", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		// BETTER_AUTH_URL names localhost; the browser (and authtui) start
		// on 127.0.0.1, which the server trusts too.
		a := batest.Start(t, batest.Options{Port: port, Secret: socialSecretA, DatabaseURL: dsn, BaseURL: fmt.Sprintf("http://localhost:%d", port),
			TrustedOrigins: []string{fmt.Sprintf("http://127.0.0.1:%d", port)}, ExtraEnv: p.Env()})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, fmt.Sprintf("http://localhost:%d", port))}, nil)
		wantVerdict(t, rep, finding.OAuthStateCookieLost, p.ClientSecret, socialSecretA)
		if e := step(rep, login.StepState); e.Status != login.StatusFail {
			t.Errorf("the state step did not predict the loss: %s %q", e.Status, e.Detail)
		}
		if e := step(rep, login.StepCallback); e.Status != login.StatusFail || !strings.Contains(e.Detail, "did not carry the state cookie") {
			t.Errorf("callback: %s %q", e.Status, e.Detail)
		}
		if !strings.Contains(rep.Verdict.Message, "localhost") {
			t.Errorf("verdict: %s", rep.Verdict.Message)
		}
	})

	t.Run("provider down", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
		p.Stop() // after BetterAuth's discovery at startup
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthProviderUnreachable, p.ClientSecret)
		if e := step(rep, login.StepSocialStart); e.Status != login.StatusOK {
			t.Errorf("social-start %s %q", e.Status, e.Detail)
		}
	})

	t.Run("provider down at startup", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		p.Stop()
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthProviderNotFound, p.ClientSecret)
	})

	t.Run("provider error access_denied", func(t *testing.T) {
		t.Parallel()
		dsn := pgtest.DSN(t)
		p := oidctest.Start(t, oidctest.Options{})
		p.Deny("access_denied")
		a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
		rep := socialCheck(t, a.URL, dsn, []probe.Source{source("auth.env", socialSecretA, a.URL)}, nil)
		wantVerdict(t, rep, finding.OAuthProviderDenied, p.ClientSecret)
		if e := step(rep, login.StepCallback); e.Status != login.StatusFail || !strings.Contains(e.Detail, "error=access_denied") {
			t.Errorf("callback: %s %q", e.Status, e.Detail)
		}
	})
}

func netListen(port int) (net.Listener, error) {
	return net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
}

func TestSocialFirstLegOnly(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	p := oidctest.Start(t, oidctest.Options{})
	a := batest.Start(t, batest.Options{Secret: socialSecretA, DatabaseURL: dsn, ExtraEnv: p.Env()})
	cfg := probe.Config{Sources: []probe.Source{source("auth.env", socialSecretA, a.URL)}, BaseURL: probe.Setting{Value: a.URL, From: "auth.env"},
		DatabaseURL: probe.Setting{Value: dsn, From: "--database-url"}, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := check.Run(ctx, check.Options{Config: cfg, Social: login.Social{Provider: provider}}, nil)
	if db := rep.DB(); db != nil {
		db.Close()
	}
	if e := step(rep, login.StepAuthorize); e.Status != login.StatusSkip || !strings.Contains(e.Detail, "--provider-auto") {
		t.Errorf("authorize: %s %q", e.Status, e.Detail)
	}
	for _, s := range []string{login.StepCallback, login.StepGetCookie, login.StepSignOut} {
		if e := step(rep, s); e.Step != "" {
			t.Errorf("step %s ran without --provider-auto: %s %q", s, e.Status, e.Detail)
		}
	}
	if !rep.Healthy || !strings.Contains(rep.Verdict.Message, "not tested") {
		t.Errorf("verdict %s healthy=%v: %s", rep.Verdict.ID, rep.Healthy, rep.Verdict.Message)
	}
	if p.Authorizations.Load() != 0 {
		t.Errorf("the provider was asked %d times without --provider-auto", p.Authorizations.Load())
	}
	noSecrets(t, rep, p.ClientSecret)
}
