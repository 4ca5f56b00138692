package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// Reconnect backoff: quick enough to notice a restarted database, slow
// enough not to hammer one that is down for maintenance.
const (
	dbBackoffMin = time.Second
	dbBackoffMax = 30 * time.Second
)

type dbState int

const (
	dbWaiting    dbState = iota // no configured URL yet; the env files may still bring one
	dbNone                      // nothing configured anywhere
	dbConnecting                // an attempt is in flight
	dbConnected
	dbDown // the last attempt failed; a retry is scheduled
)

// databasePane owns the one *database.DB of the console: it connects,
// keeps a latency window, re-judges health on a timer, reconnects with
// backoff, and tells the other panes through DBReadyMsg.
type databasePane struct {
	cfg     *Config
	st      Styles
	focused bool

	// now and tick are the clock and the timer; tests replace them to
	// fire timers on demand instead of sleeping.
	now  func() time.Time
	tick func(d time.Duration, msg tea.Msg) tea.Cmd

	url     string // the URL in use: --database-url, or DATABASE_URL of the env files
	fromEnv bool
	from    string // where the URL came from, as the resolver says it
	label   string // host:port/db, never the password
	target  database.Target

	state dbState
	// gen counts connection attempts. Every timer and result carries the
	// gen it was started for; a newer attempt makes the older ones stale.
	gen generation

	db      *database.DB
	schema  *database.Schema
	health  database.Health
	lat     database.Latency
	since   time.Time // connected since
	infoErr string    // the last ServerInfo failure while pings still work

	schemaFindings finding.List // detection, indexes, orphans: fixed per connection
	storeURL       string       // the session store of the resolved configuration, if any
	healthFindings finding.List // re-judged after every refresh
	schemaNote     string       // a partial detection failure (indexes unreadable, …)

	connErr   *database.ConnectError
	lostErr   string // why a working connection was dropped
	failures  int    // consecutive failed attempts, for the backoff
	nextRetry time.Time

	keys struct{ Retry key.Binding }
}

// Pane-private messages; gen ties each to the attempt that started it.
type (
	dbConnectedMsg struct {
		gen      generation
		db       *database.DB
		schema   *database.Schema
		findings finding.List
		note     string
		health   database.Health
		ping     time.Duration
		err      *database.ConnectError
	}
	dbTickMsg    struct{ gen generation }
	dbRefreshMsg struct {
		gen     generation
		ping    time.Duration
		pingErr error
		health  database.Health
		infoErr error
	}
	dbRetryMsg     struct{ gen generation }
	dbCountdownMsg struct{ gen generation }
)

func newDatabasePane(cfg *Config, st Styles) *databasePane {
	p := &databasePane{cfg: cfg, st: st, now: time.Now}
	p.tick = func(d time.Duration, msg tea.Msg) tea.Cmd {
		return tea.Tick(d, func(time.Time) tea.Msg { return msg })
	}
	p.keys.Retry = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reconnect now"))
	return p
}

func (p *databasePane) Title() string       { return "Database" }
func (p *databasePane) Keys() []key.Binding { return []key.Binding{p.keys.Retry} }
func (p *databasePane) Capturing() bool     { return false }
func (p *databasePane) SetFocused(f bool)   { p.focused = f }

// Selection is the target without user or password: safe to paste.
func (p *databasePane) Selection() string { return p.label }

