package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// The login pane's log tail: --tail follows a file of the auth service by
// polling it, --tail-cmd the output of a command (`vercel logs …`). Every
// line is redacted (textsafe.Redact) before it is kept, so no credential a
// log prints reaches the screen.

// Log tail limits: enough to see what the auth service said during a run,
// bounded so a chatty service cannot grow memory or slow the view.
const (
	tailMaxLines  = 500
	tailLineRunes = 1000
	tailPoll      = 250 * time.Millisecond
	tailBackfill  = 64 << 10  // what is read of an existing file at start
	tailReadMax   = 256 << 10 // per poll, so one poll never stalls on a huge append
	tailPartMax   = 4 << 10   // an unterminated line longer than this is shown as is
	// tailStopGrace is how long the command's group has to end after
	// SIGTERM before it is killed; below the 2.5 s Close waits.
	tailStopGrace = time.Second
)

// tailHot marks the log lines worth the eye while debugging sessions.
var tailHot = regexp.MustCompile(`(?i)session|cookie|secret|token|origin|get-session`)

// tailState is the login pane's log tail.
type tailState struct {
	tail       []tailLine
	tailGen    generation
	tailName   string
	tailNote   string
	tailCancel context.CancelFunc
	tailProc   *tailProc // the running --tail-cmd, for Close
	tailCh     chan tailItem
	tailFile   tailFileState
}

type tailLine struct {
	text string // redacted and cleaned
	hot  bool
}

// tailFileState is where the file tail is; it travels through the poll
// Cmd and back in its message, so the Cmd never shares the model's state.
type tailFileState struct {
	offset    int64
	info      os.FileInfo
	partial   string
	started   bool
	skipFirst bool
}

// Pane-private messages of the tail.
type (
	loginTailFileMsg struct {
		gen   generation
		lines []tailLine
		state tailFileState
		note  string
	}
	loginTailProcMsg struct {
		gen   generation
		lines []tailLine
		ended bool
		note  string
	}
)

// initTail starts the log tail, when one is configured.
func (p *loginPane) initTail() tea.Cmd {
	switch {
	case p.cfg.TailFile != "":
		p.tailGen.next()
		p.tailName = p.cfg.TailFile
		p.tailFile = tailFileState{}
		return p.tailFileCmd(0)
	case p.cfg.TailCmd != "":
		p.tailGen.next()
		p.tailName = p.cfg.TailCmd
		return p.tailProcCmd()
	}
	return nil
}

// closeTail stops the tail, and the command's whole process group with it.
func (p *loginPane) closeTail() {
	p.tailGen.next()
	if p.tailCancel != nil {
		p.tailCancel()
		p.tailCancel = nil
	}
	if p.tailProc != nil {
		// The program exits right after Close: wait for the command to
		// go, and kill its whole group if SIGTERM was not enough.
		p.tailProc.stop(2500 * time.Millisecond)
		p.tailProc = nil
	}
}

func (p *loginPane) onTailFile(msg loginTailFileMsg) tea.Cmd {
	if !p.tailGen.current(msg.gen) || p.closed {
		return nil
	}
	p.addTail(msg.lines)
	p.tailFile, p.tailNote = msg.state, msg.note
	return p.tailFileCmd(tailPoll)
}

func (p *loginPane) onTailProc(msg loginTailProcMsg) tea.Cmd {
	if !p.tailGen.current(msg.gen) {
		return nil
	}
	p.addTail(msg.lines)
	if msg.note != "" {
		p.tailNote = msg.note
	}
	if msg.ended {
		return nil
	}
	return p.tailWaitCmd(msg.gen)
}

func (p *loginPane) addTail(lines []tailLine) {
	p.tail = append(p.tail, lines...)
	if n := len(p.tail) - tailMaxLines; n > 0 {
		p.tail = append([]tailLine(nil), p.tail[n:]...)
	}
}

// newTailLine redacts a line before clipping it: a clip could cut a
// credential where Redact would no longer recognise it.
func newTailLine(s string) tailLine {
	s = strings.TrimRight(s, "\r")
	return tailLine{text: report.Clip(textsafe.Redact(s), tailLineRunes), hot: tailHot.MatchString(s)}
}

// tailLines renders the last n lines of the log tail, with its title.
func (p *loginPane) tailLines(n int) []string {
	// The command line itself may carry a credential (--token …, a URL
	// with a password).
	title := "log: " + report.Clip(textsafe.Redact(p.tailName), 60)
	if p.tailNote != "" {
		title += " · " + report.Clip(textsafe.Redact(p.tailNote), 80)
	}
	lines := []string{p.st.Dim.Render("── " + title + " ──")}
	if n <= 1 {
		return lines
	}
	start := max(0, len(p.tail)-(n-1))
	for _, l := range p.tail[start:] {
		if l.hot {
			lines = append(lines, p.st.Warn.Render("▸ "+l.text))
		} else {
			lines = append(lines, "  "+l.text)
		}
	}
	if len(p.tail) == 0 {
		lines = append(lines, p.st.Dim.Render("  (no lines yet)"))
	}
	return lines
}

// ---- file ---------------------------------------------------------------------

