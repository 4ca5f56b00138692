package batest_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	password = "correct horse battery staple"
	secretB  = "authtui-fixture-secret-B-fedcba9876543210"
)

type response struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, rawURL string, headers map[string]string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func want(t *testing.T, what string, r response, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Errorf("%s: got %d %s, want %d %s", what, r.status, r.body, status, body)
	}
}

// signature is what better-auth appends to a token in a signed cookie.
func signature(secret, token string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(token))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func checkSignedWith(t *testing.T, s batest.Session, secret string) {
	t.Helper()
	raw, err := url.QueryUnescape(s.SessionCookie)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.Token + "." + signature(secret, s.Token); raw != want {
		t.Errorf("session cookie %q is not the token signed with the expected secret", raw)
	}
}

// logLine is the pattern of one request line of server.mjs.
func logLine(method, path string, status int, session string) string {
	re := `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z http ` +
		regexp.QuoteMeta(fmt.Sprintf("%s %s %d ", method, path, status)) + `\d+\.\dms`
	if session != "" {
		re += ` session=` + session
	}
	return re + `$`
}

func checkLogs(t *testing.T, srv *batest.Server, patterns []string, never ...string) {
	t.Helper()
	for _, p := range patterns {
		srv.WaitLog(t, p)
	}
	logs := srv.Logs()
	if !strings.HasPrefix(logs, batest.ListeningPrefix+srv.URL+"\n") {
		t.Errorf("logs do not start with the listening line:\n%s", logs)
	}
	for _, s := range never {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("logs contain %q:\n%s", s, logs)
		}
	}
}

