package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/browser"
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
	r = runEnv(t, map[string]string{"TEST_PW": testPass}, append([]string{"browser", "--env-file", env, "--origin", front, "--chrome", "/nonexistent/chrome"}, creds()...)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no Chrome or Chromium found") {
		t.Errorf("no browser: exit %d %s", r.code, r.stderr)
	}
}
