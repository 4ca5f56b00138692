package browser

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzLanded: where a social sign-in ended is a URL from outside (the
// provider's or BetterAuth's redirect). What is shown of it carries no
// query but the error code, and no control characters.
func FuzzLanded(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:3000/__authtui__/done",
		"http://127.0.0.1:3000/api/auth/error?error=state_mismatch&state=AbCdEfGhIjKlMnOpQrStUvWxYz012345",
		"http://127.0.0.1:5556/oidc/authorize?client_id=x&code=SplxlOBeZQQYbYS6WxSbIA",
		"chrome-error://chromewebdata/", "%zz?code=abc", "http://h/?error=\x1b]0;pwned\x07", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, loc string) {
		shown, code := landed(loc)
		head, query, _ := strings.Cut(shown, "?")
		if query != "" && query != "…" && !strings.HasPrefix(query, "error=") {
			t.Fatalf("a query shown: %q", shown)
		}
		for _, r := range head + code {
			if unicode.IsControl(r) {
				t.Fatalf("a control character: %q", shown)
			}
		}
		_ = cookieName(loc)
	})
}
