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
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/testenv"
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

// TestEnvFile: the server reads its configuration with Node's own env-file
// loader, batest adds none of BetterAuth's variables (an inherited one does
// not reach it either), and a secret written "…\n" in double quotes keeps
// its newline all the way into the signature.
func TestEnvFile(t *testing.T) {
	t.Setenv("BETTER_AUTH_SECRET", "inherited-secret-must-not-reach-the-server-0123")
	const secret = "authtui-envfile-secret-0123456789abcdef"
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	self := fmt.Sprintf("http://127.0.0.1:%d", port)
	dsn := pgtest.DSN(t)
	path := filepath.Join(t.TempDir(), ".env")
	content := "# as a hosting dashboard exports it\n" +
		"BETTER_AUTH_SECRET=\"" + secret + "\\n\"\n" +
		"BETTER_AUTH_URL=" + self + "\n" +
		"DATABASE_URL=" + dsn + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := batest.Start(t, batest.Options{EnvFile: path, Port: port, Bearer: true})
	if srv.Port != port || srv.URL != self || srv.BaseURL != self || srv.Origin() != self {
		t.Errorf("Port %d URL %s BaseURL %s Origin %s, want port %d", srv.Port, srv.URL, srv.BaseURL, srv.Origin(), port)
	}
	if srv.Secret != secret+"\n" || srv.EnvFileVars["BETTER_AUTH_SECRET"] != secret+"\n" {
		t.Errorf("Secret %q, EnvFileVars %q: Node's loader should keep the newline", srv.Secret, srv.EnvFileVars["BETTER_AUTH_SECRET"])
	}
	if srv.EnvFileVars["DATABASE_URL"] != dsn {
		t.Errorf("EnvFileVars[DATABASE_URL] = %q", srv.EnvFileVars["DATABASE_URL"])
	}
	env := strings.Join(srv.Env, " ")
	for _, v := range []string{"BETTER_AUTH", "AUTH_SECRET", "DATABASE_URL", "NODE_ENV"} {
		if strings.Contains(env, v) {
			t.Errorf("batest set %s itself: %s", v, env)
		}
	}
	for _, v := range []string{"MIGRATE=1", "FIXTURE_BEARER=1", "PORT=" + fmt.Sprint(port)} {
		if !strings.Contains(env, v) {
			t.Errorf("env lacks %s: %s", v, env)
		}
	}
	batest.SignUp(t, srv.URL, "envfile@example.com", password)
	sess := batest.SignIn(t, srv.URL, "envfile@example.com", password)
	checkSignedWith(t, sess, secret+"\n")
	srv.WaitLog(t, `^\S+Z server migrations: created \[.*session.*\]`)
	if got := srv.Redact("x " + secret + " y"); strings.Contains(got, secret) {
		t.Errorf("Redact leaves the env file's secret: %s", got)
	}
	checkLogs(t, srv, nil, secret, sess.Token)

	// A second server on the same Port cannot move elsewhere: Start fails
	// and says so.
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		batest.Start(ft, batest.Options{EnvFile: path, Port: port})
	}()
	<-done
	if !ft.failed || !strings.Contains(ft.msg, fmt.Sprintf("port %d (Options.Port) is taken", port)) || strings.Contains(ft.msg, secret) {
		t.Errorf("second server on the same port: failed %v:\n%s", ft.failed, ft.msg)
	}
}

// TestEnvFileConflicts: with an env file, the options that would set
// BetterAuth's variables are refused before any node starts, and so is a
// file that is not there.
func TestEnvFileConflicts(t *testing.T) {
	t.Parallel()
	for _, o := range []batest.Options{
		{EnvFile: "x.env", Secret: "s"}, {EnvFile: "x.env", NoSecret: true},
		{EnvFile: "x.env", BaseURL: "http://x"}, {EnvFile: "x.env", DatabaseURL: "postgres://x"},
		{EnvFile: "x.env", TrustedOrigins: []string{"http://x"}},
	} {
		ft := &fakeT{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			batest.Start(ft, o)
		}()
		<-done
		if ft.skipped {
			t.Skip(ft.msg)
		}
		if !ft.failed || !strings.Contains(ft.msg, "Options.EnvFile and Options.") {
			t.Errorf("%+v: failed %v %s", o, ft.failed, ft.msg)
		}
	}
	// A missing env file fails before node starts server.mjs, naming the file.
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	missing := filepath.Join(t.TempDir(), "absent.env")
	go func() {
		defer close(done)
		batest.Start(ft, batest.Options{EnvFile: missing})
	}()
	<-done
	if ft.skipped {
		t.Skip(ft.msg)
	}
	if !ft.failed || !strings.Contains(ft.msg, missing+": ENOENT") {
		t.Errorf("missing env file: failed %v %s", ft.failed, ft.msg)
	}
}

