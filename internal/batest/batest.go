// Package batest runs real BetterAuth HTTP servers (testdata/betterauth/server.mjs)
// for tests.
//
// It is a normal package so that several packages' tests can share it; only
// tests import it. A server on PostgreSQL needs a pgtest database:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	srv := batest.Start(t, batest.Options{DatabaseURL: pgtest.DSN(t)})
//	batest.SignUp(t, srv.URL, "ada@example.com", "correct horse battery")
//	sess := batest.SignIn(t, srv.URL, "ada@example.com", "correct horse battery")
//	// GET srv.URL+"/api/auth/get-session" with Cookie: sess.CookieHeader ...
//
// Without DatabaseURL the server uses better-auth's memory adapter (one store
// per server).
//
// Each server is `node server.mjs` in testdata/betterauth, listening on
// 127.0.0.1 on a port picked here (so that BETTER_AUTH_URL can name it),
// with only PATH, HOME and TMPDIR from the test's environment plus the
// variables Options asks for: an inherited BETTER_AUTH_SECRET never leaks in.
// It is stopped (SIGTERM, SIGKILL after 3 s) when the test ends, and killed by
// the kernel if the test binary dies. `npm ci` runs first when
// testdata/betterauth/node_modules is missing or stale. Without node, tests
// calling Start are skipped, or fail when CI=true.
package batest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/authtui/authtui/internal/testenv"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// FixtureSecret is the BETTER_AUTH_SECRET a server gets when Options sets
// neither Secret nor NoSecret (fake fixture secret A of
// testdata/betterauth/cases.mjs, the same as pgtest.SeedDefaultSecret).
const FixtureSecret = "authtui-fixture-secret-A-0123456789abcdef"

// DefaultSecret is better-auth's built-in secret, which a server started with
// NoSecret signs with.
const DefaultSecret = "better-auth-secret-12345678901234567890"

// ListeningPrefix starts the first line server.mjs prints to stdout; the URL follows.
const ListeningPrefix = "authtui-betterauth listening on "

// MissingNodeMessage is how tests are skipped (or failed, with CI=true) without node.
const MissingNodeMessage = "node not found: install Node.js 20 or newer to run BetterAuth test servers"

const (
	startupTimeout = 20 * time.Second
	stopGrace      = 3 * time.Second
	startAttempts  = 3 // a new port each time, when the picked one was taken meanwhile
	logTailBytes   = 6000
)

// Options configures a server. Zero values mean the defaults.
type Options struct {
	// Secret is BETTER_AUTH_SECRET; "" means FixtureSecret unless NoSecret.
	Secret string
	// NoSecret starts the server without any secret variable and with
	// NODE_ENV=development, so better-auth falls back to DefaultSecret.
	NoSecret bool
	// BaseURL is BETTER_AUTH_URL; "" means the server's own http://127.0.0.1:PORT.
	BaseURL string
	// DatabaseURL: PostgreSQL (e.g. pgtest.DSN(t)) instead of the memory
	// adapter; better-auth's migrations run at startup (MIGRATE=1).
	DatabaseURL string
	// TrustedOrigins becomes BETTER_AUTH_TRUSTED_ORIGINS (comma separated).
	TrustedOrigins []string
	// Bearer enables better-auth's bearer plugin (FIXTURE_BEARER=1).
	Bearer bool
	// CookiePrefix is advanced.cookiePrefix (FIXTURE_COOKIE_PREFIX).
	CookiePrefix string
	// Cache is the cookie cache strategy (FIXTURE_CACHE): "", off, compact, jwt, jwe.
	Cache string
	// CORSOrigin: every response carries Access-Control-Allow-Origin: CORSOrigin
	// and Access-Control-Allow-Credentials: true (FIXTURE_CORS_ORIGIN).
	CORSOrigin string
	// ExposeAuthToken (with CORSOrigin): every response also carries
	// Access-Control-Expose-Headers: set-auth-token (FIXTURE_EXPOSE_AUTH_TOKEN=1).
	ExposeAuthToken bool
	// ExtraEnv holds more KEY=VALUE variables (see auth.mjs and server.mjs),
	// appended last, so they override the ones above (e.g. NODE_ENV=production,
	// BETTER_AUTH_SECRETS=2:…,1:…, FIXTURE_CROSS_SUBDOMAIN=example.com).
	ExtraEnv []string
}

