package ui

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// loginPane runs the login flow against the auth service, tails its steps
// as they run, ends with the diagnosis, and optionally follows the auth
// service's log.
type loginPane struct {
	cfg     *Config
	st      Styles
	focused bool

	candidates []probe.Candidate
	baseURL    string // from the env sources; Config.Login.BaseURL wins
	db         *database.DB
	schema     *database.Schema

	// The current (or last) run. Events of older runs are dropped by id.
	runID    generation
	running  bool
	cancel   context.CancelFunc
	events   chan check.Event
	done     chan *check.Report
	ran      chan struct{}
	launched *atomic.Bool
	target   string // "as EMAIL" or "replaying session X"
	expected int    // how many steps the run will likely have
	steps    []loginStep
	result   *login.Result // the last completed run
	notice   string

	sources []probe.Source // the env sources, for the pipeline's configuration
	verdict *check.Report  // the console's verdict, shown under the steps

	// The credentials form. The password lives in the field until the run
	// starts, then only in that run's options.
	form     bool
	email    textinput.Model
	password textinput.Model
	field    int

	spin   spinner.Model
	scroll int
	// follow keeps the newest lines (the running step, then the diagnosis)
	// in view until the user scrolls up.
	follow bool

	// Log tail (tail.go).
	tailState
	closed bool

	keys struct {
		Run, Replay, Cancel, Up, Down, Next, Submit key.Binding
	}
}

type loginStep struct {
	step, title, status string
	http                int
	dur                 time.Duration
	detail, redirect    string
}

// Pane-private messages.
type (
	loginEventMsg struct {
		run generation
		ev  login.Event
	}
	loginDoneMsg struct {
		run generation
		res *check.Report
	}
)

func newLoginPane(cfg *Config, st Styles) *loginPane {
	p := &loginPane{cfg: cfg, st: st}
	p.email = textinput.New()
	p.email.Prompt = ""
	p.email.Placeholder = "test user's email"
	p.email.CharLimit = 320
	p.email.SetWidth(40)
	p.password = textinput.New()
	p.password.Prompt = ""
	p.password.Placeholder = "password (kept in memory for this run only)"
	p.password.EchoMode = textinput.EchoPassword
	p.password.EchoCharacter = '•'
	p.password.CharLimit = 1024
	p.password.SetWidth(40)
	p.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(st.Accent))
	k := &p.keys
	k.Run = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run login"))
	k.Replay = key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "replay latest session (uses a real user's session)"))
	k.Cancel = key.NewBinding(key.WithKeys("esc", "ctrl+x"), key.WithHelp("esc/ctrl+x", "cancel run"))
	k.Up = key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up"))
	k.Down = key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down"))
	k.Next = key.NewBinding(key.WithKeys("tab", "shift+tab", "up", "down"), key.WithHelp("tab", "next field"))
	k.Submit = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next field / run"))
	return p
}

func (p *loginPane) Title() string     { return "Login flow" }
func (p *loginPane) Capturing() bool   { return p.form }
func (p *loginPane) SetFocused(f bool) { p.focused = f }

func (p *loginPane) Keys() []key.Binding {
	if p.form {
		return []key.Binding{p.keys.Submit, p.keys.Next}
	}
	run, replay, cancel := p.keys.Run, p.keys.Replay, p.keys.Cancel
	run.SetEnabled(!p.running)
	replay.SetEnabled(!p.running && p.dbReady())
	cancel.SetEnabled(p.running)
	return []key.Binding{run, replay, cancel, p.keys.Up, p.keys.Down}
}

// Findings are those of the last completed run. A cancelled run has
// none: its interrupted step reports the cancel as a network failure.
func (p *loginPane) Findings() finding.List {
	if p.result == nil || p.result.Cancelled {
		return nil
	}
	// One cause seen with the cookie and the bearer token is one finding.
	return check.Merge(p.result.Findings)
}

// Selection is the diagnosis verdict: what to paste into an issue.
func (p *loginPane) Selection() string {
	if p.result == nil || p.result.Cancelled {
		return ""
	}
	return clip(p.diagnosis().Verdict, 2000)
}

// Init starts the log tail, when one is configured.
func (p *loginPane) Init() tea.Cmd { return p.initTail() }

// Close stops the running flow and the log tail (its process with it).
// The root calls it on quit; it is safe to call more than once.
func (p *loginPane) Close() {
	p.closed = true
	if p.cancel != nil {
		p.cancel()
		p.awaitRun(7 * time.Second)
	}
	p.closeTail()
}

