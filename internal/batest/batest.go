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
// With Options.EnvFile the server reads its configuration the way an app
// started with `node --env-file=.env` does: Node's own loader reads the file,
// and batest adds only HOST, PORT, MIGRATE and the FIXTURE_* options. StartAll
// starts several servers at once (their startups overlap).
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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"
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
	// API is how GET /api/me judges a request (FIXTURE_API): "" (session),
	// "null", "cookie-only" or "bearer-only" (see server.mjs).
	API string
	// RequireEmailVerification: unverified users cannot sign in
	// (FIXTURE_REQUIRE_EMAIL_VERIFICATION=1).
	RequireEmailVerification bool
	// RateLimit turns better-auth's rate limiter on with its defaults, even
	// outside production (FIXTURE_RATE_LIMIT=1): sign-in allows 3 requests
	// per 10 s.
	RateLimit bool
	// SameSite ("none", "lax", "strict") and Secure ("0", "1") go to
	// advanced.defaultCookieAttributes (FIXTURE_SAMESITE, FIXTURE_SECURE);
	// "" keeps better-auth's choice.
	SameSite, Secure string
	// Partitioned sets advanced.defaultCookieAttributes.partitioned
	// (FIXTURE_PARTITIONED=1): every cookie gets Partitioned (CHIPS).
	Partitioned bool
	// CacheMaxAge is session.cookieCache.maxAge in seconds (with Cache; 0
	// keeps better-auth's 300).
	CacheMaxAge int
	// EnvFile makes the server read this env file with Node's own loader
	// (`node --env-file=PATH server.mjs`), the way an app started like that
	// reads it. Secret, NoSecret, BaseURL, DatabaseURL and TrustedOrigins
	// must then be unset: Node's loader does not override variables already
	// in the environment, so batest sets none of BetterAuth's variables and
	// the file decides (NODE_ENV included). MIGRATE=1 is added when the file
	// sets DATABASE_URL (ExtraEnv MIGRATE=0 turns that off).
	EnvFile string
	// Port is the port to listen on, picked by the caller (because an env
	// file names the server's URL, say); 0 picks a free one. A given Port is
	// tried once: when it is taken, Start fails instead of moving elsewhere.
	Port int
	// ExtraEnv holds more KEY=VALUE variables (see auth.mjs and server.mjs),
	// appended last, so they override the ones above and an EnvFile's (e.g.
	// NODE_ENV=production, BETTER_AUTH_SECRETS=2:…,1:…,
	// FIXTURE_CROSS_SUBDOMAIN=example.com).
	ExtraEnv []string
}

// Server is a running server.mjs.
type Server struct {
	// URL is where it listens: http://127.0.0.1:PORT (no trailing slash).
	URL string
	// Env is the environment it got besides PATH, HOME and TMPDIR; with
	// EnvFile, Node adds the file's variables to it (EnvFileVars).
	Env []string
	// EnvFile is Options.EnvFile as an absolute path; EnvFileVars holds what
	// Node's loader read from it (nil without EnvFile).
	EnvFile     string
	EnvFileVars map[string]string
	// Port is the port in URL.
	Port int
	// BaseURL is its BETTER_AUTH_URL (URL unless Options.BaseURL said otherwise).
	BaseURL string
	// Secret is what Options made it sign with: Options.Secret, FixtureSecret
	// or, with NoSecret, DefaultSecret (ExtraEnv may still override it).
	// With EnvFile: the current secret better-auth resolves from the file and
	// ExtraEnv (BETTER_AUTH_SECRETS' first entry, else BETTER_AUTH_SECRET,
	// else AUTH_SECRET, else DefaultSecret).
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
// its output, scrubbed of the secrets in opts (and in its EnvFile).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	return StartAll(t, opts)[0]
}

// StartAll starts one server per Options and returns them in the same
// order, each stopped when the test ends. A node process spends most of its
// startup (about 0.7 s of CPU) importing better-auth, so the startups
// overlap, a few more at a time than there are CPUs: enough to keep every
// core busy, few enough that each server still starts well within its
// 20 s (thirty at once on two cores did not). It ends the test (t.Fatal)
// when any server does not come up, after the others have started (they
// are stopped at the end of the test as usual).
func StartAll(t testing.TB, opts ...Options) []*Server {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, MissingNodeMessage)
	}
	for i, o := range opts {
		if err := o.validate(); err != nil {
			t.Fatalf("batest: server %d: %v", i, err)
		}
	}
	dir, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatalf("batest: %v", err)
	}
	var paths []string
	for _, o := range opts {
		if o.EnvFile != "" {
			paths = append(paths, o.EnvFile)
		}
	}
	files, err := readEnvFiles(node, paths)
	if err != nil {
		t.Fatalf("batest: %v", err)
	}
	servers := make([]*Server, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.NumCPU()+1)
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			servers[i], errs[i] = launch(t, node, dir, opts[i], files[opts[i].EnvFile])
		}()
	}
	wg.Wait()
	var msgs []string
	for i, err := range errs {
		if err != nil {
			if len(opts) > 1 {
				err = fmt.Errorf("server %d: %w", i, err)
			}
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		t.Fatalf("batest: %s", strings.Join(msgs, "\n"))
	}
	return servers
}

