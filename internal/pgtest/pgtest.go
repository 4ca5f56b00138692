// Package pgtest gives tests a real PostgreSQL server and real BetterAuth data.
//
// It is a normal package so that several packages' tests can share it; only
// tests import it. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// then call DSN(t) for a fresh, empty database per test and, if the test wants
// BetterAuth's tables and rows, SeedBetterAuth(t, dsn, pgtest.SeedOptions{}).
//
// Where the server comes from:
//   - AUTHTUI_TEST_DATABASE_URL set: that server (a postgres:// URL whose user
//     may CREATE DATABASE); its database is used as the maintenance database.
//   - otherwise one throwaway cluster per test binary, started when the first
//     test asks for a database (its startup time is printed to stderr): initdb
//     (trust authentication, UTF8, C locale) in a temporary directory, postgres
//     listening only on 127.0.0.1 on a free port with its unix socket in that
//     directory, fsync/full_page_writes/synchronous_commit off. It runs as the
//     postgres user when the tests run as root (PostgreSQL refuses root), is
//     stopped with `pg_ctl stop -m immediate` after the tests or on
//     SIGINT/SIGTERM, and gets SIGQUIT from the kernel if the test binary dies
//     (the next run removes such leftover directories).
//   - no binaries (initdb neither in PATH nor in /usr/lib/postgresql/*/bin):
//     tests calling DSN are skipped, or fail when CI=true.
//
// AUTHTUI_TEST_PG_BIN=/dir makes pgtest look for initdb, pg_ctl and postgres
// in /dir only (AUTHTUI_TEST_PG_BIN=/nonexistent simulates missing binaries).
package pgtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Environment variables pgtest reads.
const (
	// EnvDatabaseURL names an existing server to use instead of a throwaway cluster.
	EnvDatabaseURL = "AUTHTUI_TEST_DATABASE_URL"
	// EnvPGBin overrides where the PostgreSQL binaries are looked for (test hook).
	EnvPGBin = "AUTHTUI_TEST_PG_BIN"
)

// MissingBinariesMessage is how tests that need PostgreSQL are skipped (or
// failed, with CI=true) when no server binaries are installed.
const MissingBinariesMessage = "PostgreSQL binaries not found: install postgresql-15 or set " + EnvDatabaseURL

const (
	dirPrefix      = "authtui-pgtest-"
	startupTimeout = 30 * time.Second
	ownerFile      = "owner.pid"
)

// State. Main sets the first group before m.Run; the cluster is started by
// the first test that needs it (so binaries whose selected tests need no
// database never start one) and stopped by Main.
var (
	mainCalled  bool
	externalURL *url.URL // AUTHTUI_TEST_DATABASE_URL
	binDir      string   // PostgreSQL binaries for the throwaway cluster
	unavailable string   // non-empty: no binaries, skip (or fail in CI)
	configErr   error    // AUTHTUI_TEST_DATABASE_URL unusable
	lifetime    = context.Background()

	startOnce  sync.Once
	startMu    sync.Mutex // held while the cluster starts; guards running
	running    *cluster
	clusterURL *url.URL // maintenance database of the running cluster
	clusterErr error
)

// Main runs the package's tests with access to a PostgreSQL server (see the
// package comment) and returns the exit code for os.Exit.
func Main(m *testing.M) int {
	if mainCalled {
		panic("pgtest.Main called twice")
	}
	mainCalled = true

	if raw := os.Getenv(EnvDatabaseURL); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			configErr = fmt.Errorf("%s must be a postgres://user@host:port/db URL", EnvDatabaseURL)
		} else {
			externalURL = u
		}
		return m.Run()
	}

	bin, err := findBinDir()
	if err != nil {
		unavailable = MissingBinariesMessage
		return m.Run()
	}
	binDir = bin

	// SIGINT/SIGTERM: abort a startup in progress, stop the cluster, exit.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lifetime = ctx
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	runDone := make(chan struct{})
	go func() {
		select {
		case s := <-sigc:
			fmt.Fprintf(os.Stderr, "pgtest: %v: stopping PostgreSQL\n", s)
			cancel()
			stopRunning()
			code := 1
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-runDone:
		}
	}()

	code := m.Run()
	signal.Stop(sigc)
	close(runDone)
	stopRunning()
	return code
}

