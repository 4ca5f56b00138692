package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/store"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
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

	// storeURL is the session store of the resolved configuration
	// (--redis-url, REDIS_URL & co.): its sessions are listed too.
	storeURL string
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
		storeErr bool // err is the session store's, not the database's
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
		Apply:  b([]string{"enter", "esc"}, "enter", "apply filter"),
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

// bindings are the pane's keys, each enabled only where it would do
// something now; Keys (the help) and key (the handler) both use them.
func (p *sessionsPane) bindings() sessionsKeys {
	k := p.keys
	up, down := p.cursor > 0, p.cursor < len(p.shown)-1
	for _, b := range []*key.Binding{&k.Up, &k.PgUp, &k.Top} {
		b.SetEnabled(up)
	}
	for _, b := range []*key.Binding{&k.Down, &k.PgDown, &k.Bottom} {
		b.SetEnabled(down)
	}
	k.Open.SetEnabled(p.selected() != nil && p.detailID == "")
	k.Close.SetEnabled(p.detailID != "" || p.filter.Value() != "")
	k.Reload.SetEnabled(p.canLoad())
	k.Revoke.SetEnabled(p.keys.Revoke.Enabled() && p.selected() != nil && p.db != nil)
	return k
}

func (p *sessionsPane) Keys() []key.Binding {
	k := p.bindings()
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
	return p.dbSessions() || p.storeURL != ""
}

// dbSessions says the database has a session table to read.
func (p *sessionsPane) dbSessions() bool {
	return p.db != nil && p.schema != nil && p.schema.Session != nil
}