func (p *loginPane) dbReady() bool {
	return p.db != nil && p.schema != nil && p.schema.Session != nil
}

func (p *loginPane) siteURL() string {
	if p.cfg.Login.BaseURL != "" {
		return p.cfg.Login.BaseURL
	}
	return p.baseURL
}

func (p *loginPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case SecretsLoadedMsg:
		p.candidates, p.baseURL, p.sources = msg.Report.Candidates, msg.BaseURL, msg.Sources
	case VerdictMsg:
		p.verdict = msg.Report
	case DBReadyMsg:
		p.db, p.schema = msg.DB, msg.Schema
	case loginEventMsg:
		if !p.runID.current(msg.run) {
			return nil
		}
		if e := msg.ev; e.Step == login.StepSignIn && e.Phase == login.PhaseEnd && (e.Status == login.StatusOK || e.Status == login.StatusWarn) {
			// A session was issued: the run ends by signing it out.
			p.expected++
		}
		p.apply(msg.ev)
		return p.waitCmd()
	case loginDoneMsg:
		if !p.runID.current(msg.run) {
			return nil
		}
		if msg.res == nil {
			p.finish(nil)
			return nil
		}
		p.finish(msg.res.Login)
		res := msg.res.Login
		return func() tea.Msg { return LoginReportMsg{Result: res} }
	case spinner.TickMsg:
		// Ticks stop when no run needs them: the next run restarts them.
		if !p.running {
			return nil
		}
		var cmd tea.Cmd
		p.spin, cmd = p.spin.Update(msg)
		return cmd
	case loginTailFileMsg:
		return p.onTailFile(msg)
	case loginTailProcMsg:
		return p.onTailProc(msg)
	case tea.PasteMsg:
		if p.form {
			return p.updateField(msg)
		}
	case tea.MouseWheelMsg:
		switch msg.Mouse().Button {
		case tea.MouseWheelUp:
			p.scroll, p.follow = max(0, p.scrollBase()-3), false
		case tea.MouseWheelDown:
			p.scroll = min(p.maxScroll(), p.scroll+3)
		}
	case tea.KeyPressMsg:
		if p.form {
			return p.formKey(msg)
		}
		switch {
		case key.Matches(msg, p.keys.Cancel):
			if p.running && p.cancel != nil {
				p.cancel()
				p.notice = "cancelling…"
			}
		case key.Matches(msg, p.keys.Run):
			return p.runKey()
		case key.Matches(msg, p.keys.Replay):
			return p.replayKey()
		case key.Matches(msg, p.keys.Up):
			p.scroll, p.follow = max(0, p.scrollBase()-1), false
		case key.Matches(msg, p.keys.Down):
			p.scroll = min(p.maxScroll(), p.scroll+1)
		}
	default:
		// Cursor blinks and clipboard pastes belong to the focused field.
		if p.form {
			return p.updateField(msg)
		}
	}
	return nil
}

func (p *loginPane) runKey() tea.Cmd {
	if p.running {
		p.notice = "a run is in progress: esc cancels it"
		return nil
	}
	if p.siteURL() == "" {
		p.notice = "no auth service URL: start with --base-url or set BETTER_AUTH_URL in an env file"
		return nil
	}
	l := p.cfg.Login
	switch {
	case l.Email != "" && l.Password != "":
		return p.start(l.Email, l.Password, "")
	case l.ReplaySession != "" && p.dbReady():
		return p.start("", "", l.ReplaySession)
	}
	p.form, p.notice = true, ""
	p.email.SetValue(l.Email)
	p.password.Reset()
	if l.Email == "" {
		return p.focusField(0)
	}
	return p.focusField(1)
}

func (p *loginPane) replayKey() tea.Cmd {
	if p.running {
		return nil
	}
	if !p.dbReady() {
		p.notice = "session replay needs the database (DATABASE_URL or --database-url, and its session table)"
		return nil
	}
	if p.siteURL() == "" {
		p.notice = "no auth service URL: start with --base-url or set BETTER_AUTH_URL in an env file"
		return nil
	}
	id := p.cfg.Login.ReplaySession
	if id == "" {
		id = "latest"
	}
	return p.start("", "", id)
}

