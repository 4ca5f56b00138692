package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/pgtest"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/testenv"
)

// Tests of issue 13 ("Hardening"), items 2, 3 and 5: one redaction on
// every output path, JSON as safe as text, and the process around the
// console (the tail command's environment and process group, SIGINT).

// sfRun runs the CLI in-process with env as the variables --password-env
// can read.
func sfRun(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb, dir: t.TempDir(),
		getenv: func(k string) string { return env[k] },
	}
	code := a.main(args)
	return result{code, out.String(), errb.String()}
}

func sfFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sfUnsafeRune is what must never reach a terminal from JSON either: C0
// controls, DEL, C1 controls, bidi overrides and isolates, line and
// paragraph separators.
func sfUnsafeRune(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// sfCheckJSON fails when any string of the JSON document out, once
// decoded (what `jq -r` prints), holds a rune sfUnsafeRune rejects, or
// when the raw output does.
func sfCheckJSON(t *testing.T, what, out string) {
	t.Helper()
	for _, r := range out {
		if r != '\n' && sfUnsafeRune(r) {
			t.Errorf("%s: raw %U in the output", what, r)
			return
		}
	}
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		var walk func(v any, path string)
		walk = func(v any, path string) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					walk(k, path+" key")
					walk(e, path+"."+k)
				}
			case []any:
				for i, e := range x {
					walk(e, fmt.Sprintf("%s[%d]", path, i))
				}
			case string:
				for _, r := range x {
					if sfUnsafeRune(r) {
						t.Errorf("%s: %s holds %U once decoded: %q", what, path, r, x)
						return
					}
				}
			}
		}
		walk(v, "")
	}
}

// sfHostileUA is a user agent as a hostile client sends it, and the
// database stores it: a C1 CSI (U+009B) that recolours, an RLO and an
// isolate that reorder the line, DEL, NEL (U+0085) and an ESC sequence.
const sfHostileUA = "Mozilla/5.0 \u009b31mred\u009b0m \u202eevil\u202c \u2066iso\u2069 del\x7f nel\u0085 esc\x1b[2J"

// TestJSONEscapesDatabaseStringsAsText: `sessions --json` used to pass
// C1 controls, bidi overrides and DEL from the database through raw (and
// C0 controls as JSON escapes, which jq -r turns back into ESC): every
// string is now escaped exactly as the text output escapes it.
func TestJSONEscapesDatabaseStringsAsText(t *testing.T) {
	dsn := pgtest.DSN(t)
	seed := pgtest.SeedBetterAuth(t, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE "session" SET "userAgent" = $1 WHERE id = $2`, sfHostileUA, seed.Sessions[1].ID); err != nil {
		t.Fatal(err)
	}

	r := run(t, "", "sessions", "--database-url", dsn, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	sfCheckJSON(t, "sessions --json", r.stdout)
	var out struct {
		Sessions []struct {
			ID        string `json:"id"`
			UserAgent string `json:"user_agent"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		seed.Sessions[0].ID: textsafe.Clean(pgtest.SeedHostileUserAgent),
		seed.Sessions[1].ID: textsafe.Clean(sfHostileUA),
	}
	for _, s := range out.Sessions {
		if w, ok := want[s.ID]; ok {
			if s.UserAgent != w {
				t.Errorf("user agent of %s in JSON = %q, want the text output's %q", s.ID, s.UserAgent, w)
			}
			delete(want, s.ID)
		}
	}
	if len(want) > 0 {
		t.Errorf("sessions missing from the JSON: %v", want)
	}
	// The text output shows the same escapes.
	text := run(t, "", "sessions", "--database-url", dsn)
	if !strings.Contains(text.stdout, textsafe.Clean(sfHostileUA)[:30]) {
		t.Errorf("text output does not show the escaped user agent:\n%s", text.stdout)
	}
}

