package login

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzRedactQuery: the provider's and BetterAuth's redirect URLs come
// from outside. Whatever they hold, redacting one never panics and never
// shows a code, state or token whole.
func FuzzRedactQuery(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:5556/oidc/authorize?client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fapi%2Fauth%2Fcallback%2Fx&response_type=code&scope=openid&state=AbCdEfGhIjKlMnOpQrStUvWxYz012345&code_challenge=zzzzzzzzzzzzzzzzzzzz&code_challenge_method=S256&nonce=nnnnnnnnnnnnnnnnnnnn",
		"http://127.0.0.1:3000/api/auth/callback/x?code=SplxlOBeZQQYbYS6WxSbIA&state=AbCdEfGhIjKlMnOpQrStUvWxYz012345",
		"http://127.0.0.1:3000/api/auth/error?error=state_mismatch",
		"%zz", "http://[::1", "http://h/?code=%ff%fe", "http://h/?state=" + strings.Repeat("s", 5000),
	} {
		f.Add(s, "SplxlOBeZQQYbYS6WxSbIA")
	}
	f.Fuzz(func(t *testing.T, raw, secret string) {
		out := redactQuery(raw)
		if !opaque(secret) || strings.Contains(raw, secret) {
			return // codes and tokens are opaque strings of 16 or more
		}
		for _, k := range []string{"code", "state", "nonce", "id_token", "access_token"} {
			u := "http://127.0.0.1:3000/api/auth/callback/x?" + k + "=" + url.QueryEscape(secret) + "&" + raw
			if got := redactQuery(u); strings.Contains(got, secret) {
				t.Fatalf("%s shown whole: %q", k, got)
			}
		}
		_ = out
	})
}

// The public parameters stay readable: a long client_id (Google's are)
// is what a redirect_uri_mismatch is read against.
func TestRedactQueryKeepsPublicParameters(t *testing.T) {
	got := redactQuery("https://accounts.example.com/o/oauth2/auth?client_id=123456789012-abcdefghijklmnop.apps.example.com&scope=openid&state=AbCdEfGhIjKlMnOpQrStUvWxYz012345")
	if !strings.Contains(got, "client_id=123456789012-abcdefghijklmnop.apps.example.com") || strings.Contains(got, "AbCdEfGhIjKlMnOp") {
		t.Errorf("%s", got)
	}
}
