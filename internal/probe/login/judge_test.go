package login

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/probe"
)

// answer is one HTTP answer as the judges see it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// fetchAnswer sends one request to a loopback server, redirects not
// followed, and returns what came back.
func fetchAnswer(t *testing.T, method, rawURL string, h http.Header, body []byte) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, textsafeURL(rawURL), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b}
}

func textsafeURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "?"
	}
	u.RawQuery = ""
	return u.String()
}

// currentCandidate is the candidate of secret as a source's current secret.
func currentCandidate(t *testing.T, secret string) probe.Candidate {
	t.Helper()
	for _, c := range probe.Candidates([]probe.Source{{Label: "test.env", Vars: map[string]string{"BETTER_AUTH_SECRET": secret}}}) {
		if c.Role == probe.RoleCurrent {
			return c
		}
	}
	t.Fatal("no current candidate")
	return probe.Candidate{}
}

// randomToken is a token shaped like BetterAuth's: 32 alphanumerics.
func randomToken(t *testing.T) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// signedCookie is the session cookie value BetterAuth would send for
// token signed with c (URL-encoded "<token>.<signature>").
func signedCookie(token string, c probe.Candidate) string {
	return url.QueryEscape(token + "." + probe.Sign(token, c))
}

// realCapture is what a real BetterAuth (bearer plugin on) answered:
// get-session and /api/me to good and bad credentials, and sign-in.
type realCapture struct {
	sess    batest.Session
	signIn  answer // POST sign-in/email: 200 {"redirect":false,"token":…,"user":{…}}
	answers map[string]answer
}

// captureReal signs a user in on a fresh server and captures its answers.
func captureReal(t *testing.T) realCapture {
	t.Helper()
	srv := batest.Start(t, batest.Options{Secret: secretA, Bearer: true})
	const email = "judge@example.com"
	batest.SignUp(t, srv.URL, email, password)
	sess := batest.SignIn(t, srv.URL, email, password)
	gs := srv.URL + "/api/auth/get-session"
	get := func(h http.Header) answer { return fetchAnswer(t, http.MethodGet, gs, h, nil) }
	cookie := func(v string) http.Header { return http.Header{"Cookie": {"better-auth.session_token=" + v}} }

	badSig := sess.Token + "." + probe.Sign(sess.Token, currentCandidate(t, secretC))
	rc := realCapture{sess: sess, answers: map[string]answer{
		"session by cookie":              get(http.Header{"Cookie": {sess.CookieHeader}}),
		"session by bearer":              get(http.Header{"Authorization": {"Bearer " + sess.SetAuthToken}}),
		"null without a credential":      get(nil),
		"null for a bad signature":       get(cookie(url.QueryEscape(badSig))),
		"null and cleared for no row":    get(cookie(signedCookie(randomToken(t), currentCandidate(t, secretA)))),
		"api accepts the cookie":         fetchAnswer(t, http.MethodGet, srv.URL+"/api/me", http.Header{"Cookie": {sess.CookieHeader}}, nil),
		"api rejects a bad signature":    fetchAnswer(t, http.MethodGet, srv.URL+"/api/me", cookie(url.QueryEscape(badSig)), nil),
		"better-auth 404 for a bad path": fetchAnswer(t, http.MethodGet, srv.URL+"/api/auth/no-such-route", nil, nil),
	}}
	body, _ := json.Marshal(map[string]any{"email": email, "password": password})
	rc.signIn = fetchAnswer(t, http.MethodPost, srv.URL+"/api/auth/sign-in/email", http.Header{"Origin": {srv.Origin()}}, body)
	if rc.signIn.status != http.StatusOK {
		t.Fatalf("sign-in answered %d", rc.signIn.status)
	}
	return rc
}