// tailFileCmd polls the file after delay (0: now).
func (p *loginPane) tailFileCmd(delay time.Duration) tea.Cmd {
	gen, path, st := p.tailGen, p.cfg.TailFile, p.tailFile
	poll := func() tea.Msg {
		lines, next, note := pollTailFile(path, st)
		return loginTailFileMsg{gen: gen, lines: lines, state: next, note: note}
	}
	if delay <= 0 {
		return poll
	}
	return tea.Tick(delay, func(time.Time) tea.Msg { return poll() })
}

// pollTailFile reads what was appended to path since st. The file is
// reopened on every poll, so a rotated log (a new file at the path) is
// picked up; a file that shrank was truncated and is read from the start.
func pollTailFile(path string, st tailFileState) ([]tailLine, tailFileState, string) {
	f, err := os.Open(path)
	if err != nil {
		why := "cannot open"
		if errors.Is(err, os.ErrNotExist) {
			why = "waiting for the file to appear"
		}
		// Forget the file: when it comes back, it is read from the start.
		return nil, tailFileState{started: st.started}, why
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, st, "cannot stat the file"
	}
	next, note := st, ""
	switch {
	case st.info == nil || !os.SameFile(st.info, fi):
		next.partial, next.offset, next.skipFirst = "", 0, false
		if !st.started && fi.Size() > tailBackfill {
			// Start near the end, like tail -f; the first line is cut.
			next.offset, next.skipFirst = fi.Size()-tailBackfill, true
		}
		if st.info != nil {
			note = "file replaced (rotated): reading the new one"
		}
	case fi.Size() < st.offset:
		next.partial, next.offset, next.skipFirst = "", 0, false
		note = "file truncated: reading from the start"
	}
	next.info, next.started = fi, true
	n := min(fi.Size()-next.offset, tailReadMax)
	if n <= 0 {
		return nil, next, note
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, next.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, next, "read error"
	}
	next.offset += int64(got)
	parts := strings.Split(next.partial+string(buf[:got]), "\n")
	next.partial = parts[len(parts)-1]
	parts = parts[:len(parts)-1]
	if next.skipFirst && len(parts) > 0 {
		parts, next.skipFirst = parts[1:], false
	}
	if len(next.partial) > tailPartMax {
		parts, next.partial = append(parts, next.partial), ""
	}
	if len(parts) > tailMaxLines {
		parts = parts[len(parts)-tailMaxLines:]
	}
	lines := make([]tailLine, 0, len(parts))
	for _, l := range parts {
		lines = append(lines, newTailLine(l))
	}
	return lines, next, note
}

// ---- command ------------------------------------------------------------------

// tailItem is one line of the command's output, or its end.
type tailItem struct {
	line  tailLine
	note  string
	isEnd bool
}

// tailProc is a running --tail-cmd: its process group (led by the
// supervisor, or by sh without one), its control pipe and when it ended.
type tailProc struct {
	pid  atomic.Int64
	done chan struct{}
	// ctl is the write end of the supervisor's control pipe. Holding it
	// keeps the command running: the supervisor ends the group when it
	// reads EOF. Kept here so that the garbage collector never closes it.
	ctl *os.File
}

func (t *tailProc) stop(grace time.Duration) {
	select {
	case <-t.done:
	case <-time.After(grace):
		if pid := t.pid.Load(); pid > 0 {
			syscall.Kill(-int(pid), syscall.SIGKILL)
		}
	}
}

// tailProcCmd starts the tail command in its own process group (so that
// stopping it stops a whole pipeline) and returns its first lines.
func (p *loginPane) tailProcCmd() tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	p.tailCancel = cancel
	ch := make(chan tailItem, 256)
	p.tailCh = ch
	proc := &tailProc{done: make(chan struct{})}
	p.tailProc = proc
	gen, line := p.tailGen, p.cfg.TailCmd
	wait := tailWait(gen, ch)
	return func() tea.Msg {
		if err := startTail(ctx, line, ch, proc); err != nil {
			close(proc.done)
			return loginTailProcMsg{gen: gen, ended: true, note: "cannot start: " + report.Clip(textsafe.Redact(err.Error()), 200)}
		}
		return wait()
	}
}

func (p *loginPane) tailWaitCmd(gen generation) tea.Cmd {
	if p.tailCh == nil {
		return nil
	}
	return tailWait(gen, p.tailCh)
}

// tailWait returns the next lines of the command: it blocks for one, then
// takes whatever else is already there, so a burst costs one message.
func tailWait(gen generation, ch <-chan tailItem) tea.Cmd {
	return func() tea.Msg {
		msg := loginTailProcMsg{gen: gen}
		it, ok := <-ch
		for ok {
			if it.isEnd {
				msg.ended, msg.note = true, it.note
				return msg
			}
			msg.lines = append(msg.lines, it.line)
			if len(msg.lines) >= tailMaxLines {
				return msg
			}
			select {
			case it, ok = <-ch:
			default:
				return msg
			}
		}
		msg.ended = true
		return msg
	}
}

