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

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/browser"
	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// loginPane runs the login flow against the auth service, tails its steps
// as they run, ends with the diagnosis, and optionally follows the auth
// service's log.
type loginKeys struct {
	Run, Browser, Replay, Cancel, Up, Down, Next, Submit, Leave key.Binding
}

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
	target   string        // "as EMAIL" or "replaying session X"
	expected int           // how many steps the run will likely have
	steps    []login.Event // one per step: its end, or its start while it runs
	result   *login.Result // the last completed run
	report   *check.Report // the pipeline's report of that run
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
	// viewW, viewAvail: the width and step rows of the last View.
	viewW, viewAvail int

	// The browser (b): found on the machine (Init looks), whether the
	// current run or form includes it, its passes so far, and the last
	// completed run's result.
	chrome      string
	chromeErr   string
	withBrowser bool
	passes      []browser.Pass
	browserRes  *browser.Result

	// Log tail (tail.go).
	tailState
	closed bool

	keys loginKeys
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
	loginBrowserMsg struct {
		run generation
		ev  browser.Event
	}
	chromeFoundMsg struct{ path, err string }
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
	k.Browser = key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "run login, then sign in from the front end's origin in Chrome"))
	k.Replay = key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "replay latest session (uses a real user's session)"))
	k.Cancel = key.NewBinding(key.WithKeys("esc", "ctrl+x"), key.WithHelp("esc/ctrl+x", "cancel run"))
	k.Up = key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up"))
	k.Down = key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down"))
	k.Next = key.NewBinding(key.WithKeys("tab", "shift+tab", "up", "down"), key.WithHelp("tab", "next field"))
	k.Submit = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next field / run"))
	k.Leave = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close the form"))
	return p
}

func (p *loginPane) Title() string     { return "Login flow" }
func (p *loginPane) Capturing() bool   { return p.form }
func (p *loginPane) SetFocused(f bool) { p.focused = f }

func (p *loginPane) Keys() []key.Binding {
	if p.form {
		return []key.Binding{p.keys.Submit, p.keys.Next, p.keys.Leave}
	}
	k := p.bindings()
	return []key.Binding{k.Run, k.Browser, k.Replay, k.Cancel, k.Up, k.Down}
}

// bindings are the pane's keys, each enabled only where it would do
// something now; Keys (the help) and Update (the handler) both use them.
func (p *loginPane) bindings() loginKeys {
	k := p.keys
	k.Run.SetEnabled(!p.running)
	k.Browser.SetEnabled(!p.running && p.chrome != "")
	k.Replay.SetEnabled(!p.running && p.dbReady())
	k.Cancel.SetEnabled(p.running && p.cancel != nil)
	// While a run is on, the view follows it: scrolling waits.
	k.Up.SetEnabled(!p.running && p.scrollBase() > 0)
	k.Down.SetEnabled(!p.running && !p.follow && p.scroll < p.maxScroll())
	return k
}

// Findings are those of the last completed run. A cancelled run has
// none: its interrupted step reports the cancel as a network failure.
func (p *loginPane) Findings() finding.List {
	if p.result == nil || p.result.Cancelled {
		return nil
	}
	// One cause seen with the cookie and the bearer token is one finding;
	// Chrome's (b) join them.
	fs := append(finding.List{}, p.result.Findings...)
	if p.browserRes != nil {
		fs = append(fs, p.browserRes.Findings...)
	}
	return check.Merge(fs)
}

// Selection is the diagnosis verdict: what to paste into an issue.
func (p *loginPane) Selection() string {
	if p.result == nil || p.result.Cancelled {
		return ""
	}
	v, _ := p.verdictOf()
	return report.Clip(v.Message, 2000)
}