// TestJSONEscapesServerBodiesAsText: a server's error body reaches the
// findings, the evidence and the verdict of `check --json`; its C1
// controls, bidi overrides and DEL must come out escaped, and a
// credential in it cut, as in the text output.
func TestJSONEscapesServerBodiesAsText(t *testing.T) {
	const body = `{"code":"INTERNAL","message":"db said \u009b31mno\u202e tables\u007f; retry with password=Hunter2-hunter2"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	env := sfFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n")
	pw := map[string]string{"SF_PW": testPass}
	for _, format := range [][]string{{"--json"}, nil} {
		args := append([]string{"check", "--env-file", env, "--base-url", srv.URL, "--email", "ada@example.com", "--password-env", "SF_PW"}, format...)
		r := sfRun(t, pw, args...)
		if r.code != exitFound {
			t.Fatalf("check %v: exit %d\n%s%s", format, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "Hunter2-hunter2") || strings.Contains(r.stdout+r.stderr, testPass) {
			t.Errorf("check %v printed a credential:\n%s", format, r.stdout)
		}
		if format == nil {
			if !strings.Contains(r.stdout, `no\u202e tables\x7f`) {
				t.Errorf("text output does not show the body escaped:\n%s", r.stdout)
			}
			continue
		}
		sfCheckJSON(t, "check --json", r.stdout)
		if !strings.Contains(r.stdout, `\\u009b31mno\\u202e tables\\x7f; retry with password=…`) {
			t.Errorf("check --json does not carry the body as the text output shows it:\n%s", r.stdout)
		}
	}
}

// TestBaseURLNeverPrintedAsIs: a BETTER_AUTH_URL with userinfo or a query
// was printed as is by `secrets` (text and JSON).
func TestBaseURLNeverPrintedAsIs(t *testing.T) {
	env := sfFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\nBETTER_AUTH_URL=https://deploy:S3cr3t-Pw@auth.example.com/api/auth?token=Zq4mN8pL2xR7Yx2cV9bN\n")
	for _, format := range [][]string{nil, {"--json"}} {
		r := run(t, "", append([]string{"secrets", "--env-file", env}, format...)...)
		for _, secret := range []string{"S3cr3t-Pw", "Zq4mN8pL2xR7Yx2cV9bN", secretA} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("secrets %v printed %q:\n%s", format, secret, r.stdout)
			}
		}
		if !strings.Contains(r.stdout, "https://auth.example.com/api/auth?…") {
			t.Errorf("secrets %v does not show the base URL as a location:\n%s", format, r.stdout)
		}
	}
}

// TestMarkdownEscapesServerBodies: `check --markdown` carries a server's
// body into the findings and the verdict, and the base URL into the
// configuration. Controls, bidi overrides and DEL come out escaped as in
// the text output, a credential cut, the URL without userinfo and query,
// and Markdown in the body stays literal text: no link, no HTML.
func TestMarkdownEscapesServerBodies(t *testing.T) {
	const body = `{"code":"INTERNAL","message":"\u009b31mno\u202e tables\u007f [c](https://e.x) <b>x password=Hunter2-hunter2"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusInternalServerError)
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	base := strings.Replace(srv.URL, "http://", "http://deploy:S3cr3t-Pw@", 1) + "/?token=Zq4mN8pL2xR7Yx2cV9bN"
	env := sfFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\nBETTER_AUTH_URL="+base+"\n")
	r := sfRun(t, map[string]string{"SF_PW": testPass}, "check", "--markdown", "--env-file", env, "--email", "ada@example.com", "--password-env", "SF_PW")
	if r.code != exitFound || !strings.HasPrefix(r.stdout, "# authtui report") {
		t.Fatalf("check --markdown: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, secret := range []string{"Hunter2-hunter2", "S3cr3t-Pw", "Zq4mN8pL2xR7Yx2cV9bN", secretA, testPass} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the report holds %q:\n%s", secret, r.stdout)
		}
	}
	for _, c := range r.stdout {
		if c != '\n' && sfUnsafeRune(c) {
			t.Errorf("raw %U in the report", c)
		}
	}
	for _, want := range []string{`no\\u202e tables\\x7f`, `\[c\](https://e.x) &lt;b&gt;x`, "**base URL** " + srv.URL + "/?…"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the report lacks %q:\n%s", want, r.stdout)
		}
	}
}

// ---- the console as a process ------------------------------------------------------

// sfConsole is a real authtui console in tmux, started through a wrapper
// that records its pid.
type sfConsole struct {
	*tmuxSession
	dir     string
	pidFile string
}

func sfBuild(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		testenv.Unavailable(t, "tmux not found: install tmux to run the console as a process")
	}
	bin := filepath.Join(t.TempDir(), "authtui")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// sfStart starts bin with args under env (KEY=VALUE, added to a minimal