// Server is a running server.mjs.
type Server struct {
	// URL is where it listens: http://127.0.0.1:PORT (no trailing slash).
	URL string
	// Env is the environment it got besides PATH, HOME and TMPDIR.
	Env []string
	// Port is the port in URL.
	Port int
	// BaseURL is its BETTER_AUTH_URL (URL unless Options.BaseURL said otherwise).
	BaseURL string
	// Secret is what Options made it sign with: Options.Secret, FixtureSecret
	// or, with NoSecret, DefaultSecret (ExtraEnv may still override it).
	Secret string
	// StartupTime is from starting node to the listening line.
	StartupTime time.Duration

	t       testing.TB
	cmd     *exec.Cmd
	exited  chan struct{}
	logs    *logBuffer
	secrets []string

	stopOnce sync.Once
	stopped  atomic.Bool // Stop was called
}

// Start starts a server and stops it when the test ends. It ends the test
// (t.Fatal) when the server does not come up within 20 s, with the tail of
// its output, scrubbed of the secrets in opts.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, MissingNodeMessage)
	}
	if opts.NoSecret && opts.Secret != "" {
		t.Fatal("batest: Options.NoSecret and Options.Secret both set")
	}
	dir, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatalf("batest: %v", err)
	}
	secrets := secretsIn(opts)

	var lastErr error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatalf("batest: picking a port: %v", err)
		}
		s := &Server{
			t:       t,
			Port:    port,
			URL:     "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			secrets: secrets,
			logs:    &logBuffer{ready: make(chan string, 1)},
			exited:  make(chan struct{}),
		}
		s.Env, s.BaseURL, s.Secret = serverEnv(opts, port, s.URL)
		retry, err := s.start(node, dir)
		if err == nil {
			t.Cleanup(s.cleanup)
			t.Logf("batest: BetterAuth server on %s ready in %s", s.URL, s.StartupTime.Round(time.Millisecond))
			return s
		}
		lastErr = err
		if !retry {
			break
		}
	}
	t.Fatalf("batest: %v", lastErr)
	return nil
}

// serverEnv builds the variables for server.mjs (without PATH, HOME, TMPDIR).
func serverEnv(opts Options, port int, self string) (env []string, baseURL, secret string) {
	baseURL = opts.BaseURL
	if baseURL == "" {
		baseURL = self
	}
	env = []string{
		"HOST=127.0.0.1",
		"PORT=" + strconv.Itoa(port),
		"BETTER_AUTH_URL=" + baseURL,
	}
	switch {
	case opts.NoSecret:
		secret = DefaultSecret
		env = append(env, "NODE_ENV=development")
	case opts.Secret != "":
		secret = opts.Secret
		env = append(env, "BETTER_AUTH_SECRET="+secret)
	default:
		secret = FixtureSecret
		env = append(env, "BETTER_AUTH_SECRET="+secret)
	}
	if opts.DatabaseURL != "" {
		env = append(env, "DATABASE_URL="+opts.DatabaseURL, "MIGRATE=1")
	}
	if len(opts.TrustedOrigins) > 0 {
		env = append(env, "BETTER_AUTH_TRUSTED_ORIGINS="+strings.Join(opts.TrustedOrigins, ","))
	}
	if opts.Bearer {
		env = append(env, "FIXTURE_BEARER=1")
	}
	if opts.CookiePrefix != "" {
		env = append(env, "FIXTURE_COOKIE_PREFIX="+opts.CookiePrefix)
	}
	if opts.Cache != "" {
		env = append(env, "FIXTURE_CACHE="+opts.Cache)
	}
	if opts.CORSOrigin != "" {
		env = append(env, "FIXTURE_CORS_ORIGIN="+opts.CORSOrigin)
	}
	if opts.ExposeAuthToken {
		env = append(env, "FIXTURE_EXPOSE_AUTH_TOKEN=1")
	}
	env = append(env, opts.ExtraEnv...)
	return env, baseURL, secret
}