// validate rejects options that contradict each other.
func (o Options) validate() error {
	if o.NoSecret && o.Secret != "" {
		return errors.New("Options.NoSecret and Options.Secret both set")
	}
	if o.EnvFile != "" {
		for name, set := range map[string]bool{
			"Secret": o.Secret != "", "NoSecret": o.NoSecret, "BaseURL": o.BaseURL != "",
			"DatabaseURL": o.DatabaseURL != "", "TrustedOrigins": len(o.TrustedOrigins) > 0,
		} {
			if set {
				return fmt.Errorf("Options.EnvFile and Options.%s both set: with an env file, that variable comes from the file", name)
			}
		}
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("Options.Port %d out of range", o.Port)
	}
	return nil
}

// launch starts one server (on new ports while the picked one turns out
// taken, unless opts.Port fixes it) and registers its cleanup on t. It
// does not end the test: StartAll runs it on other goroutines.
func launch(t testing.TB, node, dir string, opts Options, file envFile) (*Server, error) {
	if file.err != nil {
		return nil, file.err
	}
	fileVars := file.vars
	secrets := append(secretsIn(opts), fileSecrets(fileVars)...)

	attempts := startAttempts
	if opts.Port != 0 {
		attempts = 1
	}
	var lastErr error
	for attempt := 1; attempt <= attempts; attempt++ {
		port := opts.Port
		if port == 0 {
			var err error
			if port, err = testenv.FreePort(); err != nil {
				return nil, fmt.Errorf("picking a port: %v", err)
			}
		}
		s := &Server{
			t:           t,
			Port:        port,
			URL:         "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			EnvFile:     file.path,
			EnvFileVars: fileVars,
			secrets:     secrets,
			logs:        &logBuffer{ready: make(chan string, 1)},
			exited:      make(chan struct{}),
		}
		s.Env, s.BaseURL, s.Secret = serverEnv(opts, port, s.URL, fileVars)
		retry, err := s.start(node, dir)
		if err == nil {
			t.Cleanup(s.cleanup)
			t.Logf("batest: BetterAuth server on %s ready in %s", s.URL, s.StartupTime.Round(time.Millisecond))
			return s, nil
		}
		lastErr = err
		if !retry {
			break
		}
	}
	if opts.Port != 0 && strings.Contains(lastErr.Error(), "EADDRINUSE") {
		lastErr = fmt.Errorf("port %d (Options.Port) is taken: %w", opts.Port, lastErr)
	}
	return nil, lastErr
}

// envFile is what Node makes of one Options.EnvFile.
type envFile struct {
	path string // absolute
	vars map[string]string
	err  error
}

