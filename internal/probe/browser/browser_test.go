package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/testenv"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const password = "correct horse battery staple"

func chrome(t *testing.T) {
	t.Helper()
	if _, err := Find(""); err != nil {
		testenv.Unavailable(t, err.Error()+" (make deps installs chromium)")
	}
}

func run(t *testing.T, o Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	o.Email, o.Password, o.Timeout = "web@example.com", password, 5*time.Second
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings.Has(finding.BrowserRunFailed) {
		t.Fatalf("the browser run failed: %v", res.Findings)
	}
	return res
}

// Real Chromium, real BetterAuth: the page on the auth service's own
// site signs in and keeps its session; on another site (localhost vs
// 127.0.0.1: another site) Chrome refuses the SameSite=Lax cookie and
// names why; without CORS for the front end the page never sees the
// answer.
func TestBrowserSameAndCrossSite(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "web@example.com", password)

	same := run(t, Options{Origin: srv.URL, BaseURL: srv.URL})
	noDisagreement(t, same)
	if !same.Passes[0].Session || len(same.Findings) != 0 {
		t.Fatalf("same site: %+v findings %v", same.Passes[0], same.Findings)
	}

	cross := run(t, Options{Origin: front, BaseURL: srv.URL})
	noDisagreement(t, cross)
	if cross.Passes[0].Session || !cross.Findings.Has(finding.BrowserCookieRefused) {
		t.Fatalf("cross site: %+v findings %v", cross.Passes, cross.Findings)
	}
	var msg string
	for _, f := range cross.Findings {
		if f.ID == finding.BrowserCookieRefused {
			msg = f.Message
		}
	}
	if !strings.Contains(msg, "SameSite") || !strings.Contains(msg, "defaultCookieAttributes") {
		t.Errorf("the reason and the fix: %s", msg)
	}
	t.Logf("cross-site: %.0f ms for both passes; %s", float64(cross.Duration.Milliseconds()), msg)

	noCORS := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	res := run(t, Options{Origin: front, BaseURL: noCORS.URL})
	if !res.Findings.Has(finding.BrowserCORSRejected) {
		t.Errorf("no CORS for the front end: %+v findings %v", res.Passes, res.Findings)
	}
	for _, r := range []*Result{same, cross, res} {
		for _, f := range r.Findings {
			if strings.Contains(f.Message, password) {
				t.Fatal("the password in a finding")
			}
		}
	}
}

// BenchmarkRun is a whole browser run: Chrome started twice (both
// passes), the page, sign-in and get-session, teardown. Goal: under 3 s.
func BenchmarkRun(b *testing.B) {
	if _, err := Find(""); err != nil {
		b.Skip(err)
	}
	dsn := pgtest.DSN(b)
	srv := batest.Start(b, batest.Options{DatabaseURL: dsn})
	batest.SignUp(b, srv.URL, "web@example.com", password)
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		res, err := Run(ctx, Options{Origin: srv.URL, BaseURL: srv.URL, Email: "web@example.com", Password: password, Timeout: 5 * time.Second})
		cancel()
		if err != nil || !res.Passes[0].Session {
			b.Fatalf("run: %v %+v", err, res)
		}
	}
}

// The other ways a cookie is lost, each on a real server: a Domain that
// does not cover the host (InvalidDomain), a correct SameSite=None;
// Secure cookie that only third-party blocking stops, and an origin
// BetterAuth itself rejects (no reason of Chrome's: the server's 403).
func TestBrowserDomainThirdPartyAndOrigin(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)

	dom := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_CROSS_SUBDOMAIN=example.com"}})
	batest.SignUp(t, dom.URL, "web@example.com", password)
	res := run(t, Options{Origin: dom.URL, BaseURL: dom.URL})
	noDisagreement(t, res)
	if !hasReason(res, "InvalidDomain") || !res.Findings.Has(finding.BrowserCookieRefused) {
		t.Errorf("Domain=example.com on 127.0.0.1: %+v %v", res.Passes, res.Findings)
	}

	none := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SAMESITE=none", "FIXTURE_SECURE=1",
		"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	res = run(t, Options{Origin: front, BaseURL: none.URL})
	noDisagreement(t, res)
	if !res.Passes[0].Session || res.Passes[1].Session || !res.Findings.Has(finding.BrowserThirdPartyBlocked) {
		t.Errorf("SameSite=None; Secure cross-site: %+v %v", res.Passes, res.Findings)
	}

	strict := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_CORS_ORIGIN=" + front}})
	res = run(t, Options{Origin: front, BaseURL: strict.URL})
	if !res.Findings.Has(finding.LoginOriginRejected) {
		t.Errorf("an origin BetterAuth rejects: %+v %v", res.Passes, res.Findings)
	}
}

func hasReason(res *Result, reason string) bool {
	for _, p := range res.Passes {
		for _, q := range p.Requests {
			for _, c := range append(append([]Cookie{}, q.Refused...), q.Withheld...) {
				for _, r := range c.Reasons {
					if r == reason {
						return true
					}
				}
			}
		}
	}
	return false
}

// SameSite=None without Secure: BetterAuth always adds Secure to it, so
// this happens only when something in between strips it. A proxy in
// front of the real server does; Chrome refuses the cookie
// (SameSiteNoneInsecure) and the fix names the proxy.
func TestBrowserProxyStripsSecure(t *testing.T) {
	chrome(t)
	dsn := pgtest.DSN(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	front := fmt.Sprintf("http://localhost:%d", port)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_SAMESITE=none",
		"FIXTURE_CORS_ORIGIN=" + front, "BETTER_AUTH_TRUSTED_ORIGINS=" + front}})
	batest.SignUp(t, srv.URL, "web@example.com", password)
	u, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		lines := r.Header.Values("Set-Cookie")
		r.Header.Del("Set-Cookie")
		for _, l := range lines {
			r.Header.Add("Set-Cookie", regexp.MustCompile(`(?i);\s*Secure`).ReplaceAllString(l, ""))
		}
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	res := run(t, Options{Origin: front, BaseURL: proxy.URL})
	noDisagreement(t, res)
	if !hasReason(res, "SameSiteNoneInsecure") || !res.Findings.Has(finding.BrowserCookieRefused) {
		t.Fatalf("Secure stripped: %+v %v", res.Passes, res.Findings)
	}
	for _, f := range res.Findings {
		if f.ID == finding.BrowserCookieRefused && !strings.Contains(f.Message, "strips it") {
			t.Errorf("the fix: %s", f.Message)
		}
	}
}

// noDisagreement: on every real case so far authtui's Set-Cookie
// analysis and Chrome agree; a disagreement is a defect to fix in the
// analysis, so a test that sees one fails and names it.
func noDisagreement(t *testing.T, res *Result) {
	t.Helper()
	for _, f := range res.Findings {
		if f.ID == finding.BrowserAnalysisDisagrees {
			t.Errorf("Chrome and the Set-Cookie analysis disagree: %s", f.Message)
		}
	}
	var predicted int
	for _, p := range res.Passes {
		for _, q := range p.Requests {
			predicted += len(q.Predicted)
		}
	}
	if predicted == 0 {
		t.Errorf("no Set-Cookie line was analysed: %+v", res.Passes)
	}
}
