package login

import (
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
)

// TestIssued: what Result.Issued says about the cookie real servers set.
func TestIssued(t *testing.T) {
	const httpsBase = "https://auth.example.test" // BETTER_AUTH_URL; the server listens on http loopback
	cases := []struct {
		name string
		opts batest.Options
		want IssuedCookie // CacheExpiresAt: checked separately
	}{
		{"plain", batest.Options{Secret: secretA},
			IssuedCookie{Name: "better-auth.session_token", CookiePrefix: "better-auth", SameSite: "Lax", HTTPOnly: true}},
		{"cookie prefix", batest.Options{Secret: secretA, CookiePrefix: "acme"},
			IssuedCookie{Name: "acme.session_token", CookiePrefix: "acme", SameSite: "Lax", HTTPOnly: true}},
		{"https base URL", batest.Options{Secret: secretA, BaseURL: httpsBase},
			IssuedCookie{Name: "__Secure-better-auth.session_token", CookiePrefix: "better-auth", SecurePrefix: true, SameSite: "Lax", Secure: true, HTTPOnly: true}},
		{"jwe cache", batest.Options{Secret: secretA, Cache: "jwe"},
			IssuedCookie{Name: "better-auth.session_token", CookiePrefix: "better-auth", SameSite: "Lax", HTTPOnly: true, Cache: true, CacheStrategy: "jwe"}},
		{"bearer", batest.Options{Secret: secretA, Bearer: true},
			IssuedCookie{Name: "better-auth.session_token", CookiePrefix: "better-auth", SameSite: "Lax", HTTPOnly: true, Bearer: true}},
	}
	opts := make([]batest.Options, len(cases))
	for i, tc := range cases {
		opts[i] = tc.opts
	}
	servers := batest.StartAll(t, opts...)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := servers[i]
			const email = "issued@example.com"
			batest.SignUpFrom(t, srv.URL, srv.Origin(), email, password)
			before := time.Now()
			res := flow(t, Options{BaseURL: srv.URL, Origin: srv.Origin(), Email: email, Password: password, Candidates: candidatesA(t), Timeout: 5 * time.Second})
			auditInvariants(t, res, password, secretA)
			got := res.Issued
			exp := got.CacheExpiresAt
			got.CacheExpiresAt = time.Time{}
			if got != tc.want {
				t.Errorf("Issued\n got %+v\nwant %+v", got, tc.want)
			}
			if tc.want.Cache {
				// better-auth's default cookieCache.maxAge is 300 s.
				if exp.Before(before) || exp.After(before.Add(10*time.Minute)) {
					t.Errorf("cache expires %s, want within minutes of sign-in", exp.Format(time.RFC3339))
				}
			} else if !exp.IsZero() {
				t.Errorf("no cache, yet CacheExpiresAt %s", exp)
			}
			// The session works whatever its name: get-session accepts it.
			expectOutcomes(t, res, map[string]Acceptance{StepSignIn: Accepted, StepGetCookie: Accepted})
			bearerEnd := lastEnd(t, res, StepGetBearer)
			if tc.want.Bearer {
				expectOutcomes(t, res, map[string]Acceptance{StepGetBearer: Accepted})
			} else if bearerEnd.Status != StatusSkip {
				t.Errorf("bearer off, yet get-session-bearer %s", bearerEnd.Status)
			}
		})
	}
}