// Close ends the pool on quit; results still in flight see a new gen and
// close their own connection. pgxpool's Close waits for running queries,
// so it gets a second at most.
func (p *databasePane) Close() {
	p.gen.next()
	if db := p.db; db != nil {
		p.db = nil
		done := make(chan struct{})
		go func() { db.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	}
}

func (p *databasePane) Init() tea.Cmd {
	if p.cfg.Database.URL == "" {
		return nil // SecretsLoadedMsg may bring DATABASE_URL
	}
	p.setURL(p.cfg.Database.URL, false)
	return p.connect()
}

// Health is what the verdict needs of the database: whether it is
// connected and its findings.
func (p *databasePane) Health() *database.Health {
	if p.state != dbConnected && p.state != dbDown {
		return nil
	}
	h := p.health
	h.Connected = p.state == dbConnected
	h.Schema = p.schema
	h.Findings = p.Findings()
	return &h
}

func (p *databasePane) Findings() finding.List {
	switch p.state {
	case dbConnected:
		// A user table without a session table is secondaryStorage, not
		// a missing schema (database.ForStore).
		return append(database.ForStore(append(finding.List{}, p.schemaFindings...), p.schema, p.storeURL != ""), p.healthFindings...)
	case dbDown:
		if p.connErr == nil {
			return nil
		}
		var fs finding.List
		fs.Add(finding.DBUnreachable, p.label, "cannot connect to %s (%s): %s", p.label, p.connErr.Class, p.connErr.Message)
		return fs
	}
	return nil
}

func (p *databasePane) setURL(u string, fromEnv bool) {
	p.url, p.fromEnv = u, fromEnv
	p.target = database.Target{}
	if t, err := database.ParseTarget(u); err == nil {
		p.target = t
		p.label = fmt.Sprintf("%s:%d/%s", t.Host, t.Port, t.Database)
	} else {
		p.label = "(unparsable database URL)"
	}
}

// options are the configured options with the URL in use; the timeouts
// default to the console's so that no attempt can hang.
func (p *databasePane) options() database.Options {
	o := p.cfg.Database
	o.URL = p.url
	o.AllowWrites = o.AllowWrites || p.cfg.AllowWrites
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = p.cfg.Timeout
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = p.cfg.Timeout
	}
	return o
}

// connect starts a new attempt, making every older timer and result stale.
func (p *databasePane) connect() tea.Cmd {
	p.gen.next()
	p.state = dbConnecting
	gen, opts, timeout := p.gen, p.options(), p.cfg.Timeout
	return func() tea.Msg {
		msg := dbConnectedMsg{gen: gen}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		db, err := database.Open(ctx, opts)
		cancel()
		if err != nil {
			ce, ok := err.(*database.ConnectError)
			if !ok {
				ce = &database.ConnectError{Class: "server", Message: err.Error()}
			}
			msg.err = ce
			return msg
		}
		// A fresh deadline: the probes below are as slow as the
		// connection, and should not be cut short by a slow handshake.
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
		defer cancel()
		msg.health = database.Health{Target: db.Target(), Connected: true, CheckedAt: time.Now()}
		if msg.ping, err = db.Ping(ctx); err == nil {
			err = db.ServerInfo(ctx, &msg.health)
		}
		if err != nil {
			db.Close()
			msg.err = &database.ConnectError{Class: "server", Message: "connected, but a query failed: " + err.Error()}
			return msg
		}
		schema, fs, err := db.DetectSchema(ctx)
		if schema == nil {
			db.Close()
			msg.err = &database.ConnectError{Class: "server", Message: fmt.Sprint(err)}
			return msg
		}
		if err != nil {
			msg.note = err.Error()
		}
		// Orphans are counted once per connection: the count writes into
		// the schema, which other panes read once it is broadcast.
		if schema.Session != nil {
			ofs, oerr := db.CheckOrphans(ctx, schema)
			fs = append(fs, ofs...)
			if oerr != nil && msg.note == "" {
				msg.note = oerr.Error()
			}
		}
		msg.db, msg.schema, msg.findings = db, schema, fs
		return msg
	}
}

// closeDB closes in a Cmd: pgxpool's Close waits for connections in use
// by other panes' queries to come back.
func closeDB(db *database.DB) tea.Cmd {
	if db == nil {
		return nil
	}
	return func() tea.Msg { db.Close(); return nil }
}

func dbReady(db *database.DB, s *database.Schema) tea.Cmd {
	return func() tea.Msg { return DBReadyMsg{DB: db, Schema: s} }
}

