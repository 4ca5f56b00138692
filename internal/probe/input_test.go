package probe

import (
	"strings"
	"testing"
)

func TestParseInputForms(t *testing.T) {
	f := loadFixture(t, "cache-compact")
	header := f.CookieHeader
	tokPair := strings.Split(header, "; ")[0]
	tokName, tokValue, _ := strings.Cut(tokPair, "=")
	sc, _ := f.exchange(t, "sign-in")
	decoded, _ := DecodeCookieValue(tokValue)

	type want struct {
		kind ItemKind
		name string
	}
	for _, tc := range []struct {
		name  string
		input string
		want  []want
	}{
		{"bare value", tokValue, []want{{ItemBare, ""}}},
		{"bare value, decoded", decoded, []want{{ItemBare, ""}}},
		{"name=value", tokPair, []want{{ItemCookie, tokName}}},
		{"Cookie header", "Cookie: " + header, []want{{ItemCookie, tokName}, {ItemCookie, "better-auth.session_data"}}},
		{"lowercase header, CRLF", "cookie: " + header + "\r\n", []want{{ItemCookie, tokName}, {ItemCookie, "better-auth.session_data"}}},
		{"Set-Cookie lines", "Set-Cookie: " + sc[0] + "\nSet-Cookie: " + sc[1], []want{{ItemSetCookie, tokName}, {ItemSetCookie, "better-auth.session_data"}}},
		{"Set-Cookie without header name", sc[0], []want{{ItemSetCookie, tokName}}},
		{"curl -H", "curl 'http://localhost:3000/api/auth/get-session' \\\n  -H 'accept: */*' \\\n  -H 'cookie: " + header + "' \\\n  --compressed",
			[]want{{ItemCookie, tokName}, {ItemCookie, "better-auth.session_data"}}},
		{"curl -b and $'…'", "curl $'http://localhost:3000/x' -b $'" + tokPair + "' -H $'Authorization: Bearer " + decoded + "'",
			[]want{{ItemCookie, tokName}, {ItemBearer, ""}}},
		{"curl double quotes (Windows copy)", `curl "http://localhost:3000/x" -H "Cookie: ` + tokPair + `"`, []want{{ItemCookie, tokName}}},
		{"Authorization", "Authorization: Bearer " + decoded, []want{{ItemBearer, ""}}},
		{"DevTools rows", "Name\tValue\tDomain\n" + tokName + "\t" + tokValue + "\tlocalhost\t/\t2026-12-04\t106\t✓\t\tLax",
			[]want{{ItemCookie, tokName}}},
		{"wrapped value", "  " + tokValue[:40] + "\n" + tokValue[40:] + "  \n", []want{{ItemBare, ""}}},
		{"folded header", "Cookie: " + tokPair + ";\n  better-auth.session_data=abc", []want{{ItemCookie, tokName}, {ItemCookie, "better-auth.session_data"}}},
		{"request headers block", "GET /api/auth/get-session HTTP/1.1\nHost: localhost:3000\nUser-Agent: x\nCookie: " + tokPair, []want{{ItemCookie, tokName}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ParseInput(tc.input)
			if len(p.Items) != len(tc.want) {
				t.Fatalf("got %d items %+v, want %d", len(p.Items), p.Items, len(tc.want))
			}
			for i, w := range tc.want {
				if p.Items[i].Kind != w.kind || p.Items[i].Name != w.name {
					t.Errorf("item %d = %s %q, want %s %q", i, p.Items[i].Kind, p.Items[i].Name, w.kind, w.name)
				}
			}
		})
	}
}

// However it is pasted, the same cookie verifies the same way.
func TestParseInputFormsAllVerify(t *testing.T) {
	f := loadFixture(t, "plain")
	now := captureTime(t, f)
	auth := source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA})
	_, value, _ := strings.Cut(f.CookieHeader, "=")
	decoded, _ := DecodeCookieValue(value)
	for _, input := range []string{
		f.CookieHeader, value, decoded, "Cookie: " + f.CookieHeader,
		"curl http://localhost:3000 -H 'Cookie: " + f.CookieHeader + "'",
		value[:30] + "\n" + value[30:],
	} {
		rep := decodeWith(t, input, now, "", "", auth)
		if len(rep.Cookies) != 1 || rep.Cookies[0].Signature != "valid" {
			t.Errorf("%.40q: %+v", input, rep.Cookies)
		}
	}
}

func TestShellWords(t *testing.T) {
	got, _ := shellWords(`curl 'a b' "c \"d\"" $'e\'f\n' g\ h ^` + "\n" + `i`)
	want := []string{"curl", "a b", `c "d"`, "e'f\n", "g h", "i"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Long runs of continuation lines are glued once, not line by line: this
// 400 KB paste took seconds when each line copied the growing value.
func TestParseInputManyContinuationLines(t *testing.T) {
	for _, head := range []string{"a=b\n", "Set-Cookie: a=b\n"} {
		p := ParseInput(head + strings.Repeat("x\n", 200_000))
		if len(p.Items) != 1 || len(p.Items[0].Value) != 1+200_000 {
			t.Fatalf("%q: %d items", head, len(p.Items))
		}
	}
}

func TestParseInputPseudoHeaders(t *testing.T) {
	p := ParseInput(":authority: localhost:3000\n:method: GET\ncookie: a=b")
	if len(p.Items) != 1 || p.Items[0].Name != "a" || len(p.Ignored) != 2 {
		t.Fatalf("items %+v ignored %v", p.Items, p.Ignored)
	}
}
