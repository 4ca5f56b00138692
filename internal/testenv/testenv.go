// Package testenv holds what the integration-test harnesses (pgtest,
// batest) share: where the repository is, the pinned BetterAuth's
// node_modules, a minimal environment for child processes, free ports, and
// the rule that a missing prerequisite skips a test locally but fails it
// under CI=true.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CIMode reports whether missing prerequisites fail tests instead of
// skipping them.
func CIMode() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Unavailable skips the test with msg, or fails it under CI=true.
func Unavailable(t testing.TB, msg string) {
	t.Helper()
	if CIMode() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// MinimalEnv is what child processes get from the test's environment:
// enough to run, and never an inherited BETTER_AUTH_* or DATABASE_URL.
func MinimalEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// RepoRoot walks up from the working directory to the directory holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// BetterAuthDir is testdata/betterauth, with its node_modules installed.
func BetterAuthDir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "testdata", "betterauth")
	return dir, EnsureNodeModules(dir)
}

var (
	npmMu   sync.Mutex
	npmDone = map[string]error{}
)

// EnsureNodeModules runs `npm ci` in dir once per process when
// node_modules is missing or older than package-lock.json. An flock in the
// temporary directory (npm ci deletes node_modules) keeps parallel test
// binaries from running it at the same time.
func EnsureNodeModules(dir string) error {
	npmMu.Lock()
	defer npmMu.Unlock()
	if err, ok := npmDone[dir]; ok {
		return err
	}
	err := npmCI(dir)
	npmDone[dir] = err
	return err
}

func npmCI(dir string) error {
	sum := sha256.Sum256([]byte(dir))
	lockPath := filepath.Join(os.TempDir(), "authtui-npm-ci-"+hex.EncodeToString(sum[:6])+".lock")
	lf, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %v", lockPath, err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)

	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return err
	}
	if installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil &&
		!installed.ModTime().Before(lock.ModTime()) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("%s/node_modules is missing or stale and npm is not installed", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if len(out) > 8000 {
			out = append([]byte("…"), out[len(out)-8000:]...)
		}
		return fmt.Errorf("npm ci in %s: %v\n%s", dir, err, out)
	}
	return nil
}

// SilentListener is a loopback TCP server that accepts connections and
// never answers: the hung server every timeout path must survive. It
// returns host:port; everything closes when the test ends.
func SilentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	return l.Addr().String()
}

// GroupAlive reports whether a live process of group pgid remains.
// Zombies do not count: in a container whose init does not reap, orphans
// stay zombies, dead all the same. Without /proc it skips the test (or
// fails it under CI=true): zombies cannot be told from live processes.
func GroupAlive(t testing.TB, pgid int) bool {
	t.Helper()
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	if len(stats) == 0 {
		Unavailable(t, "no /proc to tell zombies from live processes")
	}
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:]) // state ppid pgrp …
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" && fields[0] != "X" {
			return true
		}
	}
	return false
}

// CopyProject copies testdata/projects/<name> to a temporary directory and
// returns it, renaming each gitignore to .gitignore on the way (a real
// .gitignore there would make this repository ignore the fixture's own
// env files; see testdata/projects/README.md).
func CopyProject(t testing.TB, name string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(root, "testdata", "projects", name)
	dst := t.TempDir()
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		if d.Name() == "gitignore" {
			out = filepath.Join(filepath.Dir(out), ".gitignore")
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
