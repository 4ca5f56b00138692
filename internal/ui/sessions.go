package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

const (
	// sessionsPageSize fills a tall terminal; the query is keyset-paged
	// and LIMITed, so this bounds the work on a large table.
	sessionsPageSize = 200
	// A page slower than this makes the refresh back off: the pane must
	// not become the load on a struggling database.
	sessionsSlow     = 100 * time.Millisecond
	sessionsMaxEvery = 60 * time.Second
	sessionsNewFor   = 5 * time.Second
	sessionsWheel    = 3
	// sessionsGrace lets a live server's statement_timeout answer before
	// the load's own deadline: a query the server cancels is slow, one
	// that gets no answer at all is a database that is not there.
	sessionsGrace = 2 * time.Second
)

// sessionsPane is a live, newest-first table of the session table, with
// a filter, a detail view and (with --allow-writes) revoke.
type sessionsPane struct {
	cfg     *Config
	st      Styles
	focused bool

	// now and tick are the clock and the timer; tests replace them to
	// fire timers on demand instead of sleeping.
	now  func() time.Time
	tick func(d time.Duration, msg tea.Msg) tea.Cmd

	db     *database.DB
	schema *database.Schema
	hadDB  bool
	// gen changes with every DBReadyMsg, seq with every load: a result or
	// timer from an older connection or an overtaken load is dropped, so
	// exactly one refresh timer is ever armed.
	gen, seq generation

	loaded    bool
	loading   bool
	rows      []database.Session
	more      bool // the page was full: older sessions exist
	newUntil  map[string]time.Time
	indexHint string
	every     time.Duration
	elapsed   time.Duration
	loadedAt  time.Time
	loadErr   string
	failedAt  time.Time // of the load that set loadErr
	// slow says the refresh backs off because the last page was slow;
	// after failed loads it backs off too, and that is not slowness.
	slow     bool
	findings finding.List

	shown   []int // indexes into rows that pass the filter
	cursor  int   // into shown
	offset  int   // first shown row on screen
	visible int   // table rows in the last View, for paging and the wheel

	filter    textinput.Model
	filtering bool
	detailID  string
	confirm   *database.Session

	keys sessionsKeys
}

type sessionsKeys struct {
	Up, Down, PgUp, PgDown, Top, Bottom, Filter, Open, Close, Revoke, Reload key.Binding
	Apply, Yes, No                                                           key.Binding
}

// Pane-private messages.
type (
	sessionsLoadedMsg struct {
		gen, seq generation
		page     *database.SessionsPage
		err      error
	}
	sessionsTickMsg    struct{ gen, seq generation }
	sessionsRevokedMsg struct {
		gen       generation
		id, email string
		err       error
	}
)

func newSessionsPane(cfg *Config, st Styles) *sessionsPane {
	p := &sessionsPane{cfg: cfg, st: st, now: time.Now, newUntil: map[string]time.Time{}, visible: 10}
	p.tick = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return tea.Tick(d, func(time.Time) tea.Msg { return msg })
	}
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	p.keys = sessionsKeys{
		Up:     b([]string{"k", "up"}, "↑/k", "up"),
		Down:   b([]string{"j", "down"}, "↓/j", "down"),
		PgUp:   b([]string{"pgup"}, "pgup", "page up"),
		PgDown: b([]string{"pgdown"}, "pgdn", "page down"),
		Top:    b([]string{"g", "home"}, "g", "newest"),
		Bottom: b([]string{"G", "end"}, "G", "oldest"),
		Filter: b([]string{"/"}, "/", "filter the loaded rows"),
		Open:   b([]string{"enter"}, "enter", "details"),
		Close:  b([]string{"esc"}, "esc", "close / clear filter"),
		Revoke: b([]string{"x"}, "x", "revoke session"),
		Reload: b([]string{"r"}, "r", "reload now"),
		Apply:  b([]string{"enter"}, "enter", "apply filter"),
		Yes:    b([]string{"y"}, "y", "revoke"),
		No:     b([]string{"n", "esc"}, "n", "cancel"),
	}
	// Read-only: the binding is off, so neither the hint bar nor the help
	// offers it and x does nothing.
	p.keys.Revoke.SetEnabled(cfg.AllowWrites)

	p.filter = textinput.New()
	p.filter.Prompt = "/ "
	p.filter.Placeholder = "email, user agent, IP or user id, in the loaded rows"
	p.filter.CharLimit = 200
	s := textinput.DefaultStyles(true)
	s.Cursor.Blink = false // a blinking cursor would re-render the whole console twice a second
	p.filter.SetStyles(s)
	return p
}