// TestPostgresTwoSecrets: a cookie from a server on secret A is a session on
// A and "session is null" on a server with secret B sharing its database.
func TestPostgresTwoSecrets(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	a := batest.Start(t, batest.Options{DatabaseURL: dsn})
	if a.Secret != batest.FixtureSecret || a.BaseURL != a.URL {
		t.Errorf("server A: Secret %q BaseURL %q", a.Secret, a.BaseURL)
	}

	user := batest.SignUp(t, a.URL, "ada@example.com", password)
	sess := batest.SignIn(t, a.URL, "ada@example.com", password)
	if sess.User.ID != user.ID || !strings.HasPrefix(sess.CookieHeader, "better-auth.session_token=") {
		t.Fatalf("sign-in: %+v for user %+v", sess, user)
	}
	checkSignedWith(t, sess, batest.FixtureSecret)

	cookie := map[string]string{"Cookie": sess.CookieHeader}
	r := do(t, "GET", a.URL+"/api/auth/get-session", cookie, nil)
	var got struct {
		Session struct{ Token, UserID string } `json:"session"`
		User    batest.User                    `json:"user"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || got.User.ID != user.ID || got.Session.Token != sess.Token {
		t.Errorf("get-session on A: %d %s", r.status, r.body)
	}
	want(t, "/api/me on A", do(t, "GET", a.URL+"/api/me", cookie, nil), 200,
		`{"user":{"id":"`+user.ID+`","email":"ada@example.com"}}`)
	want(t, "/api/me on A without cookie", do(t, "GET", a.URL+"/api/me", nil, nil), 401, `{"error":"unauthorized"}`)

	// Error cases on A.
	origin := map[string]string{"Origin": a.URL}
	want(t, "wrong password", do(t, "POST", a.URL+"/api/auth/sign-in/email", origin,
		map[string]string{"email": "ada@example.com", "password": "wrong password 123"}),
		401, `{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}`)
	want(t, "untrusted Origin", do(t, "POST", a.URL+"/api/auth/sign-in/email", map[string]string{"Origin": "http://evil.example"},
		map[string]string{"email": "ada@example.com", "password": password}),
		403, `{"message":"Invalid origin","code":"INVALID_ORIGIN"}`)
	want(t, "cookie without Origin", do(t, "POST", a.URL+"/api/auth/sign-out", cookie, map[string]string{}),
		403, `{"message":"Missing or null Origin","code":"MISSING_OR_NULL_ORIGIN"}`)

	// Server B: same database, other secret.
	b := batest.Start(t, batest.Options{DatabaseURL: dsn, Secret: secretB})
	r = do(t, "GET", b.URL+"/api/auth/get-session", cookie, nil)
	want(t, "get-session on B", r, 200, "null")
	if sc := r.header.Values("Set-Cookie"); len(sc) != 0 {
		t.Errorf("get-session on B with a bad signature set cookies %q", sc)
	}
	want(t, "/api/me on B", do(t, "GET", b.URL+"/api/me", cookie, nil), 401, `{"error":"unauthorized"}`)

	// B's own sign-in works against the shared rows.
	sessB := batest.SignIn(t, b.URL, "ada@example.com", password)
	checkSignedWith(t, sessB, secretB)

	// Sign-out on A: the old cookie still has a valid signature but no row
	// any more, so get-session answers null AND clears the cookies.
	want(t, "sign-out on A", do(t, "POST", a.URL+"/api/auth/sign-out",
		map[string]string{"Cookie": sess.CookieHeader, "Origin": a.URL}, map[string]string{}), 200, `{"success":true}`)
	r = do(t, "GET", a.URL+"/api/auth/get-session", cookie, nil)
	want(t, "get-session on A after sign-out", r, 200, "null")
	cleared := map[string]bool{}
	for _, line := range r.header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.MaxAge < 0 {
			cleared[c.Name] = true
		}
	}
	for _, name := range []string{"better-auth.session_token", "better-auth.session_data", "better-auth.dont_remember"} {
		if !cleared[name] {
			t.Errorf("get-session after sign-out does not clear %s: %q", name, r.header.Values("Set-Cookie"))
		}
	}
	want(t, "/api/me on A after sign-out", do(t, "GET", a.URL+"/api/me", cookie, nil), 401, `{"error":"unauthorized"}`)
	// A token-like path segment is not logged.
	do(t, "GET", a.URL+"/api/auth/reset-password/"+sess.Token+"?callbackURL=/x", nil, nil)

	never := []string{batest.FixtureSecret, secretB, sess.Token, sessB.Token, sess.SessionCookie, password}
	checkLogs(t, a, []string{
		`^\S+Z server migrations: created \[.*session.*\]`,
		logLine("POST", "/api/auth/sign-up/email", 200, ""),
		logLine("POST", "/api/auth/sign-in/email", 200, ""),
		logLine("GET", "/api/auth/get-session", 200, "found"),
		logLine("GET", "/api/me", 200, "found"),
		logLine("GET", "/api/me", 401, "none"),
		logLine("POST", "/api/auth/sign-in/email", 401, ""),
		logLine("POST", "/api/auth/sign-in/email", 403, ""),
		logLine("POST", "/api/auth/sign-out", 403, ""),
		logLine("POST", "/api/auth/sign-out", 200, ""),
		logLine("GET", "/api/auth/get-session", 200, "none"),
		`^\S+Z http GET /api/auth/reset-password/:token \d{3} `,
	}, never...)
	checkLogs(t, b, []string{
		`^\S+Z server migrations: created \[\] altered \[\]$`,
		logLine("GET", "/api/auth/get-session", 200, "none"),
		logLine("GET", "/api/me", 401, "none"),
	}, never...)

	// Stop: SIGTERM, clean exit, nothing listening.
	begin := time.Now()
	b.Stop()
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Stop took %s", d)
	}
	b.WaitLog(t, `^\S+Z server SIGTERM: shutting down$`)
	if _, err := http.Get(b.URL + "/healthz"); err == nil {
		t.Error("server B still answers after Stop")
	}
	b.Stop() // twice is fine
}

// TestNoSecret: no secret variable at all (and none inherited from the test's
// environment) => better-auth's default secret.
func TestNoSecret(t *testing.T) {
	t.Setenv("BETTER_AUTH_SECRET", "inherited-secret-must-not-reach-the-server-0123")
	t.Setenv("BETTER_AUTH_URL", "http://inherited.example")
	srv := batest.Start(t, batest.Options{NoSecret: true})
	if srv.Secret != batest.DefaultSecret {
		t.Errorf("Secret = %q", srv.Secret)
	}
	for _, kv := range srv.Env {
		if strings.HasPrefix(kv, "BETTER_AUTH_SECRET") || strings.HasPrefix(kv, "AUTH_SECRET") {
			t.Errorf("env has %s", kv)
		}
	}
	batest.SignUp(t, srv.URL, "nosecret@example.com", password)
	sess := batest.SignIn(t, srv.URL, "nosecret@example.com", password)
	checkSignedWith(t, sess, batest.DefaultSecret)
	want(t, "/api/me", do(t, "GET", srv.URL+"/api/me", map[string]string{"Cookie": sess.CookieHeader}, nil),
		200, `{"user":{"id":"`+sess.User.ID+`","email":"nosecret@example.com"}}`)
	want(t, "healthz", do(t, "GET", srv.URL+"/healthz", nil, nil), 200, "ok")
}

// TestBearerCORS: bearer plugin, CORS headers, trusted origins.
func TestBearerCORS(t *testing.T) {
	t.Parallel()
	const spa = "http://localhost:5173"
	srv := batest.Start(t, batest.Options{Bearer: true, CORSOrigin: spa, ExposeAuthToken: true,
		TrustedOrigins: []string{spa}, CookiePrefix: "myapp"})
	user := batest.SignUp(t, srv.URL, "bearer@example.com", password)

	// Sign-in from the trusted SPA origin.
	r := do(t, "POST", srv.URL+"/api/auth/sign-in/email", map[string]string{"Origin": spa},
		map[string]string{"email": "bearer@example.com", "password": password})
	if r.status != 200 {
		t.Fatalf("sign-in from trusted origin: %d %s", r.status, r.body)
	}
	tok := r.header.Get("Set-Auth-Token")
	if !regexp.MustCompile(`^[A-Za-z0-9]{32}\.[A-Za-z0-9+/]{43}=$`).MatchString(tok) {
		t.Errorf("set-auth-token %q", tok)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":      spa,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "set-auth-token",
	} {
		if got := r.header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("sign-in response %s: %q, want %q", k, got, v)
		}
	}
	if sc := strings.Join(r.header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, "myapp.session_token=") {
		t.Errorf("Set-Cookie with prefix myapp: %s", sc)
	}

	bearer := map[string]string{"Authorization": "Bearer " + tok}
	r = do(t, "GET", srv.URL+"/api/me", bearer, nil)
	if r.status != 200 || !strings.Contains(r.body, `"email":"bearer@example.com"`) {
		t.Errorf("/api/me with bearer: %d %s", r.status, r.body)
	}
	if got := r.header.Get("Access-Control-Expose-Headers"); got != "set-auth-token" {
		t.Errorf("/api/me expose headers %q", got)
	}
	r = do(t, "GET", srv.URL+"/api/auth/get-session", bearer, nil)
	if r.status != 200 || !strings.Contains(r.body, `"email":"bearer@example.com"`) {
		t.Errorf("get-session with bearer: %d %s", r.status, r.body)
	}
	// The bearer plugin also takes the unsigned token (requireSignature is off by default).
	want(t, "/api/me with the unsigned token as bearer", do(t, "GET", srv.URL+"/api/me",
		map[string]string{"Authorization": "Bearer " + tok[:32]}, nil), 200,
		`{"user":{"id":"`+user.ID+`","email":"bearer@example.com"}}`)
	bad := map[string]string{"Authorization": "Bearer " + tok[:40] + "AAAA" + tok[44:]}
	want(t, "/api/me with a bad bearer signature", do(t, "GET", srv.URL+"/api/me", bad, nil), 401, `{"error":"unauthorized"}`)

	r = do(t, "OPTIONS", srv.URL+"/api/auth/get-session", map[string]string{
		"Origin": spa, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
	}, nil)
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != spa ||
		r.header.Get("Access-Control-Allow-Headers") != "authorization" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	checkLogs(t, srv, []string{
		logLine("GET", "/api/me", 200, "found"),
		logLine("GET", "/api/me", 401, "none"),
		logLine("GET", "/api/auth/get-session", 200, "found"),
		logLine("OPTIONS", "/api/auth/get-session", 204, ""),
	}, batest.FixtureSecret, tok, tok[:32])
}

// TestStartFailure: a server that cannot start fails the test with its
// output, scrubbed of the secret.
func TestStartFailure(t *testing.T) {
	t.Parallel()
	const secret = "a-secret-that-must-be-scrubbed-0123456789"
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		batest.Start(ft, batest.Options{Secret: secret, ExtraEnv: []string{"FIXTURE_CACHE=bogus"}})
	}()
	<-done
	if ft.skipped {
		t.Skip(ft.msg)
	}
	if !ft.failed {
		t.Fatal("Start did not fail")
	}
	if !strings.Contains(ft.msg, "FIXTURE_CACHE must be one of") || strings.Contains(ft.msg, secret) {
		t.Errorf("failure message:\n%s", ft.msg)
	}
}

// fakeT records a Fatal (or Skip) instead of ending the test.
type fakeT struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatal(args ...any) {
	f.failed, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeT) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