// Init starts the log tail, when one is configured.
func (p *loginPane) Init() tea.Cmd {
	chrome := p.cfg.Browser.Chrome
	find := func() tea.Msg {
		path, err := browser.Find(chrome)
		if err != nil {
			return chromeFoundMsg{err: err.Error()}
		}
		return chromeFoundMsg{path: path}
	}
	return tea.Batch(p.initTail(), find)
}

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
	case chromeFoundMsg:
		p.chrome, p.chromeErr = msg.path, msg.err
	case loginBrowserMsg:
		if !p.runID.current(msg.run) {
			return nil
		}
		if msg.ev.Pass != nil {
			p.passes = append(p.passes, *msg.ev.Pass)
		}
		return p.waitCmd()
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
		p.report, p.browserRes = msg.res, msg.res.Browser
		res, br := msg.res.Login, msg.res.Browser
		return func() tea.Msg { return LoginReportMsg{Result: res, Browser: br} }
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
		k := p.bindings()
		switch {
		case key.Matches(msg, k.Cancel):
			if p.running && p.cancel != nil {
				p.cancel()
				p.notice = "cancelling…"
			}
		case key.Matches(msg, k.Run):
			p.withBrowser = false
			return p.runKey()
		case key.Matches(msg, k.Browser):
			p.withBrowser = true
			return p.runKey()
		case key.Matches(msg, k.Replay):
			return p.replayKey()
		case key.Matches(msg, k.Up):
			p.scroll, p.follow = max(0, p.scrollBase()-1), false
		case key.Matches(msg, k.Down):
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
	case l.Social.Provider != "":
		return p.start("", "", "") // through the provider: no credentials of ours
	case l.Email != "" && l.Password != "":
		return p.start(l.Email, l.Password, "")
	case l.ReplaySession != "" && p.dbReady() && !p.withBrowser:
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
	p.withBrowser = false // a real user's session is not typed into a page
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
	switch {
	case key.Matches(msg, p.keys.Leave):
		p.closeForm()
		return nil
	case key.Matches(msg, p.keys.Next):
		return p.focusField(1 - p.field)
	case key.Matches(msg, p.keys.Submit):
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
		Config: cfg, Email: email, Password: password, CookiePrefix: p.cfg.Login.CookiePrefix, BasePath: p.cfg.Login.BasePath,
		ReplaySession: replay, DB: p.db, Schema: p.schema, NoDatabase: p.db == nil,
		KeepSession: p.cfg.Login.KeepSession, MoreAPIs: p.cfg.Login.MoreAPIs, JWTAudiences: p.cfg.Login.JWTAudiences,
	}
	if p.db == nil && cfg.DatabaseURL.Set() {
		// Configured but not connected is not "no database".
		opts.NoDatabaseWhy = "a database is configured (from " + cfg.DatabaseURL.From + ") but the console is not connected to it (see the Database pane)"
	}
	if replay == "" {
		// A stale replay setting must not turn a sign-in into a replay.
		opts.ReplaySession = ""
	}
	social := replay == "" && email == "" && p.cfg.Login.Social.Provider != ""
	if social {
		opts.Social = p.cfg.Login.Social
	}
	if p.withBrowser && replay == "" {
		b := p.cfg.Browser
		b.Chrome = p.chrome
		opts.Browser = &b
	}

	if p.cancel != nil {
		p.cancel()
	}
	p.runID.next()
	ctx, cancel := context.WithCancel(context.Background())
	ch, done := make(chan check.Event, 16), make(chan *check.Report, 1)
	p.running, p.cancel, p.events, p.done = true, cancel, ch, done
	p.steps, p.notice, p.scroll, p.follow = nil, "", 0, true
	p.passes, p.browserRes = nil, nil
	if replay != "" {
		p.target = "replaying session " + report.Clip(replay, 40) + " (a real user's session)"
		fps := map[string]bool{}
		for _, c := range p.candidates {
			fps[c.Fingerprint()] = true
		}
		p.expected = 4 + len(fps) // read, probes, identify, API, and the sign-out step that says it is skipped
	} else if social {
		s := p.cfg.Login.Social
		p.target = "through " + report.Clip(textsafe.Clean(s.Provider), 40)
		p.expected = 4 // start, redirect_uri, state, and the stop before the provider
		if s.Auto {
			p.expected = 11 // the provider's hop, the callback, then the session's steps
		}
	} else {
		p.target = "as " + report.Clip(email, 60)
		p.expected = 7
		if cfg.APIURL.Set() {
			p.expected = 8
		}
		if opts.Browser != nil {
			p.target += " · then in Chrome from " + report.Clip(textsafe.URL(cfg.Origin.Value), 60)
			p.expected += 2 // the browser's two passes
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
			if e.Browser != nil {
				return loginBrowserMsg{run: id, ev: *e.Browser}
			}
		}
	}
}

// apply takes in one event of the running flow: a step's end replaces
// its start. The report builders sanitise what the events carry when the
// view lays them out.
func (p *loginPane) apply(e login.Event) {
	p.steps = report.FoldSteps(append(p.steps, e), false)
}

// finish records a completed run. Its Events are complete even when a
// cancel made the stream drop some; a step the cancel interrupted reads as
// skipped.
func (p *loginPane) finish(res *login.Result) {
	p.running, p.events, p.done = false, nil, nil
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	if res == nil {
		return
	}
	p.result, p.report, p.notice = res, nil, ""
	p.steps = report.FoldSteps(res.Events, true)
}