func (p *sessionsPane) Title() string     { return "Sessions" }
func (p *sessionsPane) Init() tea.Cmd     { return nil }
func (p *sessionsPane) SetFocused(f bool) { p.focused = f }

// Capturing covers the confirmation too: otherwise the root would take
// its y for "copy".
func (p *sessionsPane) Capturing() bool { return p.filtering || p.confirm != nil }

func (p *sessionsPane) Findings() finding.List { return p.findings }

func (p *sessionsPane) Keys() []key.Binding {
	k := p.keys
	switch {
	case p.filtering:
		return []key.Binding{k.Apply}
	case p.confirm != nil:
		return []key.Binding{k.Yes, k.No}
	case p.detailID != "":
		return []key.Binding{k.Close, k.Up, k.Down, k.Revoke}
	}
	// The hint bar is cut at the terminal's width: actions before motions.
	return []key.Binding{k.Filter, k.Open, k.Revoke, k.Reload, k.Close, k.Up, k.Down, k.Top, k.Bottom, k.PgUp, k.PgDown}
}

func (p *sessionsPane) selected() *database.Session {
	if p.cursor >= 0 && p.cursor < len(p.shown) {
		return &p.rows[p.shown[p.cursor]]
	}
	return nil
}

// Selection is the selected session's id, to paste into a query or a
// revoke command elsewhere.
func (p *sessionsPane) Selection() string {
	if s := p.selected(); s != nil {
		return s.ID
	}
	return ""
}

func (p *sessionsPane) canLoad() bool {
	return p.db != nil && p.schema != nil && p.schema.Session != nil
}

func (p *sessionsPane) load() tea.Cmd {
	if !p.canLoad() {
		return nil
	}
	p.seq.next()
	p.loading = true
	gen, seq, db, schema, timeout := p.gen, p.seq, p.db, p.schema, p.cfg.Timeout
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout+sessionsGrace)
		defer cancel()
		page, err := db.Sessions(ctx, schema, database.SessionQuery{Limit: sessionsPageSize})
		return sessionsLoadedMsg{gen: gen, seq: seq, page: page, err: err}
	}
}

func (p *sessionsPane) revoke(s database.Session) tea.Cmd {
	gen, db, schema, timeout := p.gen, p.db, p.schema, p.cfg.Timeout
	if db == nil {
		return func() tea.Msg { return StatusMsg{Text: "not revoked: the database is not connected", Error: true} }
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		err := db.RevokeSession(ctx, schema, s.ID)
		return sessionsRevokedMsg{gen: gen, id: s.ID, email: s.Email, err: err}
	}
}

func (p *sessionsPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case DBReadyMsg:
		p.gen.next()
		p.db, p.schema, p.confirm, p.loading = msg.DB, msg.Schema, nil, false
		if msg.DB == nil {
			return nil // keep the last rows on screen, marked stale
		}
		p.hadDB = true
		p.every, p.loadErr, p.findings, p.slow = p.cfg.SessionsEvery, "", nil, false
		if !p.canLoad() {
			// Rows of another schema would pass for this one's.
			p.rows, p.shown, p.loaded, p.detailID = nil, nil, false, ""
		}
		return p.load()

	case sessionsLoadedMsg:
		if !p.gen.current(msg.gen) || !p.seq.current(msg.seq) {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.loadErr = textsafe.Clean(msg.err.Error())
			p.failedAt = p.now()
			p.findings = nil
			// Only the server cancelling the query says it is slow; no
			// answer at all (a timeout of our own, a refused or dropped
			// connection) is an outage, however long it took.
			id := finding.DBUnreachable
			if strings.Contains(p.loadErr, "statement_timeout") {
				id = finding.DBSlow
			}
			p.findings.Add(id, "sessions", "reading the newest sessions failed: %s", p.loadErr)
			// A failing database is not retried at full speed either.
			p.every = min(p.every*2, sessionsMaxEvery)
		} else {
			p.adopt(msg.page)
		}
		return p.tick(p.every, sessionsTickMsg{gen: p.gen, seq: p.seq})

	case sessionsTickMsg:
		if !p.gen.current(msg.gen) || !p.seq.current(msg.seq) {
			return nil
		}
		return p.load()

	case sessionsRevokedMsg:
		if msg.err != nil {
			st := StatusMsg{Text: "revoke failed: " + textsafe.Clean(msg.err.Error()), Error: true}
			return func() tea.Msg { return st }
		}
		text := "revoked session " + textsafe.Truncate(msg.id, 32) + " of " + textsafe.Truncate(msg.email, 40)
		cmds := []tea.Cmd{func() tea.Msg { return StatusMsg{Text: text} }}
		if p.gen.current(msg.gen) {
			cmds = append(cmds, p.load())
		}
		return tea.Batch(cmds...)

	case tea.KeyPressMsg:
		return p.key(msg)

	case tea.PasteMsg:
		if p.filtering {
			var cmd tea.Cmd
			p.filter, cmd = p.filter.Update(msg)
			p.refilter()
			return cmd
		}

	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			p.scroll(-sessionsWheel)
		case tea.MouseWheelDown:
			p.scroll(sessionsWheel)
		}

	default:
		if p.filtering { // cursor messages of the text field
			var cmd tea.Cmd
			p.filter, cmd = p.filter.Update(msg)
			return cmd
		}
	}
	return nil
}

