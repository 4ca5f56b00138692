package login

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/finding"
)

// With the jwt() plugin, get-session hands out a JWT (set-auth-jwt): the
// flow verifies it against the server's real JWKS, presents it to the
// API, and says which credential forms the API accepts. Two real APIs:
// one that asks BetterAuth (cookie and bearer token), one that verifies
// only JWTs against the JWKS (jose, as a non-JS backend would).
func TestJWTPluginAndAPIMethods(t *testing.T) {
	dsn := pgtest.DSN(t)
	auth := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, Bearer: true, ExtraEnv: []string{"FIXTURE_JWT=1"}})
	batest.SignUp(t, auth.URL, "jwt@example.com", password)
	jwtAPI := batest.Start(t, batest.Options{Secret: secretA, DatabaseURL: dsn, API: "jwt",
		ExtraEnv: []string{"FIXTURE_JWT=1", "FIXTURE_JWKS_URL=" + auth.URL + "/api/auth/jwks", "BETTER_AUTH_URL=" + auth.URL}})
	run := func(api string) *Result {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return Run(ctx, Options{BaseURL: auth.URL, Email: "jwt@example.com", Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second, APIURL: api}, nil)
	}
	status := func(res *Result) map[string]string {
		m := map[string]string{}
		for _, e := range res.Events {
			if e.Phase == PhaseEnd {
				m[e.Step] = e.Status
			}
		}
		return m
	}
	methods := func(res *Result) string {
		for _, f := range res.Findings {
			if f.ID == finding.APIMethods {
				return f.Message
			}
		}
		return ""
	}

	res := run(auth.URL + "/api/me")
	st := status(res)
	if st[StepJWT] != StatusOK || st[StepAPICookie] != StatusOK || st[StepAPIBearer] != StatusOK || st[StepAPIJWT] != StatusSkip {
		t.Fatalf("a BetterAuth API: steps %v, findings %v", st, ids(res.Findings))
	}
	if m := methods(res); !strings.Contains(m, "accepts the cookie") || !strings.Contains(m, "rejects the JWT") {
		t.Errorf("api-methods: %q", m)
	}
	if res.Failed() {
		t.Errorf("an API that does not take JWTs is not a failure: %v", ids(res.Findings))
	}

	res = run(jwtAPI.URL + "/api/me")
	st = status(res)
	if st[StepAPIJWT] != StatusOK || st[StepAPICookie] != StatusSkip || st[StepAPIBearer] != StatusSkip {
		t.Fatalf("a JWT API: steps %v, findings %v", st, ids(res.Findings))
	}
	if m := methods(res); !strings.Contains(m, "accepts the JWT") || !strings.Contains(m, "rejects the cookie") {
		t.Errorf("api-methods: %q", m)
	}
	if res.Findings.Has(finding.APIRejectsSession) || res.Failed() {
		t.Errorf("a JWT API refusing cookies is its design: %v", ids(res.Findings))
	}
}