// TestJudgeRealAnswers judges what a real BetterAuth 1.7.25 answers.
func TestJudgeRealAnswers(t *testing.T) {
	rc := captureReal(t)
	cases := []struct {
		name    string
		gs, api Acceptance
		cleared bool
		seen    string // Describe's output, exactly
	}{
		{"session by cookie", Accepted, Accepted, false, `200 {"session":{…},"user":{…}}`},
		{"session by bearer", Accepted, Accepted, false, `200 {"session":{…},"user":{…}}`},
		{"null without a credential", Rejected, Rejected, false, "200 null"},
		{"null for a bad signature", Rejected, Rejected, false, "200 null"},
		{"null and cleared for no row", Rejected, Rejected, true, "200 null"},
		// /api/me's own body is not a get-session answer.
		{"api accepts the cookie", NotSession, Accepted, false, `200 {"user":{…}}`},
		{"api rejects a bad signature", Rejected, Rejected, false, `401 {"error":"unauthorized"}`},
		{"better-auth 404 for a bad path", Rejected, Rejected, false, "404 (empty body)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := rc.answers[tc.name]
			if !ok {
				t.Fatal("not captured")
			}
			gs := JudgeGetSession(a.status, a.header, a.body)
			api := JudgeAPI(a.status, a.header, a.body)
			if gs.Result != tc.gs || api.Result != tc.api {
				t.Errorf("get-session judged %q, API judged %q; want %q, %q (seen %s)", gs.Result, api.Result, tc.gs, tc.api, mask(gs.Seen, rc.sess))
			}
			if gs.HTTPStatus != a.status || api.HTTPStatus != a.status {
				t.Errorf("HTTPStatus %d / %d, answer %d", gs.HTTPStatus, api.HTTPStatus, a.status)
			}
			if gs.Cleared != tc.cleared || api.Cleared != tc.cleared {
				t.Errorf("Cleared %v / %v, want %v (%d Set-Cookie lines)", gs.Cleared, api.Cleared, tc.cleared, len(a.header.Values("Set-Cookie")))
			}
			if gs.Seen != tc.seen || api.Seen != tc.seen {
				t.Errorf("Seen %q / %q, want %q", mask(gs.Seen, rc.sess), mask(api.Seen, rc.sess), tc.seen)
			}
			if gs.Step != "" || gs.Via != "" || !gs.Ran() {
				t.Errorf("the judge fills only the verdict: %+v", gs)
			}
			assertNoCredential(t, gs.Seen, rc.sess)
		})
	}
	// The capture itself: the no-row answer clears all three cookies, as
	// the fixtures say, and the bad signature clears none.
	if n := len(rc.answers["null and cleared for no row"].header.Values("Set-Cookie")); n != 3 {
		t.Errorf("no-row answer has %d Set-Cookie lines, want 3", n)
	}
	if n := len(rc.answers["null for a bad signature"].header.Values("Set-Cookie")); n != 0 {
		t.Errorf("bad-signature answer has %d Set-Cookie lines, want 0", n)
	}
}

// skipAPI marks a shape whose API verdict the table does not pin.
const skipAPI Acceptance = "(not asserted)"

