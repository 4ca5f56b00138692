package browser

import (
	"context"
	"fmt"
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
	if !same.Passes[0].Session || len(same.Findings) != 0 {
		t.Fatalf("same site: %+v findings %v", same.Passes[0], same.Findings)
	}

	cross := run(t, Options{Origin: front, BaseURL: srv.URL})
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