// environment) in a 120×40 tmux session; the shell around it prints
// "EXITED <code>" when it ends.
func sfStart(t *testing.T, bin, name string, env []string, args ...string) *sfConsole {
	t.Helper()
	dir := t.TempDir()
	c := &sfConsole{dir: dir, pidFile: filepath.Join(dir, "authtui.pid")}
	wrapper := filepath.Join(dir, "run.sh")
	script := "#!/bin/sh\necho $$ > " + c.pidFile + "\nexec \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	var quoted []string
	for _, a := range append([]string{wrapper, bin}, args...) {
		quoted = append(quoted, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
	}
	c.tmuxSession = &tmuxSession{t: t, name: name, sock: filepath.Join(dir, "tmux.sock")}
	tmuxArgs := []string{"new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-e", "TERM=xterm-256color"}
	for _, kv := range env {
		tmuxArgs = append(tmuxArgs, "-e", kv)
	}
	tmuxArgs = append(tmuxArgs, "sh", "-c", strings.Join(quoted, " ")+" 2>"+filepath.Join(dir, "stderr")+"; echo EXITED $?; sleep 60")
	c.tmux(tmuxArgs...)
	t.Cleanup(func() { exec.Command("tmux", "-S", c.sock, "kill-server").Run() })
	return c
}

// pid is the console's pid, once the wrapper has written it.
func (c *sfConsole) pid() int {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(c.pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				return pid
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatal("the console never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sfWaitFile waits until the file at path holds want.
func sfWaitFile(t *testing.T, path, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q", path, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sfAlive says whether pid runs: zombies do not count (in a container
// whose init does not reap, dead orphans stay zombies).
func sfAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	fields := strings.Fields(s[i+1:])
	return len(fields) > 0 && fields[0] != "Z" && fields[0] != "X"
}

func sfPgid(t *testing.T, pid int) int {
	t.Helper()
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatalf("pgid of %d: %v", pid, err)
	}
	return pgid
}

// TestConsoleProcess runs the real console: what its --tail-cmd command
// inherits, that a SIGKILL of the console ends the command's whole
// process group, and that an external SIGINT exits 0 as q does.
func TestConsoleProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		testenv.Unavailable(t, "no /proc: cannot tell live processes from zombies")
	}
	bin := sfBuild(t)
	authEnv := sfFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n")

	// The --tail-cmd child used to inherit the whole environment: the
	// test password, DATABASE_URL, store URLs, BetterAuth's secret.
	t.Run("tail-env", func(t *testing.T) {
		envOut := filepath.Join(t.TempDir(), "env.out")
		withheld := map[string]string{
			"SF_TEST_PW":                  "Tr0ub4dor-and-3-horses",
			"DATABASE_URL":                "postgres://app:Db-Pa55w0rd@127.0.0.1:1/app",
			"POSTGRES_URL_NON_POOLING":    "postgres://app:Vercel-Pg-Pw@127.0.0.1:1/app",
			"UPSTASH_REDIS_REST_TOKEN":    "AXk9ZmQ4ZjQ2LTQ-upstash-token",
			"KV_REST_API_TOKEN":           "kv-rest-token-123456",
			"BETTER_AUTH_SECRET":          secretC,
			"AUTH_SECRET":                 secretZ,
			"NEXT_PUBLIC_BETTER_AUTH_URL": "https://u:p@auth.example.com",
		}
		passed := map[string]string{
			"REDIS_URL":        "redis://default:Redis-Pw@127.0.0.1:1", // withheld, but asked for with --tail-env
			"SF_LOG_TOOL_FLAG": "verbose",                              // none of the console's business: inherited
		}
		var env []string
		for k, v := range withheld {
			env = append(env, k+"="+v)
		}
		for k, v := range passed {
			env = append(env, k+"="+v)
		}
		c := sfStart(t, bin, "authtui-tail-env", env, "--env-file", authEnv, "--email", "ada@example.com", "--password-env", "SF_TEST_PW",
			"--tail-env", "REDIS_URL", "--tail-cmd", "env > "+envOut+"; echo env-written; sleep 300")
		c.waitFor(20*time.Second, "env-written")
		got := map[string]string{}
		for _, line := range strings.Split(sfWaitFile(t, envOut, "PATH="), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				got[k] = v
			}
		}
		for k, v := range withheld {
			if _, ok := got[k]; ok {
				t.Errorf("the tail command inherited %s", k)
			}
			for name, gv := range got {
				if strings.Contains(gv, v) {
					t.Errorf("the value of %s reached the tail command in %s", k, name)
				}
			}
		}
		for k, v := range passed {
			if got[k] != v {
				t.Errorf("the tail command got %s=%q, want it passed", k, got[k])
			}
		}
		c.keys("q")
		c.waitFor(15*time.Second, "EXITED 0")
	})

	// A SIGKILL'd console used to leave the --tail-cmd process group
	// running: nothing was left to stop it.
	t.Run("sigkill", func(t *testing.T) {
		pids := filepath.Join(t.TempDir(), "pids")
		// A pipeline, and a background job that ignores SIGTERM.
		line := fmt.Sprintf(`(trap '' TERM; sleep 300) & echo $! >> %[1]s; sleep 301 | cat & echo $! >> %[1]s; echo $$ >> %[1]s; echo ready >> %[1]s; echo tail-running; wait`, pids)
		c := sfStart(t, bin, "authtui-sigkill", nil, "--env-file", authEnv, "--tail-cmd", line)
		c.waitFor(20*time.Second, "tail-running")
		var procs []int
		for _, f := range strings.Fields(sfWaitFile(t, pids, "ready")) {
			if pid, err := strconv.Atoi(f); err == nil {
				procs = append(procs, pid)
			}
		}
		if len(procs) != 3 {
			t.Fatalf("pids: %v", procs)
		}
		group := sfPgid(t, procs[2]) // sh's group: the whole tail command's
		console := c.pid()
		if group == sfPgid(t, console) {
			t.Fatal("the tail command runs in the console's own process group")
		}
		if err := syscall.Kill(console, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		c.waitFor(10*time.Second, "EXITED 137")
		deadline := time.Now().Add(10 * time.Second)
		for testenv.GroupAlive(t, group) {
			if time.Now().After(deadline) {
				var alive []int
				for _, p := range procs {
					if sfAlive(p) {
						alive = append(alive, p)
					}
				}
				t.Fatalf("the tail command's process group %d outlived the SIGKILL'd console (alive: %v)", group, alive)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for _, p := range procs {
			if sfAlive(p) {
				t.Errorf("process %d of the tail command outlived the console", p)
			}
		}
	})

	// An external SIGINT used to exit 1, which says "found an error".
	// The console also shows the BETTER_AUTH_URL of this env file, with
	// userinfo and a query: neither may reach the screen.
	t.Run("sigint", func(t *testing.T) {
		urlEnv := sfFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\nBETTER_AUTH_URL=https://deploy:S3cr3t-Pw@auth.example.com/api/auth?token=Zq4mN8pL2xR7Yx2cV9bN\n")
		c := sfStart(t, bin, "authtui-sigint", nil, "--env-file", urlEnv, "--tail-cmd", "echo tail-running; sleep 300")
		c.waitFor(20*time.Second, "1 Secrets", "tail-running", "https://auth.example.com")
		for _, pane := range []string{"1", "5"} {
			c.keys(pane, "z")
			scr := c.waitFor(5*time.Second, "auth.example.com")
			for _, secret := range []string{"S3cr3t-Pw", "Zq4mN8pL2xR7Yx2cV9bN", "deploy:"} {
				if strings.Contains(scr, secret) {
					t.Errorf("the console shows %q of BETTER_AUTH_URL:\n%s", secret, scr)
				}
			}
			c.keys("z")
		}
		if err := syscall.Kill(c.pid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		c.waitFor(15*time.Second, "EXITED 0")
		if data, _ := os.ReadFile(filepath.Join(c.dir, "stderr")); len(bytes.TrimSpace(data)) > 0 {
			t.Errorf("the console wrote to stderr: %s", data)
		}
	})
}

// writeJSONLine, the form of a stream of events (login --json), is as
// safe as writeJSON: one line, every string escaped and redacted.
func TestWriteJSONLine(t *testing.T) {
	var b bytes.Buffer
	ev := struct {
		Detail string `json:"detail"`
		URL    string `json:"url"`
	}{"answered 500 \u009b31m\u202e password=Hunter2-hunter2", "https://u:S3cr3t-Pw@auth.example.com/x?token=Zq4mN8pL2xR7"}
	if err := writeJSONLine(&b, ev); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("not one line: %q", out)
	}
	sfCheckJSON(t, "writeJSONLine", out)
	for _, secret := range []string{"Hunter2-hunter2", "S3cr3t-Pw", "Zq4mN8pL2xR7"} {
		if strings.Contains(out, secret) {
			t.Errorf("writeJSONLine printed %q: %s", secret, out)
		}
	}
	if want := `{"detail":"answered 500 \\u009b31m\\u202e password=…","url":"https://auth.example.com/x?…"}` + "\n"; out != want {
		t.Errorf("writeJSONLine = %s, want %s", out, want)
	}
}

// An error can quote a flag's value: stderr gets the same redaction.
func TestErrorTextRedacts(t *testing.T) {
	err := fmt.Errorf(`invalid value "postgres://app:Db-Pa55w0rd@db.internal/app" for flag -database-url: %w`, errors.New("refused"))
	if got := errorText(err); strings.Contains(got, "Db-Pa55w0rd") || !strings.Contains(got, "postgres://app:…@db.internal/app") {
		t.Errorf("errorText = %q", got)
	}
}

// BenchmarkWriteJSON measures the sanitising pass on a large report: a
// page of 1000 sessions, as `sessions --json --limit 1000` prints.
func BenchmarkWriteJSON(b *testing.B) {
	type row struct {
		ID, UserID, Email, TokenPrefix, IP, UserAgent string
		Active                                        bool
	}
	rows := make([]row, 1000)
	for i := range rows {
		rows[i] = row{fmt.Sprintf("JQ0YIMSKN6gY0lXCeODJb3uF7rq%05d", i), "u1", "demo@example.com", "mYD4r5…", "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", true}
	}
	rows[7].UserAgent = sfHostileUA
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if err := writeJSON(&out, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(out.Len()))
}