// drop forgets the current connection; the other panes hear of it only
// if they had it.
func (p *databasePane) drop() tea.Cmd {
	if p.db == nil {
		return nil
	}
	old := p.db
	p.db, p.schema = nil, nil
	return tea.Batch(closeDB(old), dbReady(nil, nil))
}

func (p *databasePane) backoff() time.Duration {
	d := dbBackoffMin
	for i := 1; i < p.failures && d < dbBackoffMax; i++ {
		d *= 2
	}
	return min(d, dbBackoffMax)
}

func (p *databasePane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case SecretsLoadedMsg:
		p.storeURL = msg.Config.StoreURL.Value
		if p.cfg.Database.URL != "" || msg.DBURL == p.url && p.state != dbWaiting {
			return nil
		}
		if msg.DBURL == "" {
			p.url, p.label, p.state, p.connErr = "", "", dbNone, nil
			return p.drop()
		}
		p.setURL(msg.DBURL, true)
		p.from = msg.Config.DatabaseURL.From
		p.failures, p.connErr, p.lostErr = 0, nil, ""
		return tea.Batch(p.drop(), p.connect())

	case dbConnectedMsg:
		if !p.gen.current(msg.gen) {
			return closeDB(msg.db) // a newer attempt superseded this one
		}
		if msg.err != nil {
			p.failures++
			p.state, p.connErr = dbDown, msg.err
			cmds := []tea.Cmd{p.drop()}
			// A malformed URL does not fix itself; r or an env edit retries.
			if connClass(msg.err.Class) != connConfig {
				d := p.backoff()
				p.nextRetry = p.now().Add(d)
				cmds = append(cmds, p.tick(d, dbRetryMsg{p.gen}), p.tick(time.Second, dbCountdownMsg{p.gen}))
			}
			return tea.Batch(cmds...)
		}
		old := p.db
		p.state, p.db, p.schema = dbConnected, msg.db, msg.schema
		p.failures, p.connErr, p.lostErr, p.infoErr = 0, nil, "", ""
		p.since = p.now()
		p.health = msg.health
		p.health.Schema = msg.schema
		p.schemaFindings, p.schemaNote = msg.findings, msg.note
		p.lat = database.Latency{}
		p.lat.Add(msg.ping)
		p.judge()
		db, schema := msg.db, msg.schema
		return tea.Batch(closeDB(old), dbReady(db, schema), p.tick(p.cfg.DBInterval, dbTickMsg{p.gen}))

	case dbTickMsg:
		if !p.gen.current(msg.gen) || p.state != dbConnected {
			return nil
		}
		return p.refresh()

	case dbRefreshMsg:
		if !p.gen.current(msg.gen) || p.state != dbConnected {
			return nil
		}
		if msg.pingErr != nil {
			// Reconnect at once: Open classifies the failure, and a blip
			// heals without a backoff delay.
			p.lostErr = textsafe.Clean(msg.pingErr.Error())
			return tea.Batch(p.drop(), p.connect())
		}
		p.lat.Add(msg.ping)
		if msg.infoErr != nil {
			p.infoErr = msg.infoErr.Error()
		} else {
			p.infoErr = ""
			msg.health.Schema = p.schema
			p.health = msg.health
		}
		p.judge()
		return p.tick(p.cfg.DBInterval, dbTickMsg{p.gen})

	case dbRetryMsg:
		if !p.gen.current(msg.gen) || p.state != dbDown {
			return nil
		}
		return p.connect()

	case dbCountdownMsg:
		// Only re-renders the countdown; stops once the retry starts.
		if !p.gen.current(msg.gen) || p.state != dbDown || !p.now().Before(p.nextRetry) {
			return nil
		}
		return p.tick(time.Second, dbCountdownMsg{p.gen})

	case tea.KeyPressMsg:
		if key.Matches(msg, p.keys.Retry) && p.url != "" {
			p.failures = 0
			if p.state == dbConnected {
				// Keep serving the old connection until the new one is
				// ready; dbConnectedMsg closes it.
				return p.connect()
			}
			return tea.Batch(p.drop(), p.connect())
		}
	}
	return nil
}

