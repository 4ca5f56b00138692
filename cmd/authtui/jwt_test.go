package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
)

// A JWT of the jwt() plugin, pasted: decode verifies it against the
// auth service's real JWKS (signature by kid, issuer against every
// source's base URL), and names a token that key does not sign.
func TestDecodeJWTAgainstJWKS(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, ExtraEnv: []string{"FIXTURE_JWT=1"}})
	other := batest.Start(t, batest.Options{DatabaseURL: pgtest.DSN(t), ExtraEnv: []string{"FIXTURE_JWT=1"}})
	jwtOf := func(s *batest.Server) string {
		batest.SignUp(t, s.URL, "jwt@example.com", testPass)
		sess := batest.SignIn(t, s.URL, "jwt@example.com", testPass)
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/auth/get-session", nil)
		req.Header.Set("Cookie", sess.CookieHeader)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		j := res.Header.Get("set-auth-jwt")
		if j == "" {
			t.Fatal("no set-auth-jwt from a jwt() server")
		}
		return j
	}
	good, foreign := jwtOf(srv), jwtOf(other)
	env := writeEnvFile(t, "auth.env", "BETTER_AUTH_SECRET", batest.FixtureSecret, "BETTER_AUTH_URL", srv.URL)

	r := run(t, "", "decode", "--env-file", env, good)
	first := r.stdout
	t.Logf("authtui decode <JWT>:\n%s", r.stdout)
	if r.code != exitOK || !strings.Contains(r.stdout, "✓ valid") || !strings.Contains(r.stdout, srv.URL) {
		t.Errorf("a real JWT: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, "", "decode", "--env-file", env, foreign)
	if r.code != exitFound || !strings.Contains(r.stdout, "jwt-key-unknown") {
		t.Errorf("another server's JWT: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, out := range []string{first, r.stdout} {
		if strings.Contains(out, good) || strings.Contains(out, foreign) {
			t.Fatal("a full token in the output")
		}
	}
}

// A project whose API declares the audience it expects in the jwt()
// plugin's tokens: the login flow's JWT step checks it against the real
// token (whose aud is the base URL), and a REST-only store configuration
// (Upstash) is said to be unreadable instead of ignored.
func TestDeclaredJWTAudienceAndRESTStore(t *testing.T) {
	dsn := pgtest.DSN(t)
	srv := batest.Start(t, batest.Options{DatabaseURL: dsn, Bearer: true, ExtraEnv: []string{"FIXTURE_JWT=1"}})
	batest.SignUp(t, srv.URL, "test@example.com", testPass)
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("auth/package.json", `{"name":"auth","dependencies":{"better-auth":"1.3.0"}}`)
	write("auth/.env", "BETTER_AUTH_SECRET="+batest.FixtureSecret+"\nBETTER_AUTH_URL="+srv.URL+"\nDATABASE_URL="+dsn+"\nUPSTASH_REDIS_REST_URL=https://example.upstash.io\n")
	write("api/pyproject.toml", "[project]\nname = \"api\"\n")
	write("api/.env", "BETTER_AUTH_SECRET="+batest.FixtureSecret+"\nBETTER_AUTH_URL="+srv.URL+"\n")
	write("authtui.toml", "[[services]]\nname = \"api\"\nrole = \"api\"\ndir = \"api\"\njwt_audience = \"https://api.example.com\"\n")
	r := runProject(t, root, map[string]string{"TEST_PW": testPass}, "", false, "check", "--json", "--timeout", "5s", "--email", "test@example.com", "--password-env", "TEST_PW")
	for _, id := range []string{"jwt-audience-mismatch", "store-unsupported"} {
		if !strings.Contains(r.stdout, `"id": "`+id+`"`) {
			t.Errorf("check lacks %s:\n%s%s", id, r.stdout, r.stderr)
		}
	}
}