// secretsIn lists the values that must not appear in failure messages.
func secretsIn(opts Options) []string {
	secrets := []string{FixtureSecret}
	if opts.Secret != "" {
		secrets = append(secrets, opts.Secret)
	}
	for _, kv := range opts.ExtraEnv {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.Contains(strings.ToUpper(k), "SECRET") {
			continue
		}
		for _, s := range strings.Split(v, ",") { // BETTER_AUTH_SECRETS=v:s,v:s
			if _, sec, ok := strings.Cut(s, ":"); ok {
				secrets = append(secrets, sec)
			}
			secrets = append(secrets, s)
		}
		secrets = append(secrets, v)
	}
	if u, err := url.Parse(opts.DatabaseURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}
	return secrets
}

// start runs node and waits for the listening line. retry is true when the
// port was taken meanwhile.
func (s *Server) start(node, dir string) (retry bool, err error) {
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(testenv.MinimalEnv(), s.Env...)
	cmd.Stdout = &stdoutWriter{b: s.logs}
	cmd.Stderr = s.logs
	// Own process group: a terminal's Ctrl-C goes to the test binary, which
	// stops the server itself. If the test binary dies, the kernel kills node
	// (Pdeathsig is tied to the forking thread, hence the locked thread that
	// lives as long as node does).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	s.cmd = cmd

	begin := time.Now()
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return false, fmt.Errorf("starting node server.mjs: %v", err)
	}

	timer := time.NewTimer(startupTimeout)
	defer timer.Stop()
	select {
	case line := <-s.logs.ready:
		s.StartupTime = time.Since(begin)
		if line != s.URL {
			s.kill()
			return false, fmt.Errorf("server.mjs listens on %q, want %q\n%s", line, s.URL, s.tail())
		}
		return false, nil
	case <-s.exited:
		out := s.logs.String()
		taken := strings.Contains(out, "EADDRINUSE")
		return taken, fmt.Errorf("server.mjs exited during startup (%v) with env %s:\n%s",
			cmd.ProcessState, s.redact(strings.Join(s.Env, " ")), s.tail())
	case <-timer.C:
		s.kill()
		return false, fmt.Errorf("server.mjs printed no listening line within %s:\n%s", startupTimeout, s.tail())
	}
}

// Logs returns everything the server printed so far: stdout (the listening
// line, then one line per request and better-auth's own log lines) and
// stderr, interleaved as they arrived. Not scrubbed.
func (s *Server) Logs() string { return s.logs.String() }

// WaitLog waits up to 5 s for a line of Logs matching the regular expression
// (multi-line mode: ^ and $ match at line boundaries) and returns the first
// such line; it ends the test with the logs when none comes. server.mjs writes
// a request's line just before the response ends, but it reaches Logs through
// a pipe: use WaitLog, not Logs, right after a request.
func (s *Server) WaitLog(t testing.TB, pattern string) string {
	t.Helper()
	re, err := regexp.Compile("(?m)" + pattern)
	if err != nil {
		t.Fatalf("batest: WaitLog: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := s.logs.String()
		if loc := re.FindStringIndex(logs); loc != nil {
			start := strings.LastIndexByte(logs[:loc[0]], '\n') + 1
			end := strings.IndexByte(logs[loc[0]:], '\n')
			if end < 0 {
				return logs[start:]
			}
			return logs[start : loc[0]+end]
		}
		if time.Now().After(deadline) {
			t.Fatalf("batest: no log line matching %s within 5s; logs of %s:\n%s", pattern, s.URL, s.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, SIGKILL after 3 s) and waits for it. Safe to
// call more than once; Start arranges a call when the test ends.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		s.stopped.Store(true)
		if s.cmd == nil || s.cmd.Process == nil {
			return
		}
		select {
		case <-s.exited:
			return
		default:
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopGrace):
			s.kill()
		}
	})
}

// cleanup stops the server, noting (t.Logf) when it had died on its own.
func (s *Server) cleanup() {
	select {
	case <-s.exited:
		if !s.stopped.Load() {
			s.t.Logf("batest: server %s had exited by itself (%v); its output:\n%s", s.URL, s.cmd.ProcessState, s.tail())
		}
	default:
	}
	s.Stop()
}