// stopRunning stops the cluster if one was started, after waiting for a
// startup in progress to finish or abort.
func stopRunning() {
	startMu.Lock()
	c := running
	startMu.Unlock()
	if c != nil {
		c.stop()
	}
}

// server returns the maintenance URL, starting the cluster on first use, or
// ends the test when there is no server.
func server(t testing.TB) *url.URL {
	t.Helper()
	switch {
	case !mainCalled:
		t.Fatal("pgtest: the package has no TestMain calling pgtest.Main: add\n\tfunc TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }")
	case unavailable != "":
		testenv.Unavailable(t, unavailable)
	case configErr != nil:
		t.Fatalf("pgtest: %v", configErr)
	case externalURL != nil:
		return externalURL
	}
	startOnce.Do(func() {
		startMu.Lock()
		defer startMu.Unlock()
		begin := time.Now()
		c, err := startCluster(lifetime, binDir)
		if err != nil {
			clusterErr = err
			return
		}
		running, clusterURL = c, c.url("postgres")
		fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL %s on 127.0.0.1:%d ready in %s (initdb %s)\n",
			c.version, c.port, time.Since(begin).Round(time.Millisecond), c.initdbTook.Round(time.Millisecond))
	})
	if clusterErr != nil {
		t.Fatalf("pgtest: could not start PostgreSQL: %v", clusterErr)
	}
	return clusterURL
}

// Superuser returns the URL of the maintenance database (`postgres` for the
// throwaway cluster) as a superuser. Tests must not leave anything behind in it.
func Superuser(t testing.TB) string {
	t.Helper()
	return server(t).String()
}

// DSN creates a fresh, empty database for the calling test and returns its
// postgres://postgres@127.0.0.1:PORT/NAME?sslmode=disable URL. The database is
// dropped (its connections terminated first) when the test ends. Safe to call
// from parallel tests.
func DSN(t testing.TB) string {
	t.Helper()
	admin := server(t)
	name := databaseName(t.Name())
	ident := pgx.Identifier{name}.Sanitize()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := withConn(ctx, admin, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, "CREATE DATABASE "+ident)
		return err
	}); err != nil {
		t.Fatalf("pgtest: CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := dropDatabase(ctx, admin, name); err != nil {
			t.Errorf("pgtest: dropping database %s: %v", name, err)
		}
	})

	u := *admin
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func databaseName(testName string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(testName) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 30 {
			break
		}
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	return "authtui_" + strings.Trim(b.String(), "_") + "_" + hex.EncodeToString(rnd[:])
}

func dropDatabase(ctx context.Context, admin *url.URL, name string) error {
	ident := pgx.Identifier{name}.Sanitize()
	return withConn(ctx, admin, func(c *pgx.Conn) error {
		if _, err := c.Exec(ctx,
			"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
			name); err != nil {
			return err
		}
		_, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42601" { // syntax error: PostgreSQL < 13
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+ident)
		}
		return err
	})
}

func withConn(ctx context.Context, u *url.URL, f func(*pgx.Conn) error) error {
	c, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	return f(c)
}

// ---- finding the binaries ----------------------------------------------------