// ---- view ---------------------------------------------------------------------

// stepLines are the steps as report.StepsLines words them (what `authtui
// login` prints), with the spinner as the mark of the running step.
func (p *loginPane) stepLines() []report.Line {
	lines := report.StepsLines(p.steps)
	running, _ := report.StepMark(login.StatusRunning)
	for i, l := range lines {
		if l.Indent == 0 && len(l.Spans) > 0 && l.Spans[0].Text == running {
			lines[i].Spans = append([]report.Span{report.P(p.spin.View())}, l.Spans[1:]...)
		}
	}
	return lines
}

// verdictOf is the verdict of the last completed run: the console's once
// it has decided on that run (the same the header shows), else the run's
// own pipeline report, else the flow's own summary (a result handed in
// without a report).
func (p *loginPane) verdictOf() (check.Verdict, bool) {
	switch {
	case p.result == nil:
		return check.Verdict{}, false
	case p.verdict != nil && p.verdict.Login == p.result:
		return p.verdict.Verdict, p.verdict.Healthy
	case p.report != nil && p.report.Login == p.result:
		return p.report.Verdict, p.report.Healthy
	}
	d := p.result.Diagnosis
	v := check.Verdict{ID: d.Cause, Message: d.Verdict, Healthy: d.Healthy}
	for _, e := range d.Evidence {
		step, seen, ok := strings.Cut(e, ": ")
		if !ok {
			step, seen = "", e
		}
		v.Evidence = append(v.Evidence, finding.Evidence{Step: step, Seen: seen})
	}
	return v, d.Healthy
}