func (p *databasePane) refresh() tea.Cmd {
	gen, db, timeout, target := p.gen, p.db, p.cfg.Timeout, p.target
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		msg := dbRefreshMsg{gen: gen}
		msg.ping, msg.pingErr = db.Ping(ctx)
		if msg.pingErr != nil {
			return msg
		}
		msg.health = database.Health{Target: target, Connected: true, CheckedAt: time.Now()}
		msg.infoErr = db.ServerInfo(ctx, &msg.health)
		return msg
	}
}

// judge re-raises the live findings from the pane's own window, which
// spans refreshes (CheckHealth's would span one call).
func (p *databasePane) judge() {
	p.health.Latency = p.lat.Stats()
	p.healthFindings = p.db.Judge(&p.health)
}

// sparkline draws the window scaled to its maximum, newest on the right,
// at most w cells.
func sparkline(samples []time.Duration, w int) string {
	const bars = "▁▂▃▄▅▆▇█"
	levels := []rune(bars)
	if w <= 0 || len(samples) == 0 {
		return ""
	}
	if len(samples) > w {
		samples = samples[len(samples)-w:]
	}
	var top time.Duration
	for _, s := range samples {
		top = max(top, s)
	}
	var b strings.Builder
	for _, s := range samples {
		i := 0
		if top > 0 {
			i = int(int64(s) * int64(len(levels)-1) / int64(top))
		}
		b.WriteRune(levels[max(0, min(i, len(levels)-1))])
	}
	return b.String()
}

func (p *databasePane) retryIn() string {
	left := p.nextRetry.Sub(p.now()).Round(time.Second)
	if left <= 0 {
		return "retrying…"
	}
	return fmt.Sprintf("retry in %s (at %s)", left, p.nextRetry.Format("15:04:05"))
}

// shown is the health the report lines describe: the live one while
// connected, else only the target and why it cannot be reached.
func (p *databasePane) shown() *database.Health {
	h := &database.Health{Target: p.target}
	switch p.state {
	case dbConnected:
		*h = p.health
		h.Connected, h.Schema = true, p.schema
		h.Latency = p.lat.Stats()
	case dbDown:
		h.Error = p.connErr
	}
	return h
}

func (p *databasePane) Summary(w, h int) string {
	var lines []string
	switch p.state {
	case dbWaiting:
		lines = append(lines, p.st.Dim.Render("waiting for env files…"))
	case dbNone:
		lines = append(lines, p.st.Warn.Render("! no database configured"), p.st.Dim.Render("--database-url or DATABASE_URL"))
	case dbConnecting:
		lines = append(lines, p.st.Dim.Render("… connecting"), report.Clip(p.label, 200))
	case dbConnected:
		hl := p.shown()
		lines = append(lines, p.st.OK.Render("✓ connected")+" p95 "+report.Duration(hl.Latency.P95), report.Clip(p.label, 200))
		e, wn, _ := p.Findings().Count()
		switch {
		case e > 0:
			lines = append(lines, p.st.Err.Render(fmt.Sprintf("✗ %d error(s)", e)))
		case wn > 0:
			lines = append(lines, p.st.Warn.Render(fmt.Sprintf("! %d warning(s)", wn)))
		}
		// With more room: how the round trips went, then what the server
		// is and what its TLS proves.
		if spark := sparkline(p.lat.Samples(), w); spark != "" {
			lines = append(lines, spark)
		}
		lines = append(lines,
			p.st.line(report.L("", report.P("PostgreSQL "+report.Clip(hl.ServerVersion, 40))), w),
			p.st.line(report.L("", report.P("TLS "), report.HealthTLS(hl)), w))
	case dbDown:
		class := "?"
		if p.connErr != nil {
			class = report.Clip(p.connErr.Class, 20)
		}
		l := p.st.Err.Render("✗ unreachable (" + class + ")")
		if p.connErr != nil && connClass(p.connErr.Class) != connConfig {
			l += " " + p.retryIn()
		}
		lines = append(lines, l, report.Clip(p.label, 200))
		// With more room: why, in the driver's words.
		if p.connErr != nil {
			for _, l := range report.Wrap(report.Safe(p.connErr.Message, 300), w) {
				lines = append(lines, p.st.Dim.Render(l))
			}
		}
	}
	return block(strings.Join(lines, "\n"), w, h)
}