func (p *sessionsPane) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.keys
	if p.filtering {
		switch msg.String() {
		case "esc", "enter":
			p.filtering = false
			p.filter.Blur()
			return nil
		}
		var cmd tea.Cmd
		p.filter, cmd = p.filter.Update(msg)
		p.refilter()
		return cmd
	}
	if p.confirm != nil {
		switch {
		case key.Matches(msg, k.Yes):
			s := *p.confirm
			p.confirm = nil
			return p.revoke(s)
		case key.Matches(msg, k.No):
			p.confirm = nil
		}
		return nil
	}
	switch {
	case key.Matches(msg, k.Up):
		p.move(-1)
	case key.Matches(msg, k.Down):
		p.move(1)
	case key.Matches(msg, k.PgUp):
		p.move(-max(1, p.visible-1))
	case key.Matches(msg, k.PgDown):
		p.move(max(1, p.visible-1))
	case key.Matches(msg, k.Top):
		p.move(-len(p.shown))
	case key.Matches(msg, k.Bottom):
		p.move(len(p.shown))
	case key.Matches(msg, k.Filter):
		p.filtering = true
		p.filter.CursorEnd()
		return p.filter.Focus()
	case key.Matches(msg, k.Open):
		if s := p.selected(); s != nil {
			p.detailID = s.ID
		}
	case key.Matches(msg, k.Close):
		switch {
		case p.detailID != "":
			p.detailID = ""
		case p.filter.Value() != "":
			p.filter.SetValue("")
			p.refilter()
		}
	case key.Matches(msg, k.Revoke): // disabled, so never matches, without --allow-writes
		if s := p.selected(); s != nil && p.db != nil {
			c := *s
			p.confirm = &c
		}
	case key.Matches(msg, k.Reload):
		return p.load()
	}
	return nil
}

// adopt takes a fresh page, marks the rows the previous load did not
// have, and keeps the selection on the same session.
func (p *sessionsPane) adopt(page *database.SessionsPage) {
	now := p.now()
	if p.loaded {
		prev := make(map[string]bool, len(p.rows))
		for _, r := range p.rows {
			prev[r.ID] = true
		}
		for _, r := range page.Sessions {
			if !prev[r.ID] {
				p.newUntil[r.ID] = now.Add(sessionsNewFor)
			}
		}
	}
	for id, until := range p.newUntil {
		if !now.Before(until) {
			delete(p.newUntil, id)
		}
	}
	sel := p.Selection()
	p.rows, p.more, p.indexHint = page.Sessions, page.Next != nil, ""
	if page.Findings.Has(finding.DBSessionsIndexMissing) {
		// Only where the sort matters: on a 15-row table the hint is noise.
		p.indexHint = page.IndexHint
	}
	p.loaded, p.loadErr, p.findings = true, "", page.Findings
	p.elapsed, p.loadedAt = page.Elapsed, now
	p.slow = page.Elapsed > sessionsSlow
	base := p.cfg.SessionsEvery
	switch {
	case p.slow:
		p.every = min(p.every*2, sessionsMaxEvery)
	case p.every > base:
		p.every = max(base, p.every/2)
	}
	p.refilter()
	if sel != "" {
		for i, ri := range p.shown {
			if p.rows[ri].ID == sel {
				p.cursor = i
			}
		}
	}
	p.move(0)
}