// TestJudgeHostileShapes: what proxies, CDNs, WAFs and API handlers that
// are not BetterAuth answer.
func TestJudgeHostileShapes(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	js := http.Header{"Content-Type": {"application/json"}}
	loc := func(l string) http.Header { return http.Header{"Location": {l}} }
	// A non-BetterAuth app's own sign-out: clears with a past Expires.
	expired := http.Header{"Set-Cookie": {"better-auth.session_token=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"}}
	dataOnly := http.Header{"Set-Cookie": {"better-auth.session_data=; Max-Age=0; Path=/"}}
	cases := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		gs, api Acceptance
		seen    string
		cleared bool
	}{
		{"empty 200", 200, nil, "", Rejected, Rejected, "200 (empty body)", false},
		{"whitespace 200", 200, js, " \n", Rejected, Rejected, "200 (empty body)", false},
		{"204", 204, nil, "", Rejected, Rejected, "204 (empty body)", false},
		{"null with spaces", 200, js, " null\n", Rejected, Rejected, "200 null", false},
		{"empty object", 200, js, "{}", Rejected, Rejected, "200 {}", false},
		{"session null", 200, js, `{"session":null}`, Rejected, Rejected, `200 {"session":null}`, false},
		{"user null", 200, js, `{"user":null}`, Rejected, Rejected, `200 {"user":null}`, false},
		{"both null", 200, js, `{"session":null,"user":null}`, Rejected, Rejected, `200 {"session":null,"user":null}`, false},
		{"session object, user null", 200, js, `{"session":{"id":"x"},"user":null}`, Rejected, Rejected, `200 {"session":{…},"user":null}`, false},
		{"session without user", 200, js, `{"session":{"id":"x"}}`, NotSession, Accepted, `200 {"session":{…}}`, false},
		{"session and user strings", 200, js, `{"session":"x","user":"y"}`, NotSession, Accepted, `200 {"session":"x","user":"y"}`, false},
		{"cached HTML page", 200, html, "<!doctype html><html><head><title>Acme — Dashboard</title></head><body>…</body></html>", NotSession, skipAPI, `200 text/html page "Acme — Dashboard"`, false},
		{"HTML without content type", 200, nil, "<html><body>hi</body></html>", NotSession, skipAPI, "200 text/html page", false},
		{"other JSON", 200, js, `{"ok":true}`, NotSession, Accepted, `200 {"ok":true}`, false},
		// Handlers that answer 200 and say no in the body.
		{"200 error", 200, js, `{"error":"unauthorized"}`, NotSession, Rejected, `200 {"error":"unauthorized"}`, false},
		{"200 GraphQL errors", 200, js, `{"data":null,"errors":[{"message":"not signed in"}]}`, NotSession, Rejected, `200 {"data":null,"errors":[…]}`, false},
		{"200 authenticated false", 200, js, `{"authenticated":false}`, NotSession, Rejected, `200 {"authenticated":false}`, false},
		{"200 false", 200, js, `false`, NotSession, Rejected, "200 false", false},
		{"200 error null is no refusal", 200, js, `{"error":null,"data":{"id":1}}`, NotSession, Accepted, `200 {"error":null,"data":{…}}`, false},
		{"JSON array", 200, js, `[{"id":1}]`, NotSession, Accepted, "200 […]", false},
		{"JSON string", 200, js, `"ok"`, NotSession, Accepted, `200 "ok"`, false},
		{"truncated JSON", 200, js, `{"session":{"id":"abc"`, NotSession, skipAPI, `200 application/json "{\"session\":{\"id\":\"abc\""`, false},
		{"plain text", 200, http.Header{"Content-Type": {"text/plain"}}, "OK", NotSession, Accepted, `200 text/plain "OK"`, false},
		{"302 to sign-in", 302, loc("/sign-in?callbackURL=%2Fdashboard"), "", Rejected, Rejected, "302 → /sign-in?…", false},
		{"302 absolute", 302, loc("https://app.example.com/login?next=/api/me#x"), "", Rejected, Rejected, "302 → https://app.example.com/login?…", false},
		{"302 without Location", 302, nil, "", Rejected, Rejected, "302 redirect without a Location", false},
		{"301 http to https", 301, loc("https://auth.example.com/api/auth/get-session"), "", Rejected, Rejected, "301 → https://auth.example.com/api/auth/get-session", false},
		{"307", 307, loc("/api/auth/get-session/"), "", Rejected, Rejected, "307 → /api/auth/get-session/", false},
		{"401 from a proxy", 401, http.Header{"Www-Authenticate": {`Basic realm="staging"`}}, "", Rejected, Rejected, "401 (empty body)", false},
		{"401 JSON", 401, js, `{"message":"Unauthorized"}`, Rejected, Rejected, `401 {"message":"Unauthorized"}`, false},
		{"403 WAF page", 403, html, "<html><head><title>Attention Required! | Cloudflare</title></head><body>blocked</body></html>", Rejected, Rejected, `403 text/html page "Attention Required! | Cloudflare"`, false},
		{"404", 404, nil, "", Rejected, Rejected, "404 (empty body)", false},
		{"429", 429, http.Header{"Retry-After": {"30"}}, "Too Many Requests", Rejected, Rejected, `429 body "Too Many Requests"`, false},
		{"500 JSON", 500, js, `{"error":"internal"}`, ServerError, ServerError, `500 {"error":"internal"}`, false},
		{"500 empty", 500, nil, "", ServerError, ServerError, "500 (empty body)", false},
		{"502 HTML", 502, html, "<html><head><title>502 Bad Gateway</title></head></html>", ServerError, ServerError, `502 text/html page "502 Bad Gateway"`, false},
		{"503", 503, http.Header{"Content-Type": {"text/plain"}}, "Service Unavailable", ServerError, ServerError, `503 text/plain "Service Unavailable"`, false},
		{"1xx is nothing", 103, nil, "", NotSession, Rejected, "103 (empty body)", false},
		{"200 null clearing with Expires", 200, merge(js, expired), "null", Rejected, Rejected, "200 null", true},
		{"200 null clearing only the cache", 200, merge(js, dataOnly), "null", Rejected, Rejected, "200 null", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			gs := JudgeGetSession(tc.status, h, []byte(tc.body))
			if gs.Result != tc.gs {
				t.Errorf("get-session judged %q, want %q", gs.Result, tc.gs)
			}
			if tc.api != skipAPI {
				if api := JudgeAPI(tc.status, h, []byte(tc.body)); api.Result != tc.api {
					t.Errorf("API judged %q, want %q", api.Result, tc.api)
				}
			}
			if gs.Seen != tc.seen {
				t.Errorf("Seen %q, want %q", gs.Seen, tc.seen)
			}
			if gs.Cleared != tc.cleared {
				t.Errorf("Cleared %v, want %v", gs.Cleared, tc.cleared)
			}
			if gs.HTTPStatus != tc.status {
				t.Errorf("HTTPStatus %d", gs.HTTPStatus)
			}
			// A rejection is never presented as acceptance, whatever the status.
			if tc.status < 200 || tc.status >= 300 {
				if gs.Result == Accepted || JudgeAPI(tc.status, h, []byte(tc.body)).Result == Accepted {
					t.Errorf("a %d is accepted", tc.status)
				}
			}
		})
	}
}