func (p *loginPane) focusField(i int) tea.Cmd {
	p.field = i
	if i == 0 {
		p.password.Blur()
		return p.email.Focus()
	}
	p.email.Blur()
	return p.password.Focus()
}

func (p *loginPane) updateField(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	if p.field == 0 {
		p.email, cmd = p.email.Update(msg)
	} else {
		p.password, cmd = p.password.Update(msg)
	}
	return cmd
}

func (p *loginPane) closeForm() {
	p.form = false
	p.email.Blur()
	p.password.Blur()
	p.password.Reset()
}

func (p *loginPane) formKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		p.closeForm()
		return nil
	case "tab", "shift+tab", "up", "down":
		return p.focusField(1 - p.field)
	case "enter":
		email, pw := strings.TrimSpace(p.email.Value()), p.password.Value()
		switch {
		case p.field == 0 && email != "":
			return p.focusField(1)
		case email == "":
			return p.focusField(0)
		case pw == "":
			return p.focusField(1)
		}
		p.closeForm()
		return p.start(email, pw, "")
	}
	return p.updateField(msg)
}

// start begins a run of the check pipeline (the same as `authtui check`,
// on the pane's open database connection) in a goroutine started by the
// returned Cmd; its login events are read one by one by waitCmd.
func (p *loginPane) start(email, password, replay string) tea.Cmd {
	cfg := probe.Resolve(p.cfg.flags(), p.sources, p.cfg.getenv)
	if !cfg.BaseURL.Set() {
		cfg.BaseURL = probe.Setting{Value: p.siteURL(), From: "the env files"}
	}
	opts := check.Options{
		Config: cfg, Email: email, Password: password, CookiePrefix: p.cfg.Login.CookiePrefix,
		ReplaySession: replay, DB: p.db, Schema: p.schema, NoDatabase: p.db == nil,
		KeepSession: p.cfg.Login.KeepSession,
	}
	if p.db == nil && cfg.DatabaseURL.Set() {
		// Configured but not connected is not "no database".
		opts.NoDatabaseWhy = "a database is configured (from " + cfg.DatabaseURL.From + ") but the console is not connected to it (see the Database pane)"
	}
	if replay == "" {
		// A stale replay setting must not turn a sign-in into a replay.
		opts.ReplaySession = ""
	}

	if p.cancel != nil {
		p.cancel()
	}
	p.runID.next()
	ctx, cancel := context.WithCancel(context.Background())
	ch, done := make(chan check.Event, 16), make(chan *check.Report, 1)
	p.running, p.cancel, p.events, p.done = true, cancel, ch, done
	p.steps, p.notice, p.scroll, p.follow = nil, "", 0, true
	if replay != "" {
		p.target = "replaying session " + clip(replay, 40) + " (a real user's session)"
		fps := map[string]bool{}
		for _, c := range p.candidates {
			fps[c.Fingerprint()] = true
		}
		p.expected = 4 + len(fps) // read, probes, identify, API, and the sign-out step that says it is skipped
	} else {
		p.target = "as " + clip(email, 60)
		p.expected = 7
		if cfg.APIURL.Set() {
			p.expected = 8
		}
	}
	wait := p.waitCmd()
	ran, launched := make(chan struct{}), new(atomic.Bool)
	p.ran, p.launched = ran, launched
	run := func() tea.Msg {
		launched.Store(true)
		go func() {
			defer close(ran)
			done <- check.Run(ctx, opts, ch)
		}()
		return wait()
	}
	return tea.Batch(run, p.spin.Tick)
}

// awaitRun waits, at most grace, for a cancelled run to end: one cancelled
// after sign-in still signs its test session out (bounded by the login
// flow), and the program exits right after Close. ran closes when the
// run's pipeline returned; launched says its goroutine was started at all
// (a Cmd that never ran has nothing to wait for).
func (p *loginPane) awaitRun(grace time.Duration) {
	if p.ran == nil || p.launched == nil || !p.launched.Load() {
		return
	}
	select {
	case <-p.ran:
	case <-time.After(grace):
	}
}

// waitCmd returns the next event of the current run as a message, or the
// result once the run has closed its channel.
func (p *loginPane) waitCmd() tea.Cmd {
	id, ch, done := p.runID, p.events, p.done
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		for {
			e, ok := <-ch
			if !ok {
				return loginDoneMsg{run: id, res: <-done}
			}
			if e.Login != nil {
				return loginEventMsg{run: id, ev: *e.Login}
			}
		}
	}
}