// findBinDir returns the directory holding initdb, pg_ctl and postgres.
func findBinDir() (string, error) {
	complete := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			fi, err := os.Stat(filepath.Join(dir, b))
			if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	if dir, ok := os.LookupEnv(EnvPGBin); ok {
		if complete(dir) {
			return dir, nil
		}
		return "", errors.New(MissingBinariesMessage)
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if dir := filepath.Dir(p); complete(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { // newest major version first
		return versionOf(dirs[i]) > versionOf(dirs[j])
	})
	for _, dir := range dirs {
		if complete(dir) {
			return dir, nil
		}
	}
	return "", errors.New(MissingBinariesMessage)
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

// ---- the throwaway cluster ---------------------------------------------------

type cluster struct {
	bin        string
	dir        string // temporary directory: data/, postgres.log, the socket
	cred       *syscall.Credential
	port       int
	version    string
	initdbTook time.Duration

	cmd    *exec.Cmd
	exited chan struct{}

	stopOnce sync.Once
}

func (c *cluster) url(db string) *url.URL {
	return &url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// command runs a PostgreSQL binary, as the postgres user when we are root,
// in its own process group: a terminal's Ctrl-C goes to the test binary,
// which stops the cluster itself, and cancelling ctx kills the whole group
// (initdb's postgres children included).
func (c *cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(testenv.MinimalEnv(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func startCluster(ctx context.Context, bin string) (*cluster, error) {
	c := &cluster{bin: bin}
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			return nil, err
		}
		c.cred = cred
	}
	sweepStale()

	dir, err := makeClusterDir(c.cred)
	if err != nil {
		return nil, err
	}
	c.dir = dir
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(dir)
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}

	t0 := time.Now()
	initCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	out, err := c.command(initCtx, "initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput()
	cancel()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("initdb interrupted: %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("initdb in %s: %v\n%s", dir, err, out)
	}
	c.initdbTook = time.Since(t0)

	for attempt := 1; ; attempt++ {
		retry, err := c.startPostgres(ctx)
		if err == nil {
			break
		}
		if !retry || attempt == 5 {
			return nil, err
		}
	}
	ok = true
	return c, nil
}

func postgresCredential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root, but there is no postgres user: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// makeClusterDir creates the temporary directory, owned by the user postgres
// runs as, under a parent that user can traverse.
func makeClusterDir(cred *syscall.Credential) (string, error) {
	parents := []string{os.TempDir()}
	if parents[0] != "/tmp" {
		parents = append(parents, "/tmp")
	}
	var tried []string
	for _, parent := range parents {
		if cred != nil && !traversable(parent, cred.Uid, cred.Gid) {
			tried = append(tried, parent)
			continue
		}
		dir, err := os.MkdirTemp(parent, dirPrefix)
		if err != nil {
			return "", err
		}
		if dir, err = filepath.EvalSymlinks(dir); err != nil {
			return "", err
		}
		if cred != nil {
			if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
				os.RemoveAll(dir)
				return "", err
			}
		}
		return dir, nil
	}
	return "", fmt.Errorf("user postgres cannot traverse %s: set TMPDIR to a directory every user can reach", strings.Join(tried, " or "))
}

// traversable reports whether uid/gid may search every directory down to dir.
func traversable(dir string, uid, gid uint32) bool {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return false
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return true
		}
		mode := fi.Mode().Perm()
		switch {
		case st.Uid == uid:
			if mode&0o100 == 0 {
				return false
			}
		case st.Gid == gid:
			if mode&0o010 == 0 {
				return false
			}
		default:
			if mode&0o001 == 0 {
				return false
			}
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}

// startPostgres starts the postmaster on a free port and waits until it
// accepts connections. retry is true when the port was taken meanwhile.
func (c *cluster) startPostgres(ctx context.Context) (retry bool, err error) {
	port, err := testenv.FreePort()
	if err != nil {
		return false, err
	}
	logPath := filepath.Join(c.dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return false, err
	}
	defer logf.Close()

	cmd := c.command(context.Background(), "postgres", "-D", c.dataDir(), "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+c.dir,
		"-c", "fsync=off",
		"-c", "full_page_writes=off",
		"-c", "synchronous_commit=off",
		"-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test binary dies without stopping it, the kernel sends the
	// postmaster SIGQUIT (immediate shutdown). The signal is tied to the
	// thread that forked, hence the locked thread below that lives as long as
	// the postmaster does.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT

	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return false, fmt.Errorf("starting postgres: %v", err)
	}
	c.cmd, c.exited, c.port = cmd, exited, port

	u := c.url("postgres")
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	deadline := time.Now().Add(startupTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			taken := bytes.Contains(log, []byte("already in use")) || bytes.Contains(log, []byte("could not create any TCP/IP sockets"))
			return taken, fmt.Errorf("postgres exited during startup (%v):\n%s", cmd.ProcessState, tail(log, 4000))
		case <-ctx.Done():
			c.kill()
			return false, ctx.Err()
		default:
		}
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		var dataDir, version string
		lastErr = withConn(pingCtx, u, func(conn *pgx.Conn) error {
			return conn.QueryRow(pingCtx, "SELECT current_setting('data_directory'), current_setting('server_version')").Scan(&dataDir, &version)
		})
		cancel()
		// The data directory check makes sure we are not talking to another
		// cluster that grabbed the port first (ours will then exit above).
		if lastErr == nil && dataDir == c.dataDir() {
			c.version = version
			return false, nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	c.kill()
	log, _ := os.ReadFile(logPath)
	return false, fmt.Errorf("postgres not ready after %s (last error: %v):\n%s", startupTimeout, lastErr, tail(log, 4000))
}

// kill stops the postmaster the hard way and waits for it.
func (c *cluster) kill() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// stop shuts the cluster down (pg_ctl stop -m immediate) and removes its directory.
func (c *cluster) stop() {
	c.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := c.command(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "immediate", "-w").CombinedOutput()
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: pg_ctl stop: %v: %s", err, out)
		}
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
		}
		c.kill()
		if err := os.RemoveAll(c.dir); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	})
}

