package textsafe

import "testing"

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"Mozilla/5.0 (X11)":     "Mozilla/5.0 (X11)",
		"\x1b]0;pwned\x07":      `\x1b]0;pwned\x07`,
		"a\x1b[2Jb":             `a\x1b[2Jb`,
		"tab\there\nnl":         `tab\x09here\x0anl`,
		"c1\u009bcsi":           `c1\u009bcsi`,
		"bidi\u202eevil":        `bidi\u202eevil`,
		"bad\xffutf8":           `bad\xffutf8`,
		"émoji ☃ ok":            "émoji ☃ ok",
		"alice@example.com\x00": `alice@example.com\x00`,
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := Truncate("abcdef", 4); got != "abc…" {
		t.Errorf("got %q", got)
	}
	if got := Truncate("ab", 4); got != "ab" {
		t.Errorf("got %q", got)
	}
	if got := Truncate("\x1b", 0); got != "" {
		t.Errorf("got %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\x1b]0;pwned\x07")
	f.Add("plain")
	f.Fuzz(func(t *testing.T, s string) {
		out := Clean(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
				t.Fatalf("Clean(%q) left control %U", s, r)
			}
		}
	})
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://auth.example.com/api/auth":                           "https://auth.example.com/api/auth",
		"https://user:hunter2@auth.example.com/x":                     "https://auth.example.com/x",
		"http://localhost:3000/reset-password?token=abcdefghijklmnop": "http://localhost:3000/reset-password?…",
		"/login?next=%1b]0;pwned%07":                                  "/login?next=%1b]0;pwned%07",
		"https://a.example/\x1b[2J":                                   `https://a.example/\x1b[2J`,
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"Set-Cookie: better-auth.session_token=Ab12Cd34Ef56Gh78.sig%2Bsig%3D; Path=/": "Set-Cookie: better-auth.session_token=Ab12Cd…; Path=/",
		"authorization: Bearer Ab12Cd34Ef56Gh78Ij90":                                  "authorization: Bearer Ab12Cd…",
		`{"token":"Ab12Cd34Ef56Gh78Ij90"}`:                                            `{"token":"Ab12Cd…"}`,
		"GET /api/auth/get-session 200 6.5ms session=found":                           "GET /api/auth/get-session 200 6.5ms session=found",
	} {
		if got := RedactCredentials(in); got != want {
			t.Errorf("RedactCredentials(%q) = %q, want %q", in, got, want)
		}
	}
}
