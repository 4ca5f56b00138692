package store

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeSession: a stored value is remote input (whatever is in the
// store under a token-shaped key). Decoding never panics, and what it
// returns is fit for a screen.
func FuzzDecodeSession(f *testing.F) {
	// The shape BetterAuth 1.7.25 writes (JSON.stringify of {session, user}).
	f.Add(`{"session":{"expiresAt":"2026-12-08T13:47:59.809Z","token":"Wa0p6SxxxxxxxxxxxxxxxxxxxxxxxxxX","createdAt":"2026-12-01T13:47:59.809Z","updatedAt":"2026-12-01T13:47:59.809Z","ipAddress":"","userAgent":"","userId":"EZUAD8lCjKY6YfGDOYdlQbqRcn6QE9v9","id":"jKsmHBwwVFmSTcolGqxRzkU0oc6uIrIR"},"user":{"name":"ada","email":"ada@example.com","emailVerified":false,"image":null,"createdAt":"2026-12-01T13:47:59.000Z","updatedAt":"2026-12-01T13:47:59.000Z","id":"EZUAD8lCjKY6YfGDOYdlQbqRcn6QE9v9"}}`)
	f.Add(`{"session":{"id":7,"userId":8,"expiresAt":1796000000000},"user":{"email":"\u001b[2J"}}`)
	f.Add(`{"session":{"expiresAt":"2026-12-08 13:47:59.809+00"},"user":{}}`)
	f.Add(`{"session":null,"user":null}`)
	f.Add(`{"session":{"expiresAt":-1e999},"user":{}}`)
	f.Add(`{"session":{"expiresAt":"\xff"},"user":{"email":"` + strings.Repeat("é", 300) + `"}}`)
	f.Add(`[]`)
	f.Add(``)
	f.Add(`{"session":{"expiresAt":[{"a":{}}]},"user":{"id":{"x":1}}}`)
	f.Fuzz(func(t *testing.T, in string) {
		d, err := decodeSession([]byte(in))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a reason")
			}
			return
		}
		if d.ExpiresAt.IsZero() && !strings.Contains(in, "0001-01-01") {
			t.Fatalf("decoded without an expiry: %+v", d)
		}
		for _, s := range []string{d.SessionID, d.UserID, d.Email} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q", s)
			}
			for _, r := range s {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
					t.Fatalf("control character in %q", s)
				}
			}
			if utf8.RuneCountInString(s) > 1200 {
				t.Fatalf("unbounded field (%d runes)", utf8.RuneCountInString(s))
			}
		}
		_ = activeListHas([]byte(in), d.SessionID)
	})
}

// FuzzActiveList: the active-sessions list is remote input too.
func FuzzActiveList(f *testing.F) {
	f.Add(`[{"token":"abc","expiresAt":1796000000000}]`, "abc")
	f.Add(`[null,{"token":5},{}]`, "")
	f.Add(`{"token":"abc"}`, "abc")
	f.Fuzz(func(t *testing.T, in, token string) {
		_ = activeListHas([]byte(in), token)
	})
}