// sweepStale removes cluster directories left by test binaries that died
// without cleaning up (the kernel already sent their postmasters SIGQUIT).
func sweepStale() {
	parents := []string{os.TempDir(), "/tmp"}
	for _, parent := range parents {
		entries, _ := os.ReadDir(parent)
		for _, e := range entries {
			if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) {
				continue
			}
			dir := filepath.Join(parent, e.Name())
			raw, err := os.ReadFile(filepath.Join(dir, ownerFile))
			if err != nil {
				// Maybe being created right now: only sweep old ones.
				if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Hour {
					continue
				}
			} else if pid, err := strconv.Atoi(strings.TrimSpace(string(raw))); err != nil || alive(pid) {
				continue
			}
			killPostmaster(dir)
			_ = os.RemoveAll(dir)
		}
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// killPostmaster sends SIGQUIT to a postmaster still running in dir/data,
// after checking its command line names that data directory.
func killPostmaster(dir string) {
	f, err := os.Open(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil || pid <= 0 {
		return
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !bytes.Contains(cmdline, []byte(filepath.Join(dir, "data"))) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	for i := 0; i < 100 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return append([]byte("…"), b[len(b)-n:]...)
	}
	return b
}

// ---- BetterAuth seed ---------------------------------------------------------

// SeedDefaultSecret is the BETTER_AUTH_SECRET seed.mjs uses when SeedOptions
// sets none (the fake fixture secret A of testdata/betterauth/cases.mjs).
const SeedDefaultSecret = "authtui-fixture-secret-A-0123456789abcdef"

// SeedHostileUserAgent is the User-Agent of the first user's first session.
const SeedHostileUserAgent = "evil\x1b]0;pwned\x07agent"

// SeedOptions configures testdata/betterauth/seed.mjs. Zero values mean the defaults.
type SeedOptions struct {
	Users           int    // SEED_USERS: user1@example.com …; 0 = 3
	SessionsPerUser int    // SEED_SESSIONS_PER_USER; 0 = 2, negative = none
	Secret          string // BETTER_AUTH_SECRET; "" = SeedDefaultSecret (unless Env sets BETTER_AUTH_SECRETS)
	BaseURL         string // BETTER_AUTH_URL; "" = http://localhost:3000
	// Env holds extra KEY=VALUE variables for seed.mjs, e.g. FIXTURE_CACHE=jwe,
	// FIXTURE_COOKIE_PREFIX=myapp or BETTER_AUTH_SECRETS=2:…,1:… (see auth.mjs).
	// Only PATH, HOME and TMPDIR are passed from the test's own environment.
	Env []string
}

// SeedResult is what seed.mjs created.
type SeedResult struct {
	CookieName string        `json:"cookie_name"` // e.g. better-auth.session_token
	Users      []SeedUser    `json:"users"`
	Sessions   []SeedSession `json:"sessions"`
}

// SeedUser is one signed-up user (its password is random and never leaves seed.mjs).
type SeedUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// SeedSession is one sign-in: the session row plus the cookie better-auth set.
type SeedSession struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	Token     string `json:"token"`      // session.token, unsigned
	Cookie    string `json:"cookie"`     // session_token value as in Set-Cookie: URL-encoded "<token>.<sig>"
	UserAgent string `json:"user_agent"` // as stored in session."userAgent"
	IPAddress string `json:"ip_address"` // as stored in session."ipAddress"
}

// SeedBetterAuth runs better-auth's migrations on dsn and fills it with users
// and sessions through better-auth itself (testdata/betterauth/seed.mjs).
// It runs `npm ci` in testdata/betterauth first if node_modules is missing or
// stale. Without node it skips the test (fails it with CI=true).
func SeedBetterAuth(t testing.TB, dsn string, opts SeedOptions) SeedResult {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node not found: install Node.js 20 or newer to seed BetterAuth data")
	}
	dir, err := testenv.BetterAuthDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	env := append(testenv.MinimalEnv(), "DATABASE_URL="+dsn)
	secrets := []string{SeedDefaultSecret}
	if opts.Secret != "" {
		env = append(env, "BETTER_AUTH_SECRET="+opts.Secret)
		secrets = append(secrets, opts.Secret)
	}
	if opts.BaseURL != "" {
		env = append(env, "BETTER_AUTH_URL="+opts.BaseURL)
	}
	if opts.Users > 0 {
		env = append(env, fmt.Sprintf("SEED_USERS=%d", opts.Users))
	}
	switch {
	case opts.SessionsPerUser > 0:
		env = append(env, fmt.Sprintf("SEED_SESSIONS_PER_USER=%d", opts.SessionsPerUser))
	case opts.SessionsPerUser < 0:
		env = append(env, "SEED_SESSIONS_PER_USER=0")
	}
	for _, kv := range opts.Env {
		env = append(env, kv)
		if k, v, ok := strings.Cut(kv, "="); ok && strings.Contains(strings.ToUpper(k), "SECRET") {
			for _, s := range strings.Split(v, ",") { // BETTER_AUTH_SECRETS=v:s,v:s
				if _, sec, ok := strings.Cut(s, ":"); ok {
					secrets = append(secrets, sec)
				}
				secrets = append(secrets, s)
			}
			secrets = append(secrets, v)
		}
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "seed.mjs")
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	begin := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("pgtest: node seed.mjs: %v\nstderr:\n%s", err, redact(tail(stderr.Bytes(), 8000), secrets))
	}
	var res SeedResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("pgtest: seed.mjs output is not one JSON object: %v\nstdout:\n%s\nstderr:\n%s",
			err, redact(tail(stdout.Bytes(), 2000), secrets), redact(tail(stderr.Bytes(), 4000), secrets))
	}
	t.Logf("pgtest: seeded %d users, %d sessions in %s", len(res.Users), len(res.Sessions), time.Since(begin).Round(time.Millisecond))
	return res
}

func redact(b []byte, secrets []string) string {
	s := string(b)
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}
