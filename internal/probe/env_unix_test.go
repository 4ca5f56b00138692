//go:build unix

package probe

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
)

// A FIFO given as an env file (or found as .env) is refused at once:
// opening it for reading would wait for a writer forever.
func TestEnvFileFIFONeverBlocks(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, ".env")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan finding.List, 2)
	go func() {
		_, fs := LoadSources(SourceOptions{EnvFiles: []string{fifo}})
		done <- fs
		_, fs = LoadSources(SourceOptions{Dir: dir}) // found by discovery
		done <- fs
	}()
	for range 2 {
		select {
		case fs := <-done:
			if !fs.Has(finding.EnvFileUnreadable) || !strings.Contains(fs[0].Message, "named pipe (FIFO)") {
				t.Errorf("FIFO: %v", fs)
			}
		case <-time.After(time.Minute): // a hang guard, not a speed goal
			t.Fatal("reading a FIFO as an env file blocks")
		}
	}
	if err := CheckEnvFile(fifo, ""); err == nil || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("CheckEnvFile: %v", err)
	}
}
