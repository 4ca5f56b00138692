package ui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// The tail's supervisor is this test binary, re-executed: as in authtui,
// its mode must be reached before anything else runs.
func init() { TailSupervisorMain() }

// tailTempFile writes a file named name in a fresh temp directory.
func tailTempFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoginTailFile(t *testing.T) {
	path := tailTempFile(t, "auth.log", "old line\n")
	p := newLoginPane(&Config{TailFile: path}, newStyles())
	cmd := p.initTail()
	if cmd == nil {
		t.Fatal("no tail")
	}
	step := func() {
		t.Helper()
		msg := cmd()
		cmd = p.Update(msg)
		if cmd == nil {
			t.Fatal("the poll stopped")
		}
	}
	appendFile := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	step()
	if v := ansi.Strip(p.View(100, 20)); !strings.Contains(v, "  old line") {
		t.Errorf("first poll:\n%s", v)
	}
	appendFile("GET /api/auth/get-session 200 Session found\nplain request line\npartial")
	begin := time.Now()
	step()
	if d := time.Since(begin); d < 200*time.Millisecond || d > 2*time.Second {
		t.Errorf("poll interval %s", d)
	}
	v := ansi.Strip(p.View(100, 20))
	if !strings.Contains(v, "▸ GET /api/auth/get-session 200 Session found") || !strings.Contains(v, "  plain request line") {
		t.Errorf("appended lines (the session one highlighted):\n%s", v)
	}
	if strings.Contains(v, "partial") {
		t.Error("an unfinished line was shown")
	}
	appendFile(" line done\nevil \x1b]0;pwned\x07 cookie\n")
	step()
	v = p.View(100, 20)
	if !strings.Contains(ansi.Strip(v), "  partial line done") || strings.ContainsAny(regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(v, ""), "\x1b\x07") {
		t.Errorf("continued / hostile lines:\n%q", v)
	}

	// Truncation (copytruncate) is read from the start.
	if err := os.WriteFile(path, []byte("after truncate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step()
	if v := ansi.Strip(p.View(100, 20)); !strings.Contains(v, "after truncate") || !strings.Contains(v, "truncated") {
		t.Errorf("after truncation:\n%s", v)
	}
	// Rotation: a new file at the path.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("first line of the new file, much longer than the old one was\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	step()
	if v := ansi.Strip(p.View(100, 20)); !strings.Contains(v, "first line of the new file") || !strings.Contains(v, "rotated") {
		t.Errorf("after rotation:\n%s", v)
	}
	// The tail keeps 500 lines.
	var b strings.Builder
	for i := range 700 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	appendFile(b.String())
	step()
	if len(p.tail) != tailMaxLines || p.tail[len(p.tail)-1].text != "line 699" {
		t.Errorf("kept %d lines, last %q", len(p.tail), p.tail[len(p.tail)-1].text)
	}
	if s := ansi.Strip(p.Summary(60, 4)); !strings.Contains(s, "log: line 699") {
		t.Errorf("summary: %s", s)
	}
	p.Close()
	if p.Update(cmd()) != nil {
		t.Error("the poll went on after Close")
	}
}

func TestLoginTailCommand(t *testing.T) {
	cfg := &Config{TailCmd: `echo "pid $$"; echo "set cookie better-auth.session_token"; sleep 30 | cat`}
	p := newLoginPane(cfg, newStyles())
	keep := func(msg tea.Msg) bool { _, ok := msg.(loginTailProcMsg); return ok }
	pump(t, p.Update, p.initTail(), 10*time.Second, keep, func() bool { return len(p.tail) >= 2 })
	v := ansi.Strip(p.View(100, 20))
	if !strings.Contains(v, "▸ set cookie better-auth.session_token") {
		t.Errorf("command output:\n%s", v)
	}
	if _, err := strconv.Atoi(strings.TrimPrefix(p.tail[0].text, "pid ")); err != nil {
		t.Fatalf("first line %q", p.tail[0].text)
	}
	// The group is the supervisor's: it leads it, sh and the pipeline in it.
	pid := int(p.tailProc.pid.Load())
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Fatalf("the tail command's leader %d is in group %d (%v)", pid, pgid, err)
	}
	ch := p.tailCh
	begin := time.Now()
	p.Close()
	done := make(chan tea.Msg, 1)
	go func() { done <- tailWait(0, ch)() }()
	select {
	case msg := <-done:
		if m := msg.(loginTailProcMsg); !m.ended {
			t.Errorf("after Close: %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the command did not stop")
	}
	t.Logf("stopped in %s", time.Since(begin))
	// The whole process group is gone, the pipeline's sleep included.
	deadline := time.Now().Add(3 * time.Second)
	for testenv.GroupAlive(t, pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive after Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tailCredentialLog is what auth services, proxies and databases print:
// every credential shape the attack run saw reach the console's tail.
// The credentials are made up; each entry names the part that must go.
var tailCredentialLog = []struct{ line, secret string }{
	{"prisma:info connecting to postgres://app_user:Sup3r-S3cret-Pw@db.internal:5432/app", "Sup3r-S3cret-Pw"},
	{"GET /api/me 401 Authorization: Basic YWRtaW46Y29ycmVjdC1ob3JzZQ== ua=curl/8.5", "YWRtaW46Y29ycmVjdC1ob3JzZQ"},
	{"GET /api/auth/reset-password/q8ZrT2mW7xK4vN9bL3cH6jP1?callbackURL=%2Freset 302 4ms", "q8ZrT2mW7xK4vN9bL3cH6jP1"},
	{"proxy: forwarding api_key=sk_live_9fQ2xR7tV1mZ4kL8 to upstream", "9fQ2xR7tV1mZ4kL8"},
	{"request headers: x-api-key: 7c2e9a41f0b84d3e96a5 accept: */*", "7c2e9a41f0b84d3e96a5"},
	{`seed: created user ada@example.com with password "correct horse battery staple"`, "horse battery"},
	{"Set-Cookie: better-auth.session_token=Vm0oxIb4jXhq0Y3EeUmYkQ1cK8CWLUVS.dXz%2BLeTgG0vKMGJx3h4ZMB7eD1Y2LSkVhqzUyk4nB6I%3D; Path=/", "jXhq0Y3EeUmYkQ1cK8CWLUVS"},
}

// TestTailRedactsCredentials: no credential of the log, whatever its
// shape, reaches the pane, from a file or a command; the lines around
// them stay readable.
func TestTailRedactsCredentials(t *testing.T) {
	var log strings.Builder
	for _, l := range tailCredentialLog {
		log.WriteString(l.line + "\n")
	}
	check := func(t *testing.T, p *loginPane) {
		t.Helper()
		v := ansi.Strip(p.View(200, 40))
		for _, l := range tailCredentialLog {
			if strings.Contains(v, l.secret) {
				t.Errorf("the tail shows %q:\n%s", l.secret, v)
			}
		}
		for _, kept := range []string{"postgres://app_user:…@db.internal:5432/app", "Authorization: Basic …", "/api/auth/reset-password/…?callbackURL", "api_key=… to upstream", "x-api-key: … accept", `with password "…"`} {
			if !strings.Contains(v, kept) {
				t.Errorf("the tail lost %q:\n%s", kept, v)
			}
		}
	}
	t.Run("file", func(t *testing.T) {
		p := newLoginPane(&Config{TailFile: tailTempFile(t, "auth.log", log.String())}, newStyles())
		p.Update(p.initTail()())
		check(t, p)
	})
	t.Run("command", func(t *testing.T) {
		path := tailTempFile(t, "auth.log", log.String())
		// The command line itself carries a token: the pane's title must not show it.
		p := newLoginPane(&Config{TailCmd: "cat " + path + "; echo --token Zq4mN8pL2xR7Yx2cV9bN4mK7 >/dev/null; sleep 30"}, newStyles())
		defer p.Close()
		keep := func(msg tea.Msg) bool { _, ok := msg.(loginTailProcMsg); return ok }
		pump(t, p.Update, p.initTail(), 10*time.Second, keep, func() bool { return len(p.tail) >= len(tailCredentialLog) })
		check(t, p)
		if v := ansi.Strip(p.View(200, 40)); strings.Contains(v, "pL2xR7Yx2cV9bN4mK7") {
			t.Errorf("the title shows the command's token:\n%s", v)
		}
	})
}

// TestTailSupervisorEndsGroupAtEOF: the supervisor ends the whole group,
// grandchildren included, when its control pipe reports EOF, which is
// what the kernel does when the console dies however it dies (the SIGKILL
// of a real console is tested in cmd/authtui). Here the test is the
// console and closes the pipe itself.
func TestTailSupervisorEndsGroupAtEOF(t *testing.T) {
	exe := supervisorExe()
	if exe == "" {
		t.Fatal("the supervisor is not registered in the test binary")
	}
	dir := t.TempDir()
	pids := filepath.Join(dir, "pids")
	cr, cw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// A pipeline and a background job that ignores SIGTERM: only the
	// group's SIGKILL ends it.
	line := fmt.Sprintf(`(trap '' TERM; sleep 300) & echo $! >> %[1]s; sleep 301 | cat & echo $! >> %[1]s; echo ready >> %[1]s; wait`, pids)
	cmd := exec.Command(exe, tailSupervisorArg, line)
	cmd.ExtraFiles = []*os.File{cr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cr.Close()
	waitFile(t, pids, "ready")
	leader := cmd.Process.Pid
	if !testenv.GroupAlive(t, leader) {
		t.Fatal("the group is not running")
	}
	cw.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the supervisor did not exit after EOF")
	}
	deadline := time.Now().Add(5 * time.Second)
	for testenv.GroupAlive(t, leader) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still alive after the control pipe closed", leader)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFile waits until the file at path holds want, polling.
func waitFile(t testing.TB, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q", path, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
