package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/testenv"
)

// `check --markdown` is the whole run as one Markdown report to paste
// into an issue: the configuration (the database without its password),
// the versions (BetterAuth's read from the package installed next to the
// auth service's env file), every probe, the steps, the findings and the
// verdict; with the exit code of check, and never a secret, the password
// or a session token. A real stack: the auth service on PostgreSQL, an
// API on another secret, both env files.
func TestCheckMarkdown(t *testing.T) {
	s := newStack(t, batest.Options{Secret: secretA})
	api := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: s.dsn, Bearer: true})
	seen := batest.SignIn(t, s.auth.URL, "test@example.com", testPass) // a session the test sees

	baDir, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(baDir, "node_modules"), filepath.Join(filepath.Dir(s.authEnv), "node_modules")); err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if data, err := os.ReadFile(filepath.Join(baDir, "node_modules", "better-auth", "package.json")); err != nil || json.Unmarshal(data, &pkg) != nil || pkg.Version == "" {
		t.Fatalf("better-auth's package.json: %v", err)
	}

	// The database URL carries a password (trust authentication ignores
	// it): the report shows the database, never the password.
	const dbPassword = "db-pass-in-url-7781"
	u, err := url.Parse(s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), dbPassword)
	args := append([]string{"--timeout", "5s", "--env-file", s.authEnv, "--env-file", s.otherEnv, "--database-url", u.String(),
		"--api-url", api.URL + "/api/me", "--keep-session"}, creds()...)
	env := map[string]string{"TEST_PW": testPass}

	r := runEnv(t, env, append([]string{"check", "--markdown"}, args...)...)
	text := runEnv(t, env, append([]string{"check"}, args...)...)
	if r.code != exitFound || r.code != text.code || r.stderr != "" {
		t.Fatalf("check --markdown: exit %d (check: %d), stderr %q\n%s", r.code, text.code, r.stderr, r.stdout)
	}
	md := r.stdout
	pgVersion := serverVersion(t, s.dsn)
	for _, want := range []string{
		"# authtui report\n", "Run at ",
		"## Configuration", "**base URL** " + s.auth.URL + "  from " + mdText("BETTER_AUTH_URL in "+s.authEnv),
		"**database** " + mdText(u.User.Username()+"@"+u.Hostname()+":"+u.Port()+u.Path) + "  from --database-url",
		"## Versions", "**authtui** " + strings.TrimPrefix(versionString(), "authtui "),
		"**BetterAuth** " + pkg.Version + "  from " + mdText(filepath.Join(filepath.Dir(s.authEnv), "node_modules", "better-auth", "package.json")),
		"**PostgreSQL** " + pgVersion,
		"## Secrets", "## Database", "## Login flow",
		"✓ Reach the auth service", "✓ Sign in with email and password", "Inspect the issued cookie",
		"✓ get-session with the cookie", "**✗** Your API with the cookie", "- Sign out the test session",
		"## Findings", "**secret-mismatch**", "**cookie-signer-differs**",
		"## Diagnosis", "**✗ secret-mismatch**", "Evidence",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	// Every token the run or the test saw: the kept session of the run,
	// the sign-up's, the test's own sign-in (its cookie, bearer token).
	tokens := sessionRows(t, s.dsn)
	if len(tokens) < 3 {
		t.Fatalf("%d session rows: want the sign-up's, the test's and the run's", len(tokens))
	}
	for _, secret := range append([]string{secretA, secretC, testPass, dbPassword, batest.DefaultSecret, seen.SessionCookie, seen.SetAuthToken}, tokens...) {
		if secret != "" && strings.Contains(md, secret) {
			t.Errorf("the report holds a secret, the password or a session token (%d chars)", len(secret))
		}
	}

	// login --markdown is the same report.
	r = runEnv(t, env, append([]string{"login", "--markdown"}, args...)...)
	if r.code != exitFound || !strings.HasPrefix(r.stdout, "# authtui report\n") || !strings.Contains(r.stdout, "**✗ secret-mismatch**") {
		t.Errorf("login --markdown: exit %d\n%s", r.code, r.stdout)
	}

	// Markdown and JSON are two forms of one report: asking for both is a
	// usage error.
	for _, cmd := range []string{"check", "login"} {
		r = runEnv(t, env, append([]string{cmd, "--markdown", "--json"}, args...)...)
		if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "--markdown and --json") {
			t.Errorf("%s --markdown --json: exit %d, stdout %q, stderr %q", cmd, r.code, r.stdout, r.stderr)
		}
	}
}

// mdText is text as report.Markdown escapes it (the only special
// character these strings can hold).
func mdText(s string) string { return strings.ReplaceAll(s, "_", `\_`) }

func serverVersion(t *testing.T, dsn string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