// mainLines is everything above the log tail.
func (p *loginPane) mainLines(w int) []string {
	var lines []string
	server := p.siteURL()
	if server == "" {
		server = "no auth service URL"
	}
	head := "server " + report.Clip(textsafe.URL(server), 100)
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
		if s := p.cfg.Login.Social; s.Provider != "" {
			lines = append(lines, "", p.st.Bold.Render("enter")+"  sign in through "+report.Clip(textsafe.Clean(s.Provider), 40)+": the authorization URL, redirect_uri, the state cookie and its record"+map[bool]string{true: ", the provider and the callback, then every check", false: " (--provider-auto follows the provider too)"}[s.Auto])
		} else {
			lines = append(lines, "", p.st.Bold.Render("enter")+"  sign in as the test user and follow the session through every check")
		}
		if p.chrome != "" {
			lines = append(lines, p.st.Bold.Render("b")+"      the same, then sign in from the front end's origin in Chrome: what Chrome stores, sends, refuses and why")
		} else if p.chromeErr != "" {
			lines = append(lines, p.st.Dim.Render("b      (no Chrome or Chromium found: install chromium, or start with --chrome PATH)"))
		}
		if p.dbReady() {
			lines = append(lines, p.st.Bold.Render("p")+"      replay the latest session from the database, signed with each candidate secret")
			lines = append(lines, p.st.Dim.Render("       (no credentials needed; it uses a real user's session, read-only on our side)"))
		}
	}
	switch {
	case p.result != nil && !p.running:
		// A finished run is the block `authtui check` prints for it.
		lines = append(lines, "")
		lines = append(lines, p.st.layout([]report.Block{report.Login(p.result)}, w)...)
	case len(p.steps) > 0:
		lines = append(lines, "")
		lines = append(lines, p.st.layout([]report.Block{{Title: "Login flow", Lines: p.stepLines()}}, w)...)
	}
	switch {
	case p.browserRes != nil && !p.running:
		lines = append(lines, "")
		lines = append(lines, p.st.layout([]report.Block{report.Browser(p.browserRes)}, w)...)
	case p.running && len(p.passes) > 0:
		var ls []report.Line
		for _, ps := range p.passes {
			ls = append(ls, report.BrowserPass(ps)...)
		}
		lines = append(lines, "")
		lines = append(lines, p.st.layout([]report.Block{{Title: "Browser", Lines: ls}}, w)...)
	}
	if p.running {
		done := len(p.steps) + len(p.passes)
		lines = append(lines, p.st.Dim.Render(fmt.Sprintf("running %d/%d… esc cancels", done, max(p.expected, done))))
	}
	if res := p.result; res != nil && !p.running {
		if !res.Cancelled {
			lines = append(lines, "")
			// The headline leads, the reasoning and the evidence below
			// it: the same block `authtui check` ends with.
			v, healthy := p.verdictOf()
			lines = append(lines, p.st.layout([]report.Block{report.Verdict(v, healthy)}, w)...)
		}
		if fs := p.Findings().Sorted(); len(fs) > 0 {
			var ls []report.Line
			for _, f := range fs {
				mark, tone := report.SeverityMark(f.Severity)
				ls = append(ls, report.Line{Label: mark, LabelTone: tone, Spans: []report.Span{report.P(textsafe.Clean(string(f.ID)))}})
			}
			lines = append(lines, "")
			lines = append(lines, p.st.layout([]report.Block{{Lines: ls}}, w)...)
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

// maxScroll is how far the steps can scroll in the box the pane was
// last drawn in (View records it): scroll keys are enabled only when
// there is something out of sight.
func (p *loginPane) maxScroll() int {
	w, avail := p.viewW, p.viewAvail
	if w <= 0 {
		w, avail = 80, 3
	}
	return max(0, len(p.mainLines(w))-avail)
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
	p.viewW, p.viewAvail = w, avail
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
			cur = report.Clip(p.steps[n-1].Title, 60)
		}
		lines = []string{p.spin.View() + fmt.Sprintf(" running %d/%d…", len(p.steps), max(p.expected, len(p.steps))), p.st.Dim.Render(cur)}
	case p.result != nil && p.result.Cancelled:
		lines = []string{p.st.Warn.Render("- cancelled"), p.st.Dim.Render(report.StepCounts(p.steps))}
		lines = append(lines, p.idleLines()...)
	case p.result != nil:
		lines = p.verdictSummary(w, h-p.tailRoom())
	default:
		lines = p.idleLines()
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

// tailRoom is the line the summary keeps for the log tail's last line.
func (p *loginPane) tailRoom() int {
	if p.tailName != "" && len(p.tail) > 0 {
		return 1
	}
	return 0
}

// verdictSummary is the last run's verdict in h lines of w cells: the
// verdict's ID and the step counts, its headline, then as many lines of
// its evidence as fit.
func (p *loginPane) verdictSummary(w, h int) []string {
	h = max(h, 1)
	v, healthy := p.verdictOf()
	head := report.VerdictHead(v, healthy)
	first := report.Line{Spans: []report.Span{head.Spans[0], report.S("  "+report.StepCounts(p.steps), report.Dim)}}
	ls := []report.Line{first}
	if headline, _ := report.Headline(textsafe.Clean(v.Message)); headline != "" {
		ls = append(ls, report.Prose(report.Clip(headline, 300), report.Plain))
	}
	out := p.st.layout([]report.Block{{Lines: ls}}, w)
	if len(out) >= h {
		return out[:h]
	}
	var ev []report.Line
	for _, e := range v.Evidence {
		step := e.Step
		if step == "" {
			step = "seen"
		}
		ev = append(ev, report.Line{Label: report.Clip(step, 24), LabelTone: report.Dim, Spans: []report.Span{report.S(report.Safe(e.Seen, 200), report.Dim)}})
	}
	if len(ev) > 0 {
		out = append(out, p.st.layout([]report.Block{{Lines: ev}}, w)...)
	}
	return out[:min(len(out), h)]
}

// idleLines say what enter (and p) will do before any run.
func (p *loginPane) idleLines() []string {
	l := p.cfg.Login
	var first, second string
	switch {
	case p.siteURL() == "":
		first, second = "enter: needs the auth service's URL", "--base-url or BETTER_AUTH_URL in an env file"
	case l.Social.Provider != "" && l.Social.Auto:
		first, second = "enter: sign in through "+report.Clip(textsafe.Clean(l.Social.Provider), 40), "following the provider's redirects, then every check"
	case l.Social.Provider != "":
		first, second = "enter: start a sign-in through "+report.Clip(textsafe.Clean(l.Social.Provider), 40), "the first leg: redirect_uri and state cookie"
	case l.Email != "" && l.Password != "":
		first, second = "enter: sign in as "+report.Clip(l.Email, 60), "and follow the session through every check"
	case l.ReplaySession != "" && p.dbReady():
		first, second = "enter: replay session "+report.Clip(l.ReplaySession, 40), "a real user's session, signed with each secret"
	case l.Email != "":
		first, second = "enter: sign in as "+report.Clip(l.Email, 60), "asks for the password"
	default:
		first, second = "enter: sign in as a test user", "asks for the email and password"
	}
	lines := []string{first, p.st.Dim.Render(second)}
	if p.dbReady() {
		lines = append(lines, p.st.Dim.Render("p: replay a session"))
	}
	return lines
}