// refilter recomputes the shown rows. Matching is on the cleaned text,
// which is what the user sees and types.
func (p *sessionsPane) refilter() {
	q := strings.ToLower(strings.TrimSpace(p.filter.Value()))
	p.shown = p.shown[:0]
	for i, r := range p.rows {
		if q == "" || matchSession(r, q) {
			p.shown = append(p.shown, i)
		}
	}
	p.move(0)
}

func matchSession(r database.Session, q string) bool {
	for _, f := range []string{r.Email, r.UserAgent, r.IPAddress, r.UserID} {
		if strings.Contains(strings.ToLower(textsafe.Clean(f)), q) {
			return true
		}
	}
	return false
}

// move shifts the cursor and scrolls just enough to keep it on screen.
func (p *sessionsPane) move(d int) {
	p.cursor = max(0, min(p.cursor+d, len(p.shown)-1))
	if p.cursor < p.offset {
		p.offset = p.cursor
	}
	if p.cursor >= p.offset+p.visible {
		p.offset = p.cursor - p.visible + 1
	}
	p.offset = max(0, min(p.offset, len(p.shown)-p.visible))
}

// scroll moves the window and drags the cursor along when it leaves it.
func (p *sessionsPane) scroll(d int) {
	p.offset = max(0, min(p.offset+d, len(p.shown)-p.visible))
	p.cursor = max(p.offset, min(p.cursor, p.offset+p.visible-1))
	p.cursor = max(0, min(p.cursor, len(p.shown)-1))
}

// ago says how long before now t was, in the largest unit that fits.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + shortDur(-d)
	case d < 5*time.Second:
		return "now"
	}
	return shortDur(d) + " ago"
}

func shortDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// sessCols are the flexible column widths for a table width; the fixed
// columns (mark, created, token, state) always fit from 26 cells.
type sessCols struct{ email, ip, ua int }

const sessFixed = 1 + 8 + 1 + 1 + 7 + 1 + 7

func sessLayout(w int) sessCols {
	rem := w - sessFixed
	switch {
	case rem >= 60:
		rest := rem - 15 - 2
		email := min(32, rest/2)
		return sessCols{email: email, ip: 15, ua: rest - email}
	case rem >= 36:
		return sessCols{email: rem - 16, ip: 15}
	}
	return sessCols{email: max(0, rem)}
}

func cell(s string, n int) string { return fit(textsafe.Truncate(s, n), n) }

func (c sessCols) line(mark, created, email, token, ip, ua, state string) string {
	var b strings.Builder
	b.WriteString(fit(mark, 1) + fit(created, 8) + " " + cell(email, c.email) + " " + fit(token, 7))
	if c.ip > 0 {
		b.WriteString(" " + cell(ip, c.ip))
	}
	if c.ua > 0 {
		b.WriteString(" " + cell(ua, c.ua))
	}
	b.WriteString(" " + fit(state, 7))
	return b.String()
}

func sessionState(s database.Session) string {
	switch {
	case s.UserMissing:
		return "no user"
	case s.Active:
		return "active"
	}
	return "expired"
}

func (p *sessionsPane) counts() (total, active int) {
	for _, r := range p.rows {
		if r.Active && !r.UserMissing {
			active++
		}
	}
	return len(p.rows), active
}

func (p *sessionsPane) Summary(w, h int) string {
	var lines []string
	switch {
	case !p.hadDB:
		lines = append(lines, p.st.Dim.Render("waiting for the database…"))
	case p.db == nil:
		lines = append(lines, p.st.Err.Render("✗ database unavailable"))
	case p.schema == nil || p.schema.Session == nil:
		lines = append(lines, p.st.Err.Render("✗ no session table"))
	case p.loadErr != "":
		lines = append(lines, p.st.Err.Render("✗ load failed: ")+p.loadErr)
	case !p.loaded:
		lines = append(lines, p.st.Dim.Render("loading…"))
	}
	if p.loaded {
		n, a := p.counts()
		more := ""
		if p.more {
			more = "+"
		}
		lines = append(lines, fmt.Sprintf("%d%s sessions, %d active", n, more, a))
		if len(p.rows) > 0 {
			lines = append(lines, p.st.Dim.Render("newest "+ago(p.now(), p.rows[0].CreatedAt)+" · query "+fmtDur(p.elapsed)))
		}
		if p.slow && p.loadErr == "" && p.db != nil && p.every > p.cfg.SessionsEvery {
			lines = append(lines, p.st.Warn.Render("! slow: refresh every "+p.every.String()))
		}
	}
	return block(strings.Join(lines, "\n"), w, h)
}

