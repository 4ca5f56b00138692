package login

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

func TestSocialStateLoss(t *testing.T) {
	u := func(s string) *url.URL { v, _ := url.Parse(s); return v }
	idp := u("https://accounts.example-idp.com/authorize")
	cases := []struct {
		name   string
		ck     http.Cookie
		setter string
		cb     string
		want   string // "" = the cookie comes back
	}{
		{"same host", http.Cookie{Path: "/", SameSite: http.SameSiteLaxMode}, "auth.example.com", "https://auth.example.com/api/auth/callback/google", ""},
		{"another port", http.Cookie{Path: "/"}, "127.0.0.1", "http://127.0.0.1:9/api/auth/callback/x", ""},
		{"preview host", http.Cookie{Path: "/"}, "pr-12.preview.example.com", "https://auth.example.com/api/auth/callback/google", "lands on host auth.example.com"},
		{"domain covers", http.Cookie{Path: "/", Domain: "example.com"}, "app.example.com", "https://auth.example.com/api/auth/callback/google", ""},
		{"strict cross-site", http.Cookie{Path: "/", SameSite: http.SameSiteStrictMode}, "auth.example.com", "https://auth.example.com/api/auth/callback/google", "SameSite=Strict"},
		{"none without secure", http.Cookie{Path: "/", SameSite: http.SameSiteNoneMode}, "auth.example.com", "https://auth.example.com/api/auth/callback/google", "refuse to store"},
		{"secure over http", http.Cookie{Path: "/", Secure: true}, "auth.example.com", "http://auth.example.com/api/auth/callback/google", "plain http"},
		{"path", http.Cookie{Path: "/app"}, "auth.example.com", "https://auth.example.com/api/auth/callback/google", "Path=/app"},
	}
	for _, c := range cases {
		got := strings.Join(stateLoss(&c.ck, c.setter, idp, u(c.cb), nil, nil), "; ")
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	// Strict on a same-site provider (ports do not count) comes back.
	ck := http.Cookie{Path: "/", SameSite: http.SameSiteStrictMode}
	if got := stateLoss(&ck, "127.0.0.1", u("http://127.0.0.1:5556/oidc/authorize"), u("http://127.0.0.1:3000/api/auth/callback/x"), u("http://127.0.0.1:3000"), u("http://127.0.0.1:3000")); got != nil {
		t.Errorf("strict, same site: %q", got)
	}
}

func TestSocialRedactQuery(t *testing.T) {
	got := redactQuery("https://idp.example/authorize?client_id=app&state=s3cr3tstatevalue0123456789&code=abcdefghijklmnop&redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fx%3Dy&error=access_denied")
	for _, bad := range []string{"s3cr3tstatevalue", "abcdefghijklmnop", "x=y"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q shows %q", got, bad)
		}
	}
	for _, want := range []string{"state=s3cr…", "code=abcd…", "client_id=app", "error=access_denied", "redirect_uri=https://a.example/cb?…"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

// The resolved base URL's label only says where a source's URL was read:
// it is not listed a second time. Another environment's URL stays, with
// its environment.
func TestSocialSourceBaseURLs(t *testing.T) {
	srcs := []probe.Source{
		{Label: "auth-service/.env", Vars: map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:3000"}},
		{Label: "api/.env", Vars: map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:3000/"}},
	}
	got := SourceBaseURLs(srcs,
		SourcedURL{Label: "BETTER_AUTH_URL in auth-service/.env", URL: "http://127.0.0.1:3000"},
		SourcedURL{Label: "--base-url", URL: "http://127.0.0.1:3000"},
		SourcedURL{Label: "BETTER_AUTH_URL of auth-service (preview)", URL: "https://pr-1.example.dev", Env: "preview"})
	var labels []string
	for _, u := range got {
		labels = append(labels, u.Label)
	}
	want := "auth-service/.env|api/.env|--base-url|BETTER_AUTH_URL of auth-service (preview)"
	if strings.Join(labels, "|") != want {
		t.Errorf("labels %q, want %q", strings.Join(labels, "|"), want)
	}
	if got[len(got)-1].Env != "preview" {
		t.Errorf("the other environment's URL lost its environment: %+v", got[len(got)-1])
	}
}

// Several facts seen at one step make one evidence entry: "seen at"
// names each step once.
func TestSocialPerStep(t *testing.T) {
	got := perStep([]finding.Evidence{
		{Step: StepCallback, Seen: "error=state_mismatch"},
		{Step: StepCallback, Seen: "state cookie sent"},
		{Step: StepState, Seen: "verification row auth-state:abcd… in public.verification"},
		{Step: StepCallback, Seen: "state cookie sent"},
	})
	if len(got) != 2 || got[0].Seen != "error=state_mismatch; state cookie sent" || got[1].Step != StepState {
		t.Errorf("perStep: %+v", got)
	}
}