// kill sends SIGKILL to the server's process group and waits for it.
func (s *Server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

func (s *Server) tail() string {
	out := s.logs.String()
	if len(out) > logTailBytes {
		out = "…" + out[len(out)-logTailBytes:]
	}
	return s.redact(out)
}

func (s *Server) redact(text string) string {
	for _, sec := range s.secrets {
		if len(sec) >= 4 {
			text = strings.ReplaceAll(text, sec, "[REDACTED]")
		}
	}
	return text
}

// ---- output ------------------------------------------------------------------

// logBuffer collects the server's output; ready receives the URL of the
// listening line.
type logBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// stdoutWriter passes stdout to the logBuffer and looks at its first line.
type stdoutWriter struct {
	b     *logBuffer
	first []byte
	done  bool
}

func (w *stdoutWriter) Write(p []byte) (int, error) {
	if !w.done {
		w.first = append(w.first, p...)
		if i := bytes.IndexByte(w.first, '\n'); i >= 0 {
			w.done = true
			line := string(w.first[:i])
			w.first = nil
			if rest, ok := strings.CutPrefix(line, ListeningPrefix); ok {
				w.b.ready <- rest
			}
		}
	}
	return w.b.Write(p)
}

// ---- HTTP helpers --------------------------------------------------------------

var client = &http.Client{
	Timeout: 15 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// User is a signed-up user.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// Session is the result of a sign-in.
type Session struct {
	User User
	// Token is the unsigned session token (the JSON body's token, as stored in session.token).
	Token string
	// Cookies are the Set-Cookie lines of the response, parsed.
	Cookies []*http.Cookie
	// CookieHeader is what a browser would send back: "name=value; ..." of
	// the cookies that were set (not cleared), values as in Set-Cookie (URL-encoded).
	CookieHeader string
	// SessionCookie is the session_token cookie's value as in Set-Cookie
	// (URL-encoded "<token>.<signature>").
	SessionCookie string
	// SetAuthToken is the set-auth-token header (bearer plugin), "" without it.
	SetAuthToken string
}

// SignUp creates a user through POST /api/auth/sign-up/email (Origin: the
// server URL's origin) and ends the test if that does not answer 200.
func SignUp(t testing.TB, serverURL, email, password string) User {
	t.Helper()
	name, _, _ := strings.Cut(email, "@")
	var out struct {
		User User `json:"user"`
	}
	res, body := post(t, serverURL, "/api/auth/sign-up/email",
		map[string]any{"email": email, "password": password, "name": name})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batest: sign-up %s: HTTP %d %s", email, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, &out); err != nil || out.User.ID == "" {
		t.Fatalf("batest: sign-up %s: unexpected body %s (%v)", email, body, err)
	}
	return out.User
}

// SignIn signs a user in through POST /api/auth/sign-in/email (Origin: the
// server URL's origin) and ends the test if that does not answer 200.
func SignIn(t testing.TB, serverURL, email, password string) Session {
	t.Helper()
	res, body := post(t, serverURL, "/api/auth/sign-in/email",
		map[string]any{"email": email, "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("batest: sign-in %s: HTTP %d %s", email, res.StatusCode, body)
	}
	var out struct {
		Token string `json:"token"`
		User  User   `json:"user"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("batest: sign-in %s: unexpected body %s (%v)", email, body, err)
	}
	s := Session{User: out.User, Token: out.Token, SetAuthToken: res.Header.Get("Set-Auth-Token")}
	var pairs []string
	for _, line := range res.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("batest: sign-in %s: bad Set-Cookie: %v", email, err)
		}
		s.Cookies = append(s.Cookies, c)
		if c.MaxAge < 0 || c.Value == "" {
			continue
		}
		// Raw value as sent (ParseSetCookie keeps it URL-encoded).
		pairs = append(pairs, c.Name+"="+c.Value)
		if strings.HasSuffix(c.Name, ".session_token") {
			s.SessionCookie = c.Value
		}
	}
	if s.SessionCookie == "" {
		t.Fatalf("batest: sign-in %s: no session_token cookie in %q", email, res.Header.Values("Set-Cookie"))
	}
	s.CookieHeader = strings.Join(pairs, "; ")
	return s
}

func post(t testing.TB, serverURL, path string, body any) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("batest: server URL %q: %v", serverURL, err)
	}
	raw, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(serverURL, "/")+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("batest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("batest: POST %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		t.Fatalf("batest: POST %s: reading body: %v", path, err)
	}
	return res, b
}

// ---- environment, node_modules -------------------------------------------------