// readEnvFiles asks Node what its env-file loader makes of each file, all
// in one process: util.parseEnv (Node 20.12+) runs the same parser as
// --env-file (checked on Node 20.20: quotes, escapes and comments alike).
// That parser differs from dotenv's and godotenv's (no variable expansion,
// "#" starts a comment even without a space before it, only \n is expanded
// and only in double quotes, \" does not escape, backticks quote), so batest
// does not guess.
func readEnvFiles(node string, paths []string) (map[string]envFile, error) {
	out := map[string]envFile{}
	if len(paths) == 0 {
		return out, nil
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		abs[i] = a
	}
	const script = `const fs = require("node:fs"), util = require("node:util");
const out = {};
for (const p of process.argv.slice(1)) {
	try { out[p] = { vars: util.parseEnv(fs.readFileSync(p, "utf8")) }; }
	catch (e) { out[p] = { error: e.code || e.message }; } // never the file's text
}
process.stdout.write(JSON.stringify(out));`
	ctx, cancel := context.WithTimeout(context.Background(), startupTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"-e", script}, abs...)...)
	cmd.Env = []string{} // empty, not nil (nil would inherit the test's environment)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading env files with node: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var parsed map[string]struct {
		Vars  map[string]string `json:"vars"`
		Error string            `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &parsed); err != nil {
		return nil, fmt.Errorf("reading env files with node: unexpected output (%v)", err)
	}
	for i, p := range paths {
		f := envFile{path: abs[i], vars: parsed[abs[i]].Vars}
		if e := parsed[abs[i]].Error; e != "" {
			f.err = fmt.Errorf("env file %s: %s", abs[i], e)
		}
		out[p] = f
	}
	return out, nil
}

// serverEnv builds the variables for server.mjs (without PATH, HOME, TMPDIR).
// fileVars is what Node reads from opts.EnvFile (nil without one).
func serverEnv(opts Options, port int, self string, fileVars map[string]string) (env []string, baseURL, secret string) {
	env = []string{
		"HOST=127.0.0.1",
		"PORT=" + strconv.Itoa(port),
	}
	if opts.EnvFile != "" {
		// Nothing of BetterAuth's own: Node would not let the file override it.
		if fileVars["DATABASE_URL"] != "" {
			env = append(env, "MIGRATE=1")
		}
		env = append(env, fixtureEnv(opts)...)
		env = append(env, opts.ExtraEnv...)
		eff := map[string]string{}
		for k, v := range fileVars {
			eff[k] = v
		}
		for _, kv := range opts.ExtraEnv {
			if k, v, ok := strings.Cut(kv, "="); ok {
				eff[k] = v
			}
		}
		baseURL = eff["BETTER_AUTH_URL"]
		if baseURL == "" {
			baseURL = self
		}
		return env, baseURL, resolveSecret(eff)
	}
	baseURL = opts.BaseURL
	if baseURL == "" {
		baseURL = self
	}
	env = append(env, "BETTER_AUTH_URL="+baseURL)
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
	env = append(env, fixtureEnv(opts)...)
	env = append(env, opts.ExtraEnv...)
	return env, baseURL, secret
}

// fixtureEnv holds the FIXTURE_* variables of opts.
func fixtureEnv(opts Options) []string {
	var env []string
	add := func(set bool, kv string) {
		if set {
			env = append(env, kv)
		}
	}
	add(opts.Bearer, "FIXTURE_BEARER=1")
	add(opts.CookiePrefix != "", "FIXTURE_COOKIE_PREFIX="+opts.CookiePrefix)
	add(opts.Cache != "", "FIXTURE_CACHE="+opts.Cache)
	add(opts.CORSOrigin != "", "FIXTURE_CORS_ORIGIN="+opts.CORSOrigin)
	add(opts.ExposeAuthToken, "FIXTURE_EXPOSE_AUTH_TOKEN=1")
	add(opts.API != "", "FIXTURE_API="+opts.API)
	add(opts.RequireEmailVerification, "FIXTURE_REQUIRE_EMAIL_VERIFICATION=1")
	add(opts.RateLimit, "FIXTURE_RATE_LIMIT=1")
	add(opts.SameSite != "", "FIXTURE_SAMESITE="+opts.SameSite)
	add(opts.Secure != "", "FIXTURE_SECURE="+opts.Secure)
	add(opts.Partitioned, "FIXTURE_PARTITIONED=1")
	add(opts.CacheMaxAge != 0, "FIXTURE_CACHE_MAX_AGE="+strconv.Itoa(opts.CacheMaxAge))
	return env
}

// resolveSecret is the current secret better-auth 1.7.25 picks from vars
// (docs/betterauth-notes.md): BETTER_AUTH_SECRETS' first entry (trimmed),
// else BETTER_AUTH_SECRET, else AUTH_SECRET (both untrimmed), else the
// built-in default.
func resolveSecret(vars map[string]string) string {
	if list := vars["BETTER_AUTH_SECRETS"]; strings.TrimSpace(list) != "" {
		first, _, _ := strings.Cut(list, ",")
		if _, v, ok := strings.Cut(first, ":"); ok {
			return strings.TrimSpace(v)
		}
		return strings.TrimSpace(first)
	}
	for _, k := range []string{"BETTER_AUTH_SECRET", "AUTH_SECRET"} {
		if v := vars[k]; v != "" {
			return v
		}
	}
	return DefaultSecret
}

// fileSecrets lists the values of an env file that must not appear in
// failure messages: every *SECRET* variable (each BETTER_AUTH_SECRETS
// entry too, trimmed and not) and DATABASE_URL's password.
func fileSecrets(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		switch {
		case strings.Contains(strings.ToUpper(k), "SECRET"):
			out = append(out, secretParts(v)...)
		case k == "DATABASE_URL":
			if u, err := url.Parse(v); err == nil && u.User != nil {
				if p, ok := u.User.Password(); ok {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// secretParts is v, v trimmed, and for a list like BETTER_AUTH_SECRETS
// every entry and every entry's value, trimmed and not.
func secretParts(v string) []string {
	out := []string{v, strings.TrimSpace(v)}
	for _, s := range strings.Split(v, ",") { // BETTER_AUTH_SECRETS=v:s,v:s
		out = append(out, s, strings.TrimSpace(s))
		if _, sec, ok := strings.Cut(s, ":"); ok {
			out = append(out, sec, strings.TrimSpace(sec))
		}
	}
	return out
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
		secrets = append(secrets, secretParts(v)...)
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
	args := []string{"server.mjs"}
	if s.EnvFile != "" {
		args = append([]string{"--env-file=" + s.EnvFile}, args...)
	}
	cmd := exec.Command(node, args...)
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

// Redact replaces every secret the server was given (Options, ExtraEnv, its
// EnvFile) in text with [REDACTED]: for callers that print what the server or
// a client of it wrote.
func (s *Server) Redact(text string) string { return s.redact(text) }

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

// Origin is the origin of the server's BETTER_AUTH_URL: what a browser on
// its own pages sends, and what better-auth trusts without configuration.
// For a server behind a TLS proxy (BETTER_AUTH_URL https://…) that is not
// the origin of URL.
func (s *Server) Origin() string {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Host == "" {
		return originOf(s.URL)
	}
	return u.Scheme + "://" + u.Host
}

func originOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// SignUp creates a user through POST /api/auth/sign-up/email (Origin: the
// server URL's origin) and ends the test if that does not answer 200.
func SignUp(t testing.TB, serverURL, email, password string) User {
	t.Helper()
	return SignUpFrom(t, serverURL, "", email, password)
}

// SignUpFrom is SignUp with the given Origin header ("" means the server
// URL's origin), e.g. Server.Origin() for a server whose BETTER_AUTH_URL is
// not its own URL.
func SignUpFrom(t testing.TB, serverURL, origin, email, password string) User {
	t.Helper()
	name, _, _ := strings.Cut(email, "@")
	var out struct {
		User User `json:"user"`
	}
	res, body := post(t, serverURL, origin, "/api/auth/sign-up/email",
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
	return SignInFrom(t, serverURL, "", email, password)
}

// SignInFrom is SignIn with the given Origin header ("" means the server
// URL's origin).
func SignInFrom(t testing.TB, serverURL, origin, email, password string) Session {
	t.Helper()
	status, code, s := TrySignIn(t, serverURL, origin, email, password)
	if status != http.StatusOK {
		t.Fatalf("batest: sign-in %s: HTTP %d %s", email, status, code)
	}
	return s
}

// TrySignIn posts one sign-in (Origin as for SignInFrom) and returns the
// status and, when it is not 200, better-auth's error code from the body
// (or the body's start); the Session is filled on 200. It ends the test only
// when the request fails or a 200 is not a sign-in. For tests that expect a
// refusal: a 429 from the rate limiter, a 403 for an untrusted origin.
func TrySignIn(t testing.TB, serverURL, origin, email, password string) (status int, code string, s Session) {
	t.Helper()
	res, body := post(t, serverURL, origin, "/api/auth/sign-in/email",
		map[string]any{"email": email, "password": password})
	if res.StatusCode != http.StatusOK {
		var e struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		code = strings.TrimSpace(string(body))
		if json.Unmarshal(body, &e) == nil && (e.Code != "" || e.Message != "") {
			code = e.Code
			if code == "" {
				code = e.Message
			}
		}
		if len(code) > 200 {
			code = code[:200] + "…"
		}
		return res.StatusCode, code, Session{}
	}
	var out struct {
		Token string `json:"token"`
		User  User   `json:"user"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("batest: sign-in %s: unexpected body %s (%v)", email, body, err)
	}
	s = Session{User: out.User, Token: out.Token, SetAuthToken: res.Header.Get("Set-Auth-Token")}
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
	return http.StatusOK, "", s
}

func post(t testing.TB, serverURL, origin, path string, body any) (*http.Response, []byte) {
	t.Helper()
	if _, err := url.Parse(serverURL); err != nil {
		t.Fatalf("batest: server URL %q: %v", serverURL, err)
	}
	if origin == "" {
		origin = originOf(serverURL)
	}
	raw, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(serverURL, "/")+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("batest: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", origin)
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
