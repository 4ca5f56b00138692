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