func (p *loginPane) apply(e login.Event) {
	s := loginStep{step: e.Step, title: clip(e.Title, 60), status: e.Status, http: e.HTTPStatus, dur: e.Duration,
		detail: clip(e.Detail, 400), redirect: clip(textsafe.URL(e.Redirect), 200)}
	if e.Phase == login.PhaseEnd {
		for i := len(p.steps) - 1; i >= 0; i-- {
			if p.steps[i].step == e.Step && p.steps[i].status == login.StatusRunning {
				p.steps[i] = s
				return
			}
		}
	}
	p.steps = append(p.steps, s)
}

// finish records a completed run. Its Events are complete even when a
// cancel made the stream drop some.
func (p *loginPane) finish(res *login.Result) {
	p.running, p.events, p.done = false, nil, nil
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	if res == nil {
		return
	}
	p.result, p.notice = res, ""
	p.steps = nil
	for _, e := range res.Events {
		p.apply(e)
	}
	// A cancel interrupts a step between its start and end events.
	for i := range p.steps {
		if p.steps[i].status == login.StatusRunning {
			p.steps[i].status, p.steps[i].detail = login.StatusSkip, "interrupted"
		}
	}
}

// ---- view ---------------------------------------------------------------------

func (p *loginPane) mark(status string) string {
	switch status {
	case login.StatusRunning:
		return p.spin.View()
	case login.StatusOK:
		return p.st.OK.Render("✓")
	case login.StatusWarn:
		return p.st.Warn.Render("!")
	case login.StatusFail:
		return p.st.Err.Render("✗")
	default:
		return p.st.Dim.Render("-")
	}
}

// mainLines is everything above the log tail.
func (p *loginPane) mainLines(w int) []string {
	var lines []string
	server := p.siteURL()
	if server == "" {
		server = "no auth service URL"
	}
	head := "server " + clip(textsafe.URL(server), 100)
	if p.target != "" {
		head += " · " + p.target
	}
	lines = append(lines, p.st.Dim.Render(head))
	if p.form {
		emailV, pwV := p.email.View(), p.password.View()
		lines = append(lines, "",
			p.st.Bold.Render("Sign in as a test user"),
			p.fieldMark(0)+"email     "+emailV,
			p.fieldMark(1)+"password  "+pwV,
			p.st.Dim.Render("  enter: next / run · tab: switch field · esc: cancel"),
			p.st.Dim.Render("  The password is never shown and is kept in memory for this run only."))
	}
	if p.notice != "" {
		lines = append(lines, p.st.Warn.Render(p.notice))
	}
	if len(p.steps) == 0 && !p.form {
		lines = append(lines, "", p.st.Bold.Render("enter")+"  sign in as the test user and follow the session through every check")
		if p.dbReady() {
			lines = append(lines, p.st.Bold.Render("p")+"      replay the latest session from the database, signed with each candidate secret")
			lines = append(lines, p.st.Dim.Render("       (no credentials needed; it uses a real user's session, read-only on our side)"))
		}
	}
	if len(p.steps) > 0 {
		lines = append(lines, "")
	}
	// The title column fits the longest title, within reason, so the
	// status codes and durations line up.
	col := 20
	for _, s := range p.steps {
		col = max(col, ansi.StringWidth(s.title))
	}
	col = min(col, 46, max(12, w/2))
	for _, s := range p.steps {
		code := "   "
		if s.http != 0 {
			code = fmt.Sprintf("%3d", s.http)
		}
		title := clip(s.title, col)
		title += strings.Repeat(" ", max(0, col-ansi.StringWidth(title)))
		row := fmt.Sprintf("%s %s %s %6s", p.mark(s.status), title, code, stepDur(s.dur))
		switch s.status {
		case login.StatusFail, login.StatusWarn:
			lines = append(lines, row)
			style := p.st.Err
			if s.status == login.StatusWarn {
				style = p.st.Warn
			}
			for _, l := range wrap(s.detail, w-4) {
				lines = append(lines, "    "+style.Render(l))
			}
		default:
			if s.detail != "" {
				row += "  " + p.st.Dim.Render(s.detail)
			}
			lines = append(lines, row)
		}
		if s.redirect != "" {
			lines = append(lines, "    "+p.st.Info.Render("redirect → "+s.redirect+" (not followed)"))
		}
	}
	if p.running {
		lines = append(lines, p.st.Dim.Render(fmt.Sprintf("running %d/%d… esc cancels", len(p.steps), max(p.expected, len(p.steps)))))
	}
	if res := p.result; res != nil && !p.running {
		lines = append(lines, "")
		if res.Cancelled {
			lines = append(lines, p.st.Warn.Render("- cancelled: the run stopped before its end"))
		} else {
			d := p.diagnosis()
			style, head := p.st.Err, "✗ "+string(d.Cause)
			switch {
			case d.Cause == "" && d.Healthy:
				style, head = p.st.OK, "✓ healthy"
			case d.Cause == "":
				head = "✗ errors"
			}
			lines = append(lines, p.st.Bold.Render("Diagnosis")+"  "+style.Render(head))
			for _, l := range wrap(clip(d.Verdict, 1500), w-2) {
				lines = append(lines, "  "+style.Render(l))
			}
		}
		if fs := p.Findings().Sorted(); len(fs) > 0 {
			lines = append(lines, "")
			for _, f := range fs {
				lines = append(lines, p.st.Severity(f.Severity)+" "+string(f.ID))
			}
		}
	}
	return lines
}