func (p *sessionsPane) load() tea.Cmd {
	if !p.canLoad() {
		return nil
	}
	p.seq.next()
	p.loading = true
	gen, seq, db, schema, timeout, storeURL := p.gen, p.seq, p.db, p.schema, p.cfg.Timeout, p.storeURL
	if !p.dbSessions() {
		db = nil
	}
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout+sessionsGrace)
		defer cancel()
		page := &database.SessionsPage{}
		var err error
		if db != nil {
			if page, err = db.Sessions(ctx, schema, database.SessionQuery{Limit: sessionsPageSize}); err != nil {
				return sessionsLoadedMsg{gen: gen, seq: seq, err: err}
			}
		}
		if storeURL != "" {
			// The store (secondaryStorage) is read with each refresh, on
			// a connection of its own, read-only; its sessions join the
			// database's, each marked with where it lives.
			st, err := store.Open(ctx, store.Options{URL: storeURL, Timeout: timeout})
			if err != nil {
				return sessionsLoadedMsg{gen: gen, seq: seq, err: err, storeErr: true}
			}
			defer st.Close()
			recent, err := st.Recent(ctx, sessionsPageSize)
			if err != nil {
				return sessionsLoadedMsg{gen: gen, seq: seq, err: err, storeErr: true}
			}
			merged := *page
			merged.Sessions = database.WithStore(page.Sessions, recent, time.Now(), sessionsPageSize)
			page = &merged
		}
		return sessionsLoadedMsg{gen: gen, seq: seq, page: page}
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
	case SecretsLoadedMsg:
		if u := msg.Config.StoreURL.Value; u != p.storeURL {
			p.storeURL = u
			if u != "" && !p.loading {
				p.gen.next()
				p.every = p.cfg.SessionsEvery
				return p.load()
			}
		}
		return nil
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
			switch {
			case msg.storeErr:
				id = finding.StoreUnreachable
			case strings.Contains(p.loadErr, "statement_timeout"):
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
		text := "revoked session " + report.Clip(msg.id, 32) + " of " + report.Clip(msg.email, 40)
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
	k := p.bindings()
	if p.filtering {
		if key.Matches(msg, k.Apply) {
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

// sessCol is one column of the pane's table: an index into
// report.SessionsHead and the width it gets.
type sessCol struct{ i, w int }

// The columns in the order they give way on a narrow pane (the user and
// when first, the user agent last), with the width each needs at least.
var sessPriority = []struct{ i, min int }{
	{3, 24}, // USER (or less, if no email is that long)
	{0, 10}, // CREATED
	{2, 9},  // STATUS
	{4, 7},  // TOKEN
	{1, 10}, // EXPIRES
	{5, 15}, // IP
	{6, 16}, // USER AGENT
}

// sessColumns picks the columns that fit w cells beside the mark column
// and their widths: each at least its minimum, then the space left
// shared out up to what the rows need.
func sessColumns(rows []database.Session, w int) []sessCol {
	need := make([]int, len(report.SessionsHead))
	for i, h := range report.SessionsHead {
		need[i] = ansi.StringWidth(h)
	}
	need[0], need[1], need[2], need[4] = 10, 10, 9, 7
	for _, r := range rows {
		need[3] = max(need[3], ansi.StringWidth(report.SessionUser(r).Text))
		need[5] = max(need[5], ansi.StringWidth(report.Clip(r.IPAddress, 39)))
		need[6] = max(need[6], ansi.StringWidth(report.Clip(r.UserAgent, 48)))
	}
	avail := w - 1
	width := make([]int, len(need))
	used := 0
	for k, c := range sessPriority {
		n := min(c.min, need[c.i])
		gap := 0
		if used > 0 {
			gap = 1
		}
		switch {
		case used+gap+n <= avail:
			width[c.i], used = n, used+gap+n
		case k == 0:
			width[c.i], used = max(0, avail), avail // the user, however narrow
		}
	}
	for _, c := range sessPriority {
		if width[c.i] > 0 {
			grow := min(avail-used, need[c.i]-width[c.i])
			width[c.i] += max(0, grow)
			used += max(0, grow)
		}
	}
	// What is left still holds the start of a column that did not fit
	// at its minimum: a user agent's browser name is worth 8 cells.
	for _, c := range sessPriority {
		if left := avail - used - 1; width[c.i] == 0 && left >= max(8, ansi.StringWidth(report.SessionsHead[c.i])) {
			width[c.i] = min(left, need[c.i])
			used += 1 + width[c.i]
		}
	}
	var cols []sessCol
	for i, n := range width {
		if n > 0 {
			cols = append(cols, sessCol{i, n})
		}
	}
	return cols
}

// sessRow lays out one row: the mark, then the cells of cols. Without
// paint the row is plain text, for a style over the whole line.
func (p *sessionsPane) sessRow(cols []sessCol, mark string, cells []report.Span, paint bool) string {
	var b strings.Builder
	b.WriteString(fit(mark, 1))
	for k, c := range cols {
		if k > 0 {
			b.WriteByte(' ')
		}
		cell := fit(cells[c.i].Text, c.w)
		if paint {
			cell = p.st.paint(cell, cells[c.i].Tone)
		}
		b.WriteString(cell)
	}
	return b.String()
}

// count is the report's count of the loaded rows, "+" when older
// sessions exist beyond them.
func (p *sessionsPane) count() string {
	c := report.SessionsCount(p.rows)
	if p.more {
		c = strings.Replace(c, " session", "+ session", 1)
	}
	return c
}

func (p *sessionsPane) Summary(w, h int) string {
	var lines []string
	switch {
	case !p.hadDB && p.storeURL == "":
		lines = append(lines, p.st.Dim.Render("waiting for the database…"))
	case p.db == nil && p.hadDB:
		lines = append(lines, p.st.Err.Render("✗ database unavailable"))
	case (p.schema == nil || p.schema.Session == nil) && p.storeURL == "":
		lines = append(lines, p.st.Err.Render("✗ no session table"))
	case p.loadErr != "":
		lines = append(lines, p.st.Err.Render("✗ load failed: ")+p.loadErr)
	case !p.loaded:
		lines = append(lines, p.st.Dim.Render("loading…"))
	}
	if !p.loaded {
		return block(strings.Join(lines, "\n"), w, h)
	}
	lines = append(lines, p.count())
	if p.slow && p.loadErr == "" && p.db != nil && p.every > p.cfg.SessionsEvery {
		lines = append(lines, p.st.Warn.Render("! slow: refresh every "+p.every.String()))
	}
	if p.indexHint != "" {
		// Set only when db-sessions-index-missing says the sort matters.
		lines = append(lines, p.st.Warn.Render("! no index on the creation time"))
	}
	// The newest sessions, as many as fit: whose they are, how old, and
	// whether they still work.
	now := p.now()
	for _, r := range p.rows {
		if len(lines) >= h {
			break
		}
		when := report.Rel(r.CreatedAt, now)
		uw := max(0, w-3-ansi.StringWidth(when))
		user := fit(report.SessionUser(r).Text, uw)
		line := p.st.span(report.SessionMark(r), 1) + " " + user + " " + p.st.Dim.Render(when)
		if !r.Active || r.UserMissing {
			line = p.st.span(report.SessionMark(r), 1) + " " + p.st.Dim.Render(user+" "+when)
		}
		lines = append(lines, line)
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
		top = append(top, p.st.Warn.Render(fmt.Sprintf("revoke session %s of %s? y/n", report.Clip(c.ID, 40), report.Clip(report.SessionUser(*c).Text, 60))))
	case !p.hadDB && p.storeURL == "":
		return block(p.st.Dim.Render("Waiting for the database (see the Database pane)…"), w, h)
	case p.db == nil && p.hadDB:
		top = append(top, p.st.Err.Render("✗ database unavailable")+p.st.Dim.Render(" · showing the load of "+p.loadedAt.Format("15:04:05")))
	case (p.schema == nil || p.schema.Session == nil) && p.storeURL == "":
		return block(p.st.Err.Render("✗ no session table")+"\nSee the Database pane: run BetterAuth's migrations or pass --session-table.", w, h)
	case p.loadErr != "":
		top = append(top, p.st.Err.Render("✗ ")+p.loadErr)
	case !p.loaded:
		return block(p.st.Dim.Render("loading sessions…"), w, h)
	}
	if p.detailID != "" {
		return block(strings.Join(append(top, p.detailView(w)...), "\n"), w, h)
	}

	more := ""
	if p.more {
		more = p.st.Dim.Render(fmt.Sprintf(" (newest %d)", sessionsPageSize))
	}
	head := report.SessionsCount(p.rows) + more
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
		top = append(top, p.st.Dim.Render("/ ")+report.Clip(p.filter.Value(), 200)+p.st.Dim.Render("  (esc clears)"))
	}

	var foot []string
	if p.indexHint != "" {
		// The hint is worth a few lines, not the table: one on a short pane.
		n := 3
		if h < 16 {
			n = 1
		}
		hint := p.st.layout([]report.Block{{Lines: report.IndexHint(p.indexHint)}}, w)
		foot = append(foot, hint[:min(len(hint), n)]...)
	}
	footH := len(foot)

	cols := sessColumns(p.rows, w)
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

	head2 := make([]report.Span, len(report.SessionsHead))
	for i, h := range report.SessionsHead {
		head2[i] = report.P(h)
	}
	lines := append(top, p.st.Bold.Render(p.sessRow(cols, " ", head2, false)))
	now := p.now()
	if len(p.shown) == 0 {
		msg := "no sessions"
		switch {
		case p.filter.Value() != "" && p.more:
			msg = fmt.Sprintf("no session among the newest %d matches; older ones are not searched (authtui sessions --user EMAIL looks in the whole table)", sessionsPageSize)
		case p.filter.Value() != "":
			msg = "no session matches the filter"
		}
		for _, l := range report.Wrap(msg, w) {
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
		cells := report.SessionRow(r, now)
		var line string
		switch {
		case i == p.cursor:
			line = p.st.Selected.Render(fit(p.sessRow(cols, mark, cells, false), w))
		case isNew:
			line = p.st.New.Render(fit(p.sessRow(cols, mark, cells, false), w))
		case !r.Active || r.UserMissing:
			line = p.st.Dim.Render(fit(p.sessRow(cols, mark, cells, false), w))
		default:
			line = fit(p.sessRow(cols, mark, cells, true), w)
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
		last = fmt.Sprintf("last query %s at %s", report.Duration(p.elapsed), p.loadedAt.Format("15:04:05"))
	}
	from := ""
	if p.storeURL != "" {
		from = "database and store · "
		if !p.dbSessions() {
			from = "the store (secondaryStorage) · "
		}
	}
	switch {
	case p.db == nil && p.storeURL == "":
		return p.st.Dim.Render("not refreshing until the database is back · " + last)
	case p.loadErr != "":
		return p.st.Warn.Render(fmt.Sprintf("! load failed at %s; retrying every %s", p.failedAt.Format("15:04:05"), p.every)) +
			p.st.Dim.Render(" · "+last)
	case p.slow && p.every > p.cfg.SessionsEvery:
		return p.st.Warn.Render(fmt.Sprintf("! slow queries: refresh every %s · %s", p.every, last))
	}
	return p.st.Dim.Render(fmt.Sprintf("%srefresh every %s · %s", from, p.every, last))
}

func (p *sessionsPane) detailView(w int) []string {
	var r *database.Session
	for i := range p.rows {
		if p.rows[i].ID == p.detailID {
			r = &p.rows[i]
		}
	}
	if r == nil {
		return []string{p.st.Warn.Render("! session " + report.Clip(p.detailID, 40) + " is gone (revoked, or expired and deleted)"), p.st.Dim.Render("esc closes")}
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
	user := p.st.span(report.SessionUser(*r), 200)
	if r.Name != "" {
		user += " (" + textsafe.Clean(r.Name) + ")"
	}
	row("user", user)
	row("user id", textsafe.Clean(r.UserID))
	if r.UserMissing {
		row("", p.st.Err.Render("✗ user missing: no user row; BetterAuth answers null for this session"))
	}
	row("token", textsafe.Clean(r.TokenPrefix)+p.st.Dim.Render(" (prefix only)"))
	row("created", r.CreatedAt.Format(time.RFC3339)+p.st.Dim.Render(" ("+report.Rel(r.CreatedAt, now)+")"))
	exp := r.ExpiresAt.Format(time.RFC3339) + p.st.Dim.Render(" ("+report.Rel(r.ExpiresAt, now)+")")
	if r.ExpiresAt.IsZero() {
		exp = "-"
	}
	row("expires", exp)
	row("status", p.st.span(report.SessionStatus(*r), 40))
	if r.Stored != "" {
		row("stored in", textsafe.Clean(r.Stored))
	}
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
