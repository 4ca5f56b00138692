package probe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/authtui/authtui/internal/probe/finding"
)

// repeatedHeader is the captured Cookie header of fixture plain repeated
// to size bytes: tens of thousands of real cookies in one paste.
func repeatedHeader(tb testing.TB, size int) (header string, n int) {
	tb.Helper()
	one := loadFixture(tb, "plain").CookieHeader
	var b strings.Builder
	for b.Len() < size {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(one)
		n++
	}
	return b.String(), n
}

// twoSourceOptions are the auth service (the fixture's secret) and an API
// on another secret: every cookie of fixture plain raises
// cookie-signer-differs.
func twoSourceOptions(tb testing.TB) DecodeOptions {
	f := loadFixture(tb, "plain")
	return DecodeOptions{
		Candidates: Candidates([]Source{
			source("auth.env", map[string]string{"BETTER_AUTH_SECRET": secretA}),
			source("api.env", map[string]string{"BETTER_AUTH_SECRET": secretC}),
		}),
		Now: captureTime(tb, f),
	}
}

// A 5 MB Cookie header reported 48,100 cookies and as many findings: the
// console spent seconds per frame on them and decode --json wrote 40 MB.
// Every cookie is still verified; the report lists 200 and says so.
func TestDecodeBoundsManyCookies(t *testing.T) {
	header, n := repeatedHeader(t, 5<<20)
	rep := Decode(header, twoSourceOptions(t))
	if len(rep.Cookies) != MaxCookiesShown || rep.CookiesFound != n || rep.CookiesOmitted != n-MaxCookiesShown {
		t.Fatalf("%d cookies listed, found %d, omitted %d; want %d of %d", len(rep.Cookies), rep.CookiesFound, rep.CookiesOmitted, MaxCookiesShown, n)
	}
	if want := Thousands(n) + " cookies, showing 200 (BetterAuth's own first)"; rep.Shown() != want {
		t.Errorf("Shown() = %q, want %q", rep.Shown(), want)
	}
	for _, c := range rep.Cookies {
		if c.Signature != "valid" {
			t.Fatalf("cookie %s: signature %q", c.Name, c.Signature)
		}
	}
	ids := findingIDs(rep.Findings)
	if ids[finding.CookieSignerDiffers] != 1 || ids[finding.CookieDuplicate] != 1 || len(rep.Findings) != 2 {
		t.Fatalf("findings %v, want cookie-signer-differs and cookie-duplicate once each", ids)
	}
	for _, f := range rep.Findings {
		if f.ID == finding.CookieSignerDiffers && !strings.Contains(f.Message, "The same for "+Thousands(n)+" cookies.") {
			t.Errorf("cookie-signer-differs does not say how many cookies share it: %s", f.Message)
		}
	}
	if rep.FindingsOmitted != n-1 {
		t.Errorf("findings omitted %d, want %d", rep.FindingsOmitted, n-1)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(js) > 256<<10 {
		t.Errorf("the report of a 5 MB paste is %d bytes of JSON", len(js))
	}
}

// When the bound bites, BetterAuth's own cookies are the ones listed: a
// session token behind 500 unrelated cookies is still verified and shown.
func TestDecodeBoundKeepsBetterAuthCookies(t *testing.T) {
	f := loadFixture(t, "plain")
	var parts []string
	for i := range 500 {
		parts = append(parts, fmt.Sprintf("_ga_%d=GA1.1.%d", i, i))
	}
	parts = append(parts, f.CookieHeader)
	rep := Decode(strings.Join(parts, "; "), twoSourceOptions(t))
	if len(rep.Cookies) != MaxCookiesShown || rep.CookiesFound != 501 || rep.CookiesOmitted != 301 {
		t.Fatalf("%d listed of %d found, %d omitted", len(rep.Cookies), rep.CookiesFound, rep.CookiesOmitted)
	}
	last := rep.Cookies[len(rep.Cookies)-1]
	if last.Kind != KindSessionToken || last.Signature != "valid" {
		t.Fatalf("the session token is not listed last, verified: %+v", last)
	}
	if rep.Cookies[0].Name != "_ga_0" || rep.Cookies[198].Name != "_ga_198" {
		t.Errorf("the other cookies listed are not the first ones, in order: %s … %s", rep.Cookies[0].Name, rep.Cookies[198].Name)
	}
	if ids := findingIDs(rep.Findings); ids[finding.CookieNone] != 0 || ids[finding.CookieSignerDiffers] != 1 {
		t.Errorf("findings %v", ids)
	}
}

// Different findings of one ID are listed up to a bound, and the last one
// listed says how many more there were.
func TestDecodeBoundsDistinctFindings(t *testing.T) {
	var parts []string
	for i := range 300 {
		parts = append(parts, fmt.Sprintf("app%d.session_token=unsigned%d", i, i))
	}
	rep := Decode(strings.Join(parts, "; "), twoSourceOptions(t))
	var malformed []finding.Finding
	for _, f := range rep.Findings {
		if f.ID == finding.CookieMalformed {
			malformed = append(malformed, f)
		}
	}
	if len(malformed) != maxSameFinding {
		t.Fatalf("%d cookie-malformed findings listed, want %d", len(malformed), maxSameFinding)
	}
	if last := malformed[len(malformed)-1].Message; !strings.Contains(last, "290 more cookie-malformed finding(s) are not listed.") {
		t.Errorf("the last one listed does not say how many more: %s", last)
	}
	if rep.FindingsOmitted != 290 {
		t.Errorf("findings omitted %d, want 290", rep.FindingsOmitted)
	}
}

// A name of a megabyte is reported clipped, in the cookie and in its
// findings, not once per mention.
func TestDecodeClipsHugeNames(t *testing.T) {
	_, value, _ := strings.Cut(loadFixture(t, "plain").CookieHeader, "=")
	name := strings.Repeat("n", 1<<20)
	rep := Decode(name+"="+value, twoSourceOptions(t))
	js, _ := json.Marshal(rep)
	if len(js) > 16<<10 {
		t.Fatalf("a 1 MB cookie name makes %d bytes of JSON", len(js))
	}
	if len(rep.Cookies) != 1 || len(rep.Cookies[0].Name) > maxNameBytes+len("…") || rep.Cookies[0].Size != len(name)+len(value) {
		t.Fatalf("cookie %q… of %d bytes", rep.Cookies[0].Name[:20], rep.Cookies[0].Size)
	}
}

// The credential shapes a curl command's URL carries: user:password, a
// query token, a reset token in the path. The parsed URL is reported
// without them, however the URL is written.
func TestDecodeCurlURLShownWithoutCredentials(t *testing.T) {
	f := loadFixture(t, "plain")
	const (
		password = "hunter2-Tr0ub4dor"
		query    = "qTok3nQWxhZGRpbjpvcGVuIHNlc2FtZQ"
	)
	cookie := " -H 'cookie: " + f.CookieHeader + "'"
	for _, tc := range []struct{ in, want string }{
		{"curl 'https://demo:" + password + "@auth.example.com/api/auth/get-session?token=" + query + "&x=1'" + cookie,
			"https://auth.example.com/api/auth/get-session?…"},
		// Without a scheme, as curl takes it, and after the headers.
		{"curl" + cookie + " 'demo:" + password + "@auth.example.com/api/auth/get-session?token=" + query + "'",
			"auth.example.com/api/auth/get-session?…"},
		{"curl --url 'http://demo:" + password + "@127.0.0.1:3000/?token=" + query + "'" + cookie,
			"http://127.0.0.1:3000/?…"},
		// A URL net/url refuses (a space in the userinfo).
		{"curl 'http://demo:" + password + " x@auth.example.com/?token=" + query + "'" + cookie,
			"http://auth.example.com/?…"},
		{"curl -u 'demo:" + password + "' 'https://auth.example.com/#token=" + query + "'" + cookie,
			"https://auth.example.com/?…"},
		// The value of an option authtui does not know comes before the URL.
		{"curl --some-option " + query + " https://auth.example.com/api" + cookie,
			"https://auth.example.com/api"},
		// Netscape cookie-file syntax for -b is a file name; a lone value is
		// never echoed.
		{"curl -b " + query + " https://auth.example.com/" + cookie,
			"https://auth.example.com/"},
	} {
		rep := Decode(tc.in, twoSourceOptions(t))
		if rep.URL != tc.want {
			t.Errorf("%.60q…: URL %q, want %q", tc.in, rep.URL, tc.want)
		}
		js, _ := json.Marshal(rep)
		for _, secret := range []string{password, query} {
			if strings.Contains(string(js), secret) {
				t.Errorf("%.60q…: the report holds %q:\n%s", tc.in, secret, js)
			}
		}
		if c := cookieOf(t, rep, KindSessionToken); c.Signature != "valid" {
			t.Errorf("%.60q…: the cookie after the URL was not verified: %+v", tc.in, c)
		}
	}
}

// curl --oauth2-bearer's value is a bearer token, not the URL.
func TestDecodeCurlOAuth2Bearer(t *testing.T) {
	f := loadFixture(t, "plain")
	_, value, _ := strings.Cut(f.CookieHeader, "=")
	token, _ := DecodeCookieValue(value)
	rep := Decode("curl --oauth2-bearer '"+token+"' https://auth.example.com/api/me", twoSourceOptions(t))
	if c := cookieOf(t, rep, KindBearer); c.Signature != "valid" || c.From != "curl --oauth2-bearer" {
		t.Errorf("bearer %+v", c)
	}
	if rep.URL != "https://auth.example.com/api/me" {
		t.Errorf("URL %q", rep.URL)
	}
}

// A curl command with a quote that is never closed made the rest of the
// paste one word, the URL, which --json printed verbatim with the signed
// cookie in it, while the text said the input was empty.
func TestDecodeUnterminatedQuote(t *testing.T) {
	f := loadFixture(t, "plain")
	_, value, _ := strings.Cut(f.CookieHeader, "=")
	decoded, _ := DecodeCookieValue(value)
	token, sig, _ := strings.Cut(decoded, ".")
	for _, in := range []string{
		`curl "https://auth.example.com/api/auth/get-session -H 'cookie: ` + f.CookieHeader + `' --compressed`,
		`curl 'https://auth.example.com/api/auth/get-session -H "cookie: ` + f.CookieHeader + `" --compressed`,
		`curl $'https://auth.example.com/api/auth/get-session -H "cookie: ` + f.CookieHeader + `"`,
		`curl 'https://auth.example.com/api/auth/get-session' -H 'accept: */*' -H 'cookie: ` + f.CookieHeader,
	} {
		rep := Decode(in, twoSourceOptions(t))
		ids := findingIDs(rep.Findings)
		if ids[finding.InputUnparsable] != 1 || ids[finding.CookieNone] != 1 {
			t.Errorf("%.50q…: findings %v, want input-unparsable and cookie-none", in, ids)
		}
		js, _ := json.Marshal(rep)
		for _, part := range []string{token, sig, value[:20]} {
			if strings.Contains(string(js), part) {
				t.Errorf("%.50q…: the report echoes the paste after the quote:\n%s", in, js)
			}
		}
		for _, f := range rep.Findings {
			if strings.Contains(f.Message, "the input is empty") {
				t.Errorf("%.50q…: %s says the input is empty", in, f.ID)
			}
			if f.ID == finding.InputUnparsable && !strings.Contains(f.Message, "unterminated") {
				t.Errorf("input-unparsable does not name the problem: %s", f.Message)
			}
		}
	}
	// What precedes the quote is still read.
	rep := Decode(`curl 'https://auth.example.com/x' -H 'cookie: `+f.CookieHeader+`' -H 'x-trace: abc`, twoSourceOptions(t))
	if c := cookieOf(t, rep, KindSessionToken); c.Signature != "valid" || !rep.Findings.Has(finding.InputUnparsable) {
		t.Errorf("cookie before the open quote: %+v, findings %v", c, findingIDs(rep.Findings))
	}
}