// TestAPIModes: what GET /api/me answers in each FIXTURE_API mode, for the
// cookie, the bearer token and nothing.
func TestAPIModes(t *testing.T) {
	t.Parallel()
	modes := []string{"null", "cookie-only", "bearer-only"}
	var opts []batest.Options
	for _, m := range modes {
		opts = append(opts, batest.Options{Bearer: true, API: m})
	}
	servers := batest.StartAll(t, opts...)
	for i, mode := range modes {
		srv := servers[i]
		email := "mode-" + mode + "@example.com"
		user := batest.SignUp(t, srv.URL, email, password)
		sess := batest.SignIn(t, srv.URL, email, password)
		cookie := do(t, "GET", srv.URL+"/api/me", map[string]string{"Cookie": sess.CookieHeader}, nil)
		bearer := do(t, "GET", srv.URL+"/api/me", map[string]string{"Authorization": "Bearer " + sess.SetAuthToken}, nil)
		none := do(t, "GET", srv.URL+"/api/me", nil, nil)
		me := `{"user":{"id":"` + user.ID + `","email":"` + email + `"}}`
		unauthorized := `{"error":"unauthorized"}`
		switch mode {
		case "null":
			want(t, mode+" without credentials", none, 200, "null")
			for what, r := range map[string]response{"cookie": cookie, "bearer": bearer} {
				var got struct {
					Session struct{ Token string } `json:"session"`
					User    batest.User            `json:"user"`
				}
				if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || got.User.ID != user.ID || got.Session.Token != sess.Token {
					t.Errorf("%s with the %s: %d, want 200 and getSession's object", mode, what, r.status)
				}
			}
		case "cookie-only":
			want(t, mode+" with the cookie", cookie, 200, me)
			want(t, mode+" with the bearer token", bearer, 401, unauthorized)
			want(t, mode+" without credentials", none, 401, unauthorized)
		case "bearer-only":
			want(t, mode+" with the cookie", cookie, 401, unauthorized)
			want(t, mode+" with the bearer token", bearer, 200, me)
			want(t, mode+" without credentials", none, 401, unauthorized)
		}
		checkLogs(t, srv, []string{logLine("GET", "/api/me", 200, "found")}, sess.Token)
	}
	srv := servers[0]
	srv.WaitLog(t, logLine("GET", "/api/me", 200, "none"))
}

// TestFixtureOptions: email verification, the rate limiter, cookie
// attributes and the cache's max age, as better-auth applies them.
func TestFixtureOptions(t *testing.T) {
	t.Parallel()
	servers := batest.StartAll(t,
		batest.Options{RequireEmailVerification: true, RateLimit: true},
		batest.Options{SameSite: "none", Secure: "0", Cache: "compact", CacheMaxAge: 3600},
		batest.Options{SameSite: "strict", Secure: "1"},
	)
	strict, none, secure := servers[0], servers[1], servers[2]

	// Unverified: 403 EMAIL_NOT_VERIFIED; the limiter counts those attempts
	// too, and the fourth within 10 s is refused before the handler runs.
	batest.SignUp(t, strict.URL, "unverified@example.com", password)
	var got []string
	for range 4 {
		status, code, _ := batest.TrySignIn(t, strict.URL, "", "unverified@example.com", password)
		got = append(got, fmt.Sprint(status, " ", code))
	}
	if w := []string{"403 EMAIL_NOT_VERIFIED", "403 EMAIL_NOT_VERIFIED", "403 EMAIL_NOT_VERIFIED", "429 Too many requests. Please try again later."}; strings.Join(got, "|") != strings.Join(w, "|") {
		t.Errorf("sign-ins: %q, want %q", got, w)
	}

	// SameSite=None: better-call (better-auth's HTTP layer) adds Secure to
	// every SameSite=None cookie, so FIXTURE_SECURE=0 cannot take it away.
	cache := false
	for _, c := range signInCookies(t, none, "none@example.com") {
		cache = cache || c.Name == "better-auth.session_data"
		if c.SameSite != http.SameSiteNoneMode || !c.Secure {
			t.Errorf("%s: SameSite %v Secure %v, want None and (forced) Secure", c.Name, c.SameSite, c.Secure)
		}
		if c.Name == "better-auth.session_data" && c.MaxAge != 3600 {
			t.Errorf("session_data Max-Age %d, want 3600", c.MaxAge)
		}
	}
	if !cache {
		t.Error("no session_data cookie with FIXTURE_CACHE=compact")
	}
	// Secure=1 on an http base URL: Secure without the __Secure- prefix.
	for _, c := range signInCookies(t, secure, "secure@example.com") {
		if c.SameSite != http.SameSiteStrictMode || !c.Secure || !strings.HasPrefix(c.Name, "better-auth.") {
			t.Errorf("%s: SameSite %v Secure %v, want Strict and Secure", c.Name, c.SameSite, c.Secure)
		}
	}
}

// signInCookies signs a new user in and returns the cookies set, after
// checking the session_token (and, with a cache, session_data) are there.
func signInCookies(t *testing.T, srv *batest.Server, email string) []*http.Cookie {
	t.Helper()
	batest.SignUp(t, srv.URL, email, password)
	sess := batest.SignIn(t, srv.URL, email, password)
	if len(sess.Cookies) == 0 || sess.SessionCookie == "" {
		t.Fatalf("%s: cookies %v", email, sess.Cookies)
	}
	return sess.Cookies
}

// TestStartAllFailures: StartAll reports every server that failed, with
// better-auth's or server.mjs's reason, and validates the new options.
func TestStartAllFailures(t *testing.T) {
	t.Parallel()
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		batest.StartAll(ft,
			batest.Options{API: "bogus"},
			batest.Options{SameSite: "sideways"},
			batest.Options{CacheMaxAge: 60}, // without a cache
		)
	}()
	<-done
	if ft.skipped {
		t.Skip(ft.msg)
	}
	for _, w := range []string{"server 0: ", "FIXTURE_API must be one of", "server 1: ", "FIXTURE_SAMESITE must be one of", "server 2: ", "FIXTURE_CACHE_MAX_AGE needs FIXTURE_CACHE"} {
		if !strings.Contains(ft.msg, w) {
			t.Errorf("failure message lacks %q:\n%s", w, ft.msg)
		}
	}
}