func (p *sessionsPane) View(w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	var top []string
	switch {
	case p.confirm != nil:
		c := p.confirm
		top = append(top, p.st.Warn.Render(fmt.Sprintf("revoke session %s of %s? y/n", textsafe.Truncate(c.ID, 40), textsafe.Truncate(c.Email, 60))))
	case !p.hadDB:
		return block(p.st.Dim.Render("Waiting for the database (see the Database pane)…"), w, h)
	case p.db == nil:
		top = append(top, p.st.Err.Render("✗ database unavailable")+p.st.Dim.Render(" · showing the load of "+p.loadedAt.Format("15:04:05")))
	case p.schema == nil || p.schema.Session == nil:
		return block(p.st.Err.Render("✗ no session table")+"\nSee the Database pane: run BetterAuth's migrations or pass --session-table.", w, h)
	case p.loadErr != "":
		top = append(top, p.st.Err.Render("✗ ")+p.loadErr)
	case !p.loaded:
		return block(p.st.Dim.Render("loading sessions…"), w, h)
	}
	if p.detailID != "" {
		return block(strings.Join(append(top, p.detailView(w)...), "\n"), w, h)
	}

	n, a := p.counts()
	more := ""
	if p.more {
		more = p.st.Dim.Render(fmt.Sprintf(" (newest %d)", sessionsPageSize))
	}
	head := fmt.Sprintf("%d sessions, %d active", n, a) + more
	if q := p.filter.Value(); q != "" {
		head += fmt.Sprintf(" · %d match", len(p.shown))
		if p.more {
			// The filter runs over the rows on screen, not the table.
			head += p.st.Dim.Render(fmt.Sprintf(" among the newest %d loaded", sessionsPageSize))
		}
	}
	top = append(top, head)
	top = append(top, p.statusLine())
	switch {
	case p.filtering:
		f := p.filter
		f.SetWidth(max(1, w-3))
		top = append(top, f.View())
	case p.filter.Value() != "":
		top = append(top, p.st.Dim.Render("/ ")+textsafe.Clean(p.filter.Value())+p.st.Dim.Render("  (esc clears)"))
	}

	var foot []string
	if p.indexHint != "" {
		// The hint is worth a few lines, not the table: one on a short pane.
		n := 3
		if h < 16 {
			n = 1
		}
		hint := textsafe.Wrap("slow without an index: "+textsafe.Clean(p.indexHint), w)
		for _, l := range hint[:min(len(hint), n)] {
			foot = append(foot, p.st.Dim.Render(l))
		}
	}
	footH := len(foot)

	cols := sessLayout(w)
	rows := max(1, h-len(top)-1-footH)
	// Paging and the wheel need the height, which only View knows; it is
	// a cache of the layout, not state the view depends on.
	p.visible = rows
	start := max(0, min(p.offset, len(p.shown)-rows))
	if p.cursor < start {
		start = p.cursor
	} else if p.cursor >= start+rows {
		start = p.cursor - rows + 1
	}

	lines := append(top, p.st.Bold.Render(cols.line(" ", "CREATED", "EMAIL", "TOKEN", "IP", "USER AGENT", "STATE")))
	now := p.now()
	if len(p.shown) == 0 {
		msg := "no sessions"
		switch {
		case p.filter.Value() != "" && p.more:
			msg = fmt.Sprintf("no session among the newest %d matches; older ones are not searched (authtui sessions --user EMAIL looks in the whole table)", sessionsPageSize)
		case p.filter.Value() != "":
			msg = "no session matches the filter"
		}
		for _, l := range textsafe.Wrap(msg, w) {
			lines = append(lines, p.st.Dim.Render(l))
		}
	}
	for i := start; i < min(len(p.shown), start+rows); i++ {
		r := p.rows[p.shown[i]]
		isNew := now.Before(p.newUntil[r.ID])
		mark := " "
		if isNew {
			mark = "+"
		}
		email := r.Email
		if email == "" && r.UserMissing {
			email = "(user gone)"
		}
		line := fit(cols.line(mark, ago(now, r.CreatedAt), email, textsafe.Clean(r.TokenPrefix), r.IPAddress, r.UserAgent, sessionState(r)), w)
		switch {
		case i == p.cursor:
			line = p.st.Selected.Render(line)
		case isNew:
			line = p.st.New.Render(line)
		case !r.Active || r.UserMissing:
			line = p.st.Dim.Render(line)
		}
		lines = append(lines, line)
	}
	for len(lines) < h-footH {
		lines = append(lines, "")
	}
	return block(strings.Join(append(lines, foot...), "\n"), w, h)
}

