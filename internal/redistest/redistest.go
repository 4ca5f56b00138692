// Package redistest runs throwaway redis-server processes for tests: the
// real Redis that BetterAuth's secondaryStorage talks to, so that the store
// probe is tested against the server and not against a fake.
//
//	srv := redistest.Start(t)
//	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr}) // go-redis, in the test
//	batest.Start(t, batest.Options{ExtraEnv: []string{"FIXTURE_REDIS_URL=" + srv.URL}})
//
// Each server listens on 127.0.0.1 only, on a port picked here, keeps
// nothing on disk (no RDB snapshots, no append-only file; working directory in
// t.TempDir()) and is stopped when the test ends. Stop stops it earlier, for
// tests of a store that goes away. Without redis-server (`make deps`
// installs it) tests calling Start are skipped, or fail when CI=true.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/testenv"
)

// MissingMessage is how tests are skipped (or failed, with CI=true)
// without redis-server.
const MissingMessage = "redis-server not found: install Redis (make deps) to run the secondary-storage tests"

const (
	startupTimeout = 10 * time.Second
	stopGrace      = 3 * time.Second
	startAttempts  = 3 // a new port each time, when the picked one was taken meanwhile
	logTailBytes   = 4000
)

// Server is a running redis-server.
type Server struct {
	// URL is redis://127.0.0.1:PORT: what FIXTURE_REDIS_URL and the store
	// probe take.
	URL string
	// Addr is 127.0.0.1:PORT, for go-redis Options.Addr.
	Addr string
	// Port is the port in URL.
	Port int

	cmd      *exec.Cmd
	exited   chan struct{}
	logs     *lockedBuffer
	stopOnce sync.Once
}

// Start starts a server and stops it when the test ends. It ends the test
// when the server does not answer PING within 10 s, with the tail of its log.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testenv.Unavailable(t, MissingMessage)
	}
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		port, err := testenv.FreePort()
		if err != nil {
			t.Fatalf("redistest: picking a port: %v", err)
		}
		s, retry, err := start(bin, dir, port)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
		if !retry {
			break
		}
	}
	t.Fatalf("redistest: %v", lastErr)
	return nil
}

// start runs one redis-server on port; retry is true when the port turned
// out taken.
func start(bin, dir string, port int) (*Server, bool, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s := &Server{
		URL:    "redis://" + addr,
		Addr:   addr,
		Port:   port,
		exited: make(chan struct{}),
		logs:   &lockedBuffer{},
	}
	// Nothing on disk and nothing beyond loopback: a test store holds
	// fixture sessions only, and must not outlive the test.
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--logfile", "",
	)
	cmd.Dir = dir
	cmd.Env = testenv.MinimalEnv()
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	// Own process group, and killed by the kernel if the test binary dies
	// (Pdeathsig belongs to the forking thread: hence the locked thread
	// that lives as long as the server).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	s.cmd = cmd

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
		return nil, false, fmt.Errorf("starting redis-server: %v", err)
	}

	deadline := time.Now().Add(startupTimeout)
	for {
		if ping(addr) == nil {
			return s, false, nil
		}
		select {
		case <-s.exited:
			out := s.logs.String()
			taken := strings.Contains(out, "Address already in use")
			return nil, taken, fmt.Errorf("redis-server exited during startup (%v):\n%s", cmd.ProcessState, tail(out))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, false, fmt.Errorf("redis-server did not answer PING on %s within %s:\n%s", addr, startupTimeout, tail(s.logs.String()))
		}
	}
}

// ping sends one inline PING and wants +PONG back: the server is ready for
// commands, not only listening.
func ping(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return errors.New("unexpected answer to PING: " + strings.TrimSpace(line))
	}
	return nil
}

// Stop stops the server (SIGTERM, SIGKILL after 3 s) and waits for it: from
// then on nothing listens on its port. Safe to call more than once; Start
// arranges a call when the test ends.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
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

// Pid is the server's process id (its process group's too).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Logs returns what the server printed so far.
func (s *Server) Logs() string { return s.logs.String() }

func (s *Server) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

func tail(out string) string {
	if len(out) > logTailBytes {
		return "…" + out[len(out)-logTailBytes:]
	}
	return out
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