// startTail starts line through the supervisor (or sh -c directly when
// this program has none, see TailSupervisorMain) with stdin on /dev/null,
// stdout and stderr on a pipe read line by line into ch. The command
// inherits the console's environment: authtui removes the credentials from
// it before the console starts (cmd/authtui/tui.go).
func startTail(ctx context.Context, line string, ch chan<- tailItem, proc *tailProc) error {
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cr, cw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	var cmd *exec.Cmd
	if exe := supervisorExe(); exe != "" {
		cmd = exec.CommandContext(ctx, exe, tailSupervisorArg, line)
		cmd.ExtraFiles = []*os.File{cr} // fd 3 of the supervisor
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", line)
	}
	cmd.Stdout, cmd.Stderr = pw, pw // stdin stays /dev/null: the terminal is Bubble Tea's
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// EOF on the control pipe, and SIGTERM to the group for a
		// command started without the supervisor.
		cw.Close()
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Start()
	pw.Close() // the child holds the write end now; EOF comes when it exits
	cr.Close()
	if err != nil {
		pr.Close()
		cw.Close()
		return err
	}
	proc.ctl = cw
	proc.pid.Store(int64(cmd.Process.Pid))
	go func() {
		defer close(ch)
		defer pr.Close()
		send := func(it tailItem) {
			select {
			case ch <- it:
			case <-ctx.Done():
			}
		}
		r := bufio.NewReaderSize(pr, 64<<10)
		var cur []byte
		for {
			chunk, isPrefix, err := r.ReadLine()
			if len(cur) < tailPartMax {
				cur = append(cur, chunk[:min(len(chunk), tailPartMax-len(cur))]...)
			}
			if err != nil {
				if len(cur) > 0 {
					send(tailItem{line: newTailLine(string(cur))})
				}
				break
			}
			if !isPrefix {
				send(tailItem{line: newTailLine(string(cur))})
				cur = cur[:0]
			}
		}
		note := "command exited"
		err := cmd.Wait()
		cw.Close()
		close(proc.done)
		if err != nil {
			note = "command exited: " + report.Clip(err.Error(), 100)
		}
		if ctx.Err() != nil {
			note = "stopped"
		}
		send(tailItem{isEnd: true, note: note})
	}()
	return nil
}

// ---- supervisor ---------------------------------------------------------------

// The tail command must end with the console however the console ends,
// SIGKILL included. A process group alone does not do it: nobody is left
// to signal the group. Pdeathsig does not either: it reaches only the
// direct child, and fires when the thread that forked it exits, which in
// a Go program is not the process. So the command runs under a supervisor,
// this same binary re-executed in a hidden mode (TailSupervisorMain): it
// leads the command's process group and holds the read end of a pipe whose
// only write end is in the console (close-on-exec, so no other child holds
// it). The kernel closes that end when the console dies, by any means; the
// supervisor reads EOF and ends the group: SIGTERM, then after
// tailStopGrace SIGKILL. The console asks for the same by closing the pipe.

// tailSupervisorArg is the hidden first argument of the supervisor mode.
const tailSupervisorArg = "__authtui-tail-supervisor"

// supervisorReady says TailSupervisorMain ran in this program and returned:
// re-executing the binary reaches the supervisor.
var supervisorReady atomic.Bool

// TailSupervisorMain must be called first thing (from an init function) by
// a program that opens the console. Started as the tail supervisor, it
// supervises the tail command and exits; otherwise it returns at once, and
// the console starts its tail commands through it.
func TailSupervisorMain() {
	if len(os.Args) == 3 && os.Args[1] == tailSupervisorArg {
		os.Exit(superviseTail(os.Args[2]))
	}
	supervisorReady.Store(true)
}

// supervisorExe is the binary to re-execute as the supervisor, or "" when
// this program has none. /proc/self/exe still works when the binary was
// replaced or deleted since it started.
func supervisorExe() string {
	if !supervisorReady.Load() {
		return ""
	}
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// superviseTail runs line with sh -c in this process's group (the console
// made this process its leader) and ends the group when the console is
// gone (EOF on fd 3) or asks for it (EOF, or SIGTERM/SIGINT/SIGHUP). When
// the command ends by itself, what it left in the background gets SIGTERM,
// and the supervisor exits with the command's status.
func superviseTail(line string) int {
	ctl := os.NewFile(3, "authtui-tail-control")
	if ctl == nil {
		fmt.Fprintln(os.Stderr, "authtui tail supervisor: no control pipe")
		return 2
	}
	syscall.CloseOnExec(3) // the command needs no part in it
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	cmd := exec.Command("sh", "-c", line)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "cannot start: %v\n", err)
		return 127
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	gone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, ctl) // returns at EOF: the console is gone or done
		close(gone)
	}()
	group := -syscall.Getpgrp()

	select {
	case err := <-exited:
		syscall.Kill(group, syscall.SIGTERM) // this process catches its own
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				return 128 + int(ws.Signal())
			}
			return exit.ExitCode()
		}
		return 0
	case <-gone:
	case <-sigs:
	}
	syscall.Kill(group, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(tailStopGrace):
	}
	// Whatever is left of the group, this process last.
	syscall.Kill(group, syscall.SIGKILL)
	return 1
}
