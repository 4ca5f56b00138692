package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
)

// `authtui login --social … --provider-auto` on a broken setup: the
// provider sends the browser back to a second instance (same database)
// that runs with another BETTER_AUTH_SECRET. Real BetterAuth, real OIDC
// provider, real PostgreSQL.
func TestSocialLoginCommand(t *testing.T) {
	const (
		secretA = "authtui-fixture-secret-A-0123456789abcdef"
		secretC = "authtui-fixture-secret-C-00112233445566778899"
	)
	dsn := pgtest.DSN(t)
	p := oidctest.Start(t, oidctest.Options{Email: "social-cli@example.com"})
	b := batest.Start(t, batest.Options{Secret: secretC, DatabaseURL: dsn, ExtraEnv: p.Env()})
	a := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn,
		ExtraEnv: append(p.Env(), "FIXTURE_OIDC_REDIRECT_URI="+b.URL+"/api/auth/callback/authtui-oidc")})
	auth := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", secretA, "BETTER_AUTH_URL", a.URL)
	callback := writeEnvFile(t, "callback.env", "BETTER_AUTH_SECRET", secretC, "BETTER_AUTH_URL", b.URL)
	args := []string{"login", "--env-file", auth, "--env-file", callback, "--base-url", a.URL, "--database-url", dsn,
		"--social", "authtui-oidc", "--provider-auto", "--no-color"}

	res := runEnv(t, nil, args...)
	t.Logf("authtui login --social authtui-oidc --provider-auto (exit %d):\n%s", res.code, res.stdout)
	if res.code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	for _, want := range []string{"Start the social sign-in", "redirect_uri", "state_mismatch", "oauth-state-mismatch", "callback.env"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	for _, secret := range []string{secretA, secretC, p.ClientSecret} {
		if strings.Contains(res.stdout+res.stderr, secret) {
			t.Errorf("output shows a secret (%.6s…)", secret)
		}
	}
	if out := os.Getenv("AUTHTUI_SOCIAL_OUTPUT"); out != "" {
		_ = os.WriteFile(out, []byte("$ authtui login --env-file auth.env --env-file callback.env --base-url "+a.URL+" --database-url … --social authtui-oidc --provider-auto\n"+res.stdout), 0o644)
	}

	res = runEnv(t, nil, append(args, "--json")...)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var sum struct {
		Verdict struct {
			ID string `json:"id"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Verdict.ID != "oauth-state-mismatch" {
		t.Errorf("--json verdict %q (%v): %s", sum.Verdict.ID, err, lines[len(lines)-1])
	}

	if res := runEnv(t, nil, "login", "--env-file", auth, "--social", "authtui-oidc", "--email", "x@example.com"); res.code != 2 {
		t.Errorf("--social with --email: exit %d, want 2 (%s)", res.code, res.stderr)
	}
	if res := runEnv(t, nil, "login", "--env-file", auth, "--provider-auto", "--replay-session", "latest"); res.code != 2 {
		t.Errorf("--provider-auto without --social: exit %d, want 2 (%s)", res.code, res.stderr)
	}
}