func (p *loginPane) fieldMark(i int) string {
	if p.field == i {
		return p.st.Accent.Render("▸ ")
	}
	return "  "
}

// scrollBase is where scrolling up starts from: the bottom while the
// view follows the newest lines.
func (p *loginPane) scrollBase() int {
	if p.follow || p.running {
		return p.maxScroll()
	}
	return min(p.scroll, p.maxScroll())
}

func (p *loginPane) maxScroll() int {
	return max(0, len(p.mainLines(80))-3)
}

func (p *loginPane) View(w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	main := p.mainLines(w)
	var tail []string
	if p.tailName != "" && h >= 6 {
		tail = p.tailLines(max(3, h/3))
	}
	avail := h - len(tail)
	// Follow the newest step, then the diagnosis, until the user scrolls.
	start := min(p.scroll, max(0, len(main)-avail))
	if p.running || p.follow {
		start = max(0, len(main)-avail)
	}
	end := min(len(main), start+avail)
	out := append([]string(nil), main[start:end]...)
	for len(out) < avail {
		out = append(out, "")
	}
	return block(strings.Join(append(out, tail...), "\n"), w, h)
}

func (p *loginPane) Summary(w, h int) string {
	var lines []string
	switch {
	case p.form:
		lines = []string{p.st.Accent.Render("credentials…"), p.st.Dim.Render("enter runs · esc cancels")}
	case p.running:
		cur := ""
		if n := len(p.steps); n > 0 {
			cur = p.steps[n-1].title
		}
		lines = []string{p.spin.View() + fmt.Sprintf(" running %d/%d…", len(p.steps), max(p.expected, len(p.steps))), p.st.Dim.Render(cur)}
	case p.result != nil && p.result.Cancelled:
		lines = []string{p.st.Warn.Render("- cancelled"), p.st.Dim.Render("enter: run login")}
	case p.result != nil:
		d := p.diagnosis()
		switch {
		case d.Cause != "":
			lines = append(lines, p.st.Err.Render("✗ "+string(d.Cause)))
		case d.Healthy:
			lines = append(lines, p.st.OK.Render("✓ healthy"))
		default:
			lines = append(lines, p.st.Err.Render("✗ errors"))
		}
		lines = append(lines, p.st.Dim.Render(clip(d.Verdict, 300)))
	default:
		lines = []string{"enter: run login"}
		if p.dbReady() {
			lines = append(lines, p.st.Dim.Render("p: replay a session"))
		}
		if p.notice != "" {
			lines = append(lines, p.st.Warn.Render(p.notice))
		}
	}
	if p.tailName != "" && len(p.tail) > 0 && h > len(lines) {
		last := p.tail[len(p.tail)-1]
		lines = append(lines, p.st.Dim.Render("log: "+last.text))
	}
	return block(strings.Join(lines, "\n"), w, h)
}

// diagnosis is the console's verdict once it has one (the same the header
// shows), else the run's own.
func (p *loginPane) diagnosis() login.Diagnosis {
	if p.verdict != nil && p.verdict.Login == p.result {
		return p.verdict.Diagnosis
	}
	if p.result != nil {
		return p.result.Diagnosis
	}
	return login.Diagnosis{}
}
