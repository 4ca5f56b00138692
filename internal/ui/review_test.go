package ui

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// fit is exact even when truncation would split a double-width rune.
func TestFitDoubleWidth(t *testing.T) {
	for w := 1; w <= 12; w++ {
		if got := ansi.StringWidth(fit("ab日本語のテキスト", w)); got != w {
			t.Errorf("fit to %d gave %d cells", w, got)
		}
	}
}

// Closing the console stops the --tail-cmd process group, even when the
// program exits right after.
func TestTailCommandStoppedOnClose(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	cfg := &Config{TailCmd: "echo $$ > " + pidFile + "; exec sleep 1000"}
	cfg.defaults()
	p := newLoginPane(cfg, newStyles())
	cmd := p.initTail()
	go cmd() // starts the command and waits for its first line
	var pid int
	deadline := time.Now().Add(5 * time.Second)
	for pid == 0 && time.Now().Before(deadline) {
		if b, err := os.ReadFile(pidFile); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pid == 0 {
		t.Fatal("the tail command never started")
	}
	p.Close()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("tail command %d still running after Close", pid)
	}
}

// A reload overtaken by a newer one is dropped.
func TestSecretsStaleLoadDropped(t *testing.T) {
	auth := envFile(t, "auth.env", "BETTER_AUTH_SECRET="+secretA+"\n")
	cfg := &Config{EnvFiles: []string{auth}}
	cfg.defaults()
	p := newSecretsPane(cfg, newStyles())
	old := p.loadCmd()().(secretsLoadMsg)
	if err := os.WriteFile(auth, []byte("BETTER_AUTH_SECRET="+secretC+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := p.loadCmd()().(secretsLoadMsg)
	p.Update(fresh)
	p.Update(old)
	if got := p.report.Sources[0].Fingerprint; got != fresh.Report.Sources[0].Fingerprint {
		t.Errorf("the older load overwrote the newer one")
	}
}