func (p *databasePane) View(w, h int) string {
	var lines []report.Line
	switch p.state {
	case dbWaiting:
		return block(p.st.Dim.Render("Waiting for the env files (DATABASE_URL)…"), w, h)
	case dbNone:
		ls := p.st.layout([]report.Block{{Lines: []report.Line{report.Prose("! no database configured: start with --database-url or set DATABASE_URL in an env file.", report.Warn)}}}, w)
		return block(strings.Join(ls, "\n"), w, h)
	case dbConnecting:
		lines = append(lines, report.L("", report.S("… connecting", report.Dim)))
		if p.lostErr != "" {
			lines = append(lines, report.L("", report.S("! connection lost: ", report.Warn), report.P(report.Safe(p.lostErr, 300))))
		}
	}
	// The report's lines, with the pane's live state put in where it
	// belongs: where the URL came from under the target, the retry under
	// the failure, the sparkline in the latency line.
	src := "--database-url"
	if p.fromEnv {
		src = "DATABASE_URL (env file)"
		if p.from != "" {
			src = report.Safe(p.from, 200)
		}
	}
	for _, l := range report.HealthLines(p.shown()) {
		switch l.Label {
		case "target":
			lines = append(lines, l, report.L("from", report.S(src, report.Dim)))
			continue
		case "latency":
			spark := sparkline(p.lat.Samples(), max(8, w-52))
			l.Spans = append([]report.Span{report.P(spark + " ")}, l.Spans...)
		case "status":
			if p.state == dbConnected {
				l.Spans = append(l.Spans, report.S(" since "+p.since.Format("15:04:05"), report.Dim))
			}
		case "clock skew":
			lines = append(lines, l)
			if p.infoErr != "" {
				lines = append(lines, report.Line{Indent: 1, Spans: []report.Span{report.S("! server info: ", report.Warn), report.P(report.Safe(p.infoErr, 300))}})
			}
			lines = append(lines, report.L("checked", report.P(p.health.CheckedAt.Format("15:04:05")), report.S(fmt.Sprintf(" every %s", p.cfg.DBInterval), report.Dim)))
			continue
		}
		lines = append(lines, l)
		if l.Label == "status" && p.state == dbDown {
			retry := "fix the URL, then press r (or edit the env file)"
			if p.connErr == nil || connClass(p.connErr.Class) != connConfig {
				retry = fmt.Sprintf("attempt %d failed; %s · r retries now", p.failures, p.retryIn())
			}
			lines = append(lines, report.Line{Indent: 1, Prose: true, Spans: []report.Span{report.S(retry, report.Dim)}})
		}
	}
	if p.state == dbConnected && p.schemaNote != "" {
		lines = append(lines, report.L("note", report.S("! "+report.Safe(p.schemaNote, 300), report.Warn)))
	}
	bs := []report.Block{{Lines: lines}}
	if fs := p.Findings(); len(fs) > 0 {
		bs = append(bs, report.Findings(fs))
	}
	return block(strings.Join(p.st.layout(bs, w), "\n"), w, h)
}

// connClass is a database.ConnectError's Class. Only the one that the pane
// treats apart is named here.
type connClass string

// connConfig is a malformed URL or option: it does not fix itself.
const connConfig connClass = "config"