// statusLine says how the table is kept fresh, and why it is not when
// it is not: "slow queries" only when the last page was slow, never for
// a database that does not answer.
func (p *sessionsPane) statusLine() string {
	last := "nothing loaded yet"
	if p.loaded {
		last = fmt.Sprintf("last query %s at %s", fmtDur(p.elapsed), p.loadedAt.Format("15:04:05"))
	}
	switch {
	case p.db == nil:
		return p.st.Dim.Render("not refreshing until the database is back · " + last)
	case p.loadErr != "":
		return p.st.Warn.Render(fmt.Sprintf("! load failed at %s; retrying every %s", p.failedAt.Format("15:04:05"), p.every)) +
			p.st.Dim.Render(" · "+last)
	case p.slow && p.every > p.cfg.SessionsEvery:
		return p.st.Warn.Render(fmt.Sprintf("! slow queries: refresh every %s · %s", p.every, last))
	}
	return p.st.Dim.Render(fmt.Sprintf("refresh every %s · %s", p.every, last))
}

func (p *sessionsPane) detailView(w int) []string {
	var r *database.Session
	for i := range p.rows {
		if p.rows[i].ID == p.detailID {
			r = &p.rows[i]
		}
	}
	if r == nil {
		return []string{p.st.Warn.Render("! session " + textsafe.Truncate(p.detailID, 40) + " is gone (revoked, or expired and deleted)"), p.st.Dim.Render("esc closes")}
	}
	now := p.now()
	lines := []string{p.st.Bold.Render("Session " + textsafe.Clean(r.ID))}
	row := func(label, value string) {
		const lw = 12
		chunks := chunkRunes(value, max(10, w-lw))
		for i, c := range chunks {
			l := ""
			if i == 0 {
				l = label
			}
			lines = append(lines, p.st.Dim.Render(fmt.Sprintf("%-*s", lw, l))+c)
		}
	}
	user := textsafe.Clean(r.Email)
	if r.Name != "" {
		user += " (" + textsafe.Clean(r.Name) + ")"
	}
	row("user", user)
	row("user id", textsafe.Clean(r.UserID))
	if r.UserMissing {
		row("", p.st.Err.Render("✗ user missing: no user row; BetterAuth answers null for this session"))
	}
	row("token", textsafe.Clean(r.TokenPrefix)+p.st.Dim.Render(" (prefix only)"))
	row("created", r.CreatedAt.Format(time.RFC3339)+p.st.Dim.Render(" ("+ago(now, r.CreatedAt)+")"))
	exp := r.ExpiresAt.Format(time.RFC3339) + p.st.Dim.Render(" ("+ago(now, r.ExpiresAt)+")")
	if r.ExpiresAt.IsZero() {
		exp = "-"
	}
	row("expires", exp)
	state := p.st.OK.Render("✓ active")
	if !r.Active {
		state = p.st.Err.Render("✗ expired")
	}
	row("state", state)
	row("IP", textsafe.Clean(r.IPAddress))
	row("user agent", textsafe.Clean(r.UserAgent))
	hint := "esc closes"
	if p.keys.Revoke.Enabled() {
		hint += " · x revokes"
	}
	return append(lines, "", p.st.Dim.Render(hint))
}

// chunkRunes hard-wraps a plain string: a user agent has few spaces to
// wrap at.
func chunkRunes(s string, n int) []string {
	r := []rune(s)
	if len(r) <= n || ansiLike(s) {
		return []string{s}
	}
	var out []string
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

// ansiLike says s carries styling, which must not be cut mid-sequence;
// such values are short labels, clipped by block instead.
func ansiLike(s string) bool { return strings.ContainsRune(s, '\x1b') }