func merge(hs ...http.Header) http.Header {
	out := http.Header{}
	for _, h := range hs {
		for k, vs := range h {
			out[k] = append(out[k], vs...)
		}
	}
	return out
}

// nullAnswer separates a 2xx null from a refusing status.
func TestNullAnswer(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{{200, "null", true}, {200, "{}", true}, {204, "", true}, {401, "", false}, {302, "", false}, {500, "null", false}, {200, `{"ok":true}`, false}} {
		if got := nullAnswer(JudgeAPI(tc.status, http.Header{}, []byte(tc.body))); got != tc.want {
			t.Errorf("nullAnswer(%d %s) = %v", tc.status, tc.body, got)
		}
	}
}

// credentials lists what authenticates a session: its token, the signed
// cookie's signature (raw and URL-encoded) and the bearer token, plus
// extra values (another session's token).
func credentials(sess batest.Session, extra ...string) map[string]string {
	signed, _ := url.QueryUnescape(sess.SessionCookie)
	_, sig, _ := strings.Cut(signed, ".")
	out := map[string]string{
		"the session token":      sess.Token,
		"the signed cookie":      sess.SessionCookie,
		"the bearer token":       sess.SetAuthToken,
		"the cookie's signature": sig,
		"the encoded signature":  url.QueryEscape(sig),
	}
	for i, v := range extra {
		out[fmt.Sprintf("extra credential %d", i+1)] = v
	}
	return out
}

// assertNoCredential fails when s holds more of a credential than
// TokenPrefix shows (its first 6 characters). The failure message masks
// them.
func assertNoCredential(t *testing.T, s string, sess batest.Session, extra ...string) {
	t.Helper()
	for what, v := range credentials(sess, extra...) {
		if len(v) >= 7 && strings.Contains(s, v[:7]) {
			t.Errorf("%q shows more than a prefix of %s", mask(s, sess, extra...), what)
		}
	}
}

// mask replaces the credentials in s, and whatever follows a credential's
// first characters, for failure messages.
func mask(s string, sess batest.Session, extra ...string) string {
	for _, v := range credentials(sess, extra...) {
		if len(v) >= 7 {
			re := regexp.MustCompile(regexp.QuoteMeta(v[:7]) + `[A-Za-z0-9._~+/=%-]*`)
			s = re.ReplaceAllString(s, "<CREDENTIAL>")
		}
	}
	return s
}

