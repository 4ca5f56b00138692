package main

import (
	"net/http"
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
