package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/oidctest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/testenv"
)

// A discovered project with two environments (testdata/projects/
// preview-production: an auth service with a production env file and
// Vercel's Preview one). The production auth service runs with Preview's
// BETTER_AUTH_URL, so the redirect_uri it builds is Preview's callback;
// the provider has Production's registered and refuses it. `authtui
// login --social … --environment production` names the redirect_uri as
// built from the Preview base URL, at the redirect_uri step and in the
// redirect_uri_mismatch verdict (and, without --provider-auto, the healthy
// first leg's verdict does not call the redirect_uri fine). Real BetterAuth (production and
// preview), real OIDC provider, real PostgreSQL.
func TestSocialRedirectURIFromAnotherEnvironment(t *testing.T) {
	const (
		prodSecret    = "authtui-project-secret-PROD-6666666666666666"
		previewSecret = "authtui-project-secret-PREV-7777777777777777"
		callback      = "/api/auth/callback/authtui-oidc"
	)
	root := testenv.CopyProject(t, "preview-production")
	dsn := pgtest.DSN(t)
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	prodURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := oidctest.Start(t, oidctest.Options{RedirectURIs: []string{prodURL + callback}})
	preview := batest.Start(t, batest.Options{Secret: previewSecret})
	// Production, given Preview's BETTER_AUTH_URL (it still trusts the
	// production origin the front end signs in from).
	batest.Start(t, batest.Options{Port: port, Secret: prodSecret, DatabaseURL: dsn, BaseURL: preview.URL,
		TrustedOrigins: []string{prodURL}, ExtraEnv: p.Env()})
	write := func(rel, body string) {
		if err := os.WriteFile(filepath.Join(root, rel), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("auth/.env.production", "BETTER_AUTH_SECRET="+prodSecret+"\nBETTER_AUTH_URL="+prodURL+"\nDATABASE_URL="+dsn+"\n")
	write("auth/.vercel/.env.preview.local", "BETTER_AUTH_SECRET=\""+previewSecret+"\"\nBETTER_AUTH_URL=\""+preview.URL+"\"\n")

	// The first leg alone (no --provider-auto): no error yet, but the
	// verdict does not call the redirect_uri fine.
	first := runProject(t, root, nil, "", false, "login", "--environment", "production", "--timeout", "5s", "--social", "authtui-oidc", "--no-color")
	t.Logf("first leg only (exit %d):\n%s", first.code, first.stdout)
	firstText := strings.Join(strings.Fields(first.stdout), " ")
	if first.code != exitOK || !strings.Contains(firstText, "BETTER_AUTH_URL of auth (preview)") ||
		!strings.Contains(firstText, "its redirect_uri is not the callback of this run's base URL") {
		t.Errorf("first leg: exit %d, stderr %s", first.code, first.stderr)
	}
	if n := p.Authorizations.Load(); n != 0 {
		t.Errorf("the provider was asked %d times without --provider-auto", n)
	}

	args := []string{"login", "--environment", "production", "--timeout", "5s", "--social", "authtui-oidc", "--provider-auto", "--no-color"}
	res := runProject(t, root, nil, "", false, args...)
	t.Logf("authtui %s (exit %d):\n%s", strings.Join(args, " "), res.code, res.stdout)
	if res.code != exitFound {
		t.Errorf("exit %d, want %d; stderr %s", res.code, exitFound, res.stderr)
	}
	text := strings.Join(strings.Fields(res.stdout), " ") // wrapped lines joined
	for _, want := range []string{
		"! Check the redirect_uri",
		"! WARN oauth-redirect-uri-unexpected",
		"is the callback of another environment's base URL (BETTER_AUTH_URL of auth (preview)), not of this run's (" + prodURL + " from auth (auth/.env.production))",
		"✗ oauth-redirect-uri-mismatch The social sign-in stops at the provider",
		"redirect_uri " + preview.URL + callback + " is not registered",
		"this environment's BETTER_AUTH_URL",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if p.Refused.Load() != 1 || p.Tokens.Load() != 0 {
		t.Errorf("provider refused %d, token requests %d", p.Refused.Load(), p.Tokens.Load())
	}

	res = runProject(t, root, nil, "", false, append(args, "--json")...)
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	var sum struct {
		Verdict struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("--json summary: %v\n%s", err, lines[len(lines)-1])
	}
	if sum.Verdict.ID != "oauth-redirect-uri-mismatch" || !strings.Contains(sum.Verdict.Message, "BETTER_AUTH_URL of auth (preview)") {
		t.Errorf("verdict %s: %s", sum.Verdict.ID, sum.Verdict.Message)
	}
	for _, secret := range []string{prodSecret, previewSecret, p.ClientSecret} {
		if strings.Contains(res.stdout+res.stderr, secret) {
			t.Errorf("output shows a secret (%.6s…)", secret)
		}
	}
}