// TestDescribeNeverShowsCredentials: the real get-session and sign-in
// bodies, and hostile servers that echo the credential they were sent.
func TestDescribeNeverShowsCredentials(t *testing.T) {
	rc := captureReal(t)
	sess := rc.sess
	tok, bearer := sess.Token, sess.SetAuthToken
	signed, _ := url.QueryUnescape(sess.SessionCookie)
	body := rc.answers["session by cookie"].body
	if !bytes.Contains(body, []byte(tok)) {
		t.Fatal("the captured session body does not carry the token: the test would prove nothing")
	}
	var in struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(rc.signIn.body, &in) != nil || len(in.Token) < 20 || in.Token == tok {
		t.Fatal("the captured sign-in body does not carry a new session's token")
	}
	js := http.Header{"Content-Type": {"application/json"}}
	text := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	html := http.Header{"Content-Type": {"text/html"}}
	loc := func(l string) http.Header { return http.Header{"Location": {l}} }
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   string // a substring Describe must show ("" = none)
	}{
		{"real session body", 200, rc.answers["session by cookie"].header, string(body), `{"session":{…},"user":{…}}`},
		{"real session body by bearer", 200, rc.answers["session by bearer"].header, string(rc.answers["session by bearer"].body), `{"session":{…}`},
		{"real sign-in body", 200, rc.signIn.header, string(rc.signIn.body), `"token":"` + in.Token[:6] + `…"`},
		{"session object at the top", 200, js, string(sessionObject(t, body)), `"token":"` + tok[:6] + `…"`},
		{"token under another key", 200, js, `{"value":"` + tok + `"}`, `"value":"` + tok[:6] + `…"`},
		{"bearer under a camelCase key", 200, js, `{"accessToken":"` + bearer + `"}`, `"accessToken":"`},
		{"authorization echoed", 401, js, `{"authorization":"Bearer ` + bearer + `"}`, `"authorization":"`},
		{"top-level string", 200, js, `"` + signed + `"`, ""},
		{"array of tokens", 200, js, `["` + tok + `"]`, "[…]"},
		{"token in a JSON message", 401, js, `{"error":"no session for ` + tok + `"}`, `"error":"no session for`},
		{"signed cookie in a JSON message", 401, js, `{"error":"bad cookie ` + signed + `"}`, `"error":"bad cookie`},
		{"cookie header in text", 401, text, "invalid Cookie: better-auth.session_token=" + sess.SessionCookie, "401 text/plain"},
		{"bearer in text", 401, text, "rejected Authorization: Bearer " + bearer, "401 text/plain"},
		{"bare token in text", 400, text, "unknown session " + tok + " (expired?)", "400 text/plain"},
		{"token in an HTML title", 200, html, "<html><title>Session " + tok + "</title></html>", "text/html page"},
		{"token in a relative Location query", 302, loc("/sign-in?token=" + tok + "&next=/"), "", "302 → /sign-in?…"},
		{"token in an absolute Location query", 302, loc("https://app.example.com/cb?session=" + sess.SessionCookie), "", "302 → https://app.example.com/cb?…"},
		{"token in a Location fragment", 302, loc("/cb#access_token=" + bearer), "", "302 → /cb?…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			d := Describe(tc.status, h, []byte(tc.body))
			assertNoCredential(t, d, sess, in.Token)
			if tc.want != "" && !strings.Contains(d, tc.want) {
				t.Errorf("Describe = %q, want it to contain %q", mask(d, sess, in.Token), mask(tc.want, sess, in.Token))
			}
			// The judges use Describe for Seen.
			assertNoCredential(t, JudgeGetSession(tc.status, h, []byte(tc.body)).Seen, sess, in.Token)
			assertNoCredential(t, JudgeAPI(tc.status, h, []byte(tc.body)).Seen, sess, in.Token)
		})
	}
}

// sessionObject is the "session" member of a get-session body, which
// carries the token at its top level.
func sessionObject(t *testing.T, body []byte) []byte {
	t.Helper()
	var s struct {
		Session json.RawMessage `json:"session"`
	}
	if err := json.Unmarshal(body, &s); err != nil || len(s.Session) == 0 {
		t.Fatal("no session object in the captured body")
	}
	return s.Session
}
