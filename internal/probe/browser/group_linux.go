package browser

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// processGroup is the browser's process group: Chrome starts as the
// leader of a new group, so that it and every child it forks (zygote,
// renderers, the network service) are killed together, whatever ended
// the pass: its end, Ctrl-C or a timeout. Pdeathsig (chromedp's own
// default, which ModifyCmdFunc replaces) still has the kernel kill Chrome
// if authtui itself dies.
type processGroup struct {
	mu  sync.Mutex
	cmd *exec.Cmd
}

func (g *processGroup) setup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	g.mu.Lock()
	g.cmd = cmd
	g.mu.Unlock()
}

// pgid is the group's id, 0 when Chrome never started.
func (g *processGroup) pgid() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil || g.cmd.Process == nil {
		return 0
	}
	return g.cmd.Process.Pid // the leader's pid is the group's id
}

// kill ends the group, then any process still using the profile: a
// child that left the group (Chrome's zygote may) still names the
// profile on its command line.
func (g *processGroup) kill(profile string) {
	if id := g.pgid(); id > 0 {
		syscall.Kill(-id, syscall.SIGKILL)
	}
	// A child may fork as the leader dies: look until quiet.
	deadline := time.Now().Add(2 * time.Second)
	for quiet := 0; quiet < 2 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if killUsing(profile) == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// killUsing kills the processes whose command line carries
// --user-data-dir=profile and says how many it found.
func killUsing(profile string) int {
	want := []byte("--user-data-dir=" + profile)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		line, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(line, []byte{0}) {
			if bytes.Equal(arg, want) {
				syscall.Kill(pid, syscall.SIGKILL)
				n++
				break
			}
		}
	}
	return n
}

// running says how many processes have a --user-data-dir under dir
// (for tests: Chrome left behind).
func running(dir string) int {
	want := []byte("--user-data-dir=" + dir)
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		line, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if bytes.Contains(line, want) {
			n++
		}
	}
	return n
}
