package ui

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/authtui/authtui/internal/probe/check"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// Below this size the layout cannot show five panes usefully.
const (
	minWidth  = 60
	minHeight = 16
)

type overlay int

const (
	overlayNone overlay = iota
	overlayHelp
	overlayFindings
)

// Model is the root: it routes messages and lays out the panes. It holds
// no probe state of its own beyond what the header shows.
type Model struct {
	cfg    Config
	st     Styles
	keys   globalKeys
	panes  []Pane
	focus  int
	zoom   bool
	mouse  bool
	over   overlay
	width  int
	height int

	baseURL string
	dbLabel string
	sources []string

	status    string
	statusErr bool
	statusSeq generation

	findingsScroll int

	ev *evidence // decides the verdict the header shows
}

// New builds the console for cfg.
func New(cfg Config) *Model {
	cfg.defaults()
	st := newStyles()
	m := &Model{cfg: cfg, st: st, keys: newGlobalKeys(), mouse: true, baseURL: cfg.Login.BaseURL}
	m.ev = newEvidence(&m.cfg)
	m.panes = []Pane{
		newSecretsPane(&m.cfg, st),
		newDatabasePane(&m.cfg, st),
		newSessionsPane(&m.cfg, st),
		newInspectorPane(&m.cfg, st),
		newLoginPane(&m.cfg, st),
	}
	m.panes[0].SetFocused(true)
	if cfg.Database.URL != "" {
		m.dbLabel = dbLabel(cfg.Database.URL)
	}
	return m
}

// Close releases what panes hold beyond the program's life: a running
// login flow, a tailed command, the database connection.
func (m *Model) Close() {
	for _, p := range m.panes {
		if c, ok := p.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// Init starts every pane.
func (m *Model) Init() tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.panes))
	for _, p := range m.panes {
		cmds = append(cmds, p.Init())
	}
	return tea.Batch(cmds...)
}

type statusClearMsg struct{ seq generation }

// Update routes: keys to the overlay, the capturing pane, the global keys
// or the focused pane, in that order; everything else to every pane. The
// verdict is re-decided after every message whose effects could change it.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	model, cmd := m.route(msg)
	if _, ok := msg.(VerdictMsg); ok {
		return model, cmd
	}
	m.ev.observe(msg)
	return model, tea.Batch(cmd, m.ev.decide(m.health()))
}

// health is the database pane's current health, for the verdict.
func (m *Model) health() *database.Health {
	for _, p := range m.panes {
		if hs, ok := p.(healthSource); ok {
			return hs.Health()
		}
	}
	return nil
}

// Verdict is the console's current verdict (nil before the env sources
// were read): the same as `authtui check` gives for the same inputs.
func (m *Model) Verdict() *check.Report { return m.ev.report }

func (m *Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.PasteMsg:
		return m, m.panes[m.focus].Update(msg)
	case tea.MouseClickMsg:
		m.handleClick(msg.Mouse())
		return m, nil
	case tea.MouseWheelMsg:
		return m, m.panes[m.focus].Update(msg)
	case StatusMsg:
		seq := m.statusSeq.next()
		m.status, m.statusErr = msg.Text, msg.Error
		return m, tea.Tick(4*time.Second, func(time.Time) tea.Msg { return statusClearMsg{seq} })
	case statusClearMsg:
		if m.statusSeq.current(msg.seq) {
			m.status = ""
		}
		return m, nil
	case reportMetaMsg:
		return m, m.writeReport(msg)
	case SecretsLoadedMsg:
		m.sources = m.sources[:0]
		for _, s := range msg.Sources {
			m.sources = append(m.sources, s.Label)
		}
		if m.cfg.Login.BaseURL == "" {
			m.baseURL = msg.BaseURL
		}
		if m.cfg.Database.URL == "" && msg.DBURL != "" {
			m.dbLabel = dbLabel(msg.DBURL)
		}
	}
	return m, m.broadcast(msg)
}

func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	cmds := make([]tea.Cmd, 0, len(m.panes))
	for _, p := range m.panes {
		cmds = append(cmds, p.Update(msg))
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.over != overlayNone {
		switch {
		case key.Matches(msg, k.Interrupt):
			return tea.Quit
		case key.Matches(msg, k.Close), key.Matches(msg, k.Help), key.Matches(msg, k.Findings):
			m.over = overlayNone
		case key.Matches(msg, k.ScrollDown):
			m.findingsScroll = min(m.findingsScroll+1, len(m.findingsLines(max(1, m.width-2))))
		case key.Matches(msg, k.ScrollUp):
			m.findingsScroll = max(0, m.findingsScroll-1)
		}
		return nil
	}
	p := m.panes[m.focus]
	if p.Capturing() {
		if key.Matches(msg, k.Interrupt) {
			return tea.Quit
		}
		return p.Update(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.over = overlayHelp
	case key.Matches(msg, k.Findings):
		m.over, m.findingsScroll = overlayFindings, 0
	case key.Matches(msg, k.Report):
		return m.reportCmd(time.Now())
	case key.Matches(msg, k.NextPane):
		m.setFocus((m.focus + 1) % len(m.panes))
	case key.Matches(msg, k.PrevPane):
		m.setFocus((m.focus + len(m.panes) - 1) % len(m.panes))
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
	case key.Matches(msg, k.Mouse):
		m.mouse = !m.mouse
		state := "off: the terminal's own selection works"
		if m.mouse {
			state = "on: click focuses, wheel scrolls"
		}
		return func() tea.Msg { return StatusMsg{Text: "mouse " + state} }
	case key.Matches(msg, k.Copy):
		sel := p.Selection()
		if sel == "" {
			return func() tea.Msg { return StatusMsg{Text: "nothing selected to copy", Error: true} }
		}
		return tea.Batch(tea.SetClipboard(sel), func() tea.Msg {
			return StatusMsg{Text: "copied " + textsafe.Truncate(sel, 40) + " (OSC 52)"}
		})
	default:
		for i, b := range k.Focus {
			if key.Matches(msg, b) {
				m.setFocus(i)
				return nil
			}
		}
		return p.Update(msg)
	}
	return nil
}

func (m *Model) setFocus(i int) {
	m.panes[m.focus].SetFocused(false)
	m.focus = i
	m.panes[i].SetFocused(true)
}

// layout computes where panes are drawn, for View and for mouse clicks.
type layout struct {
	small          bool
	headerH, bodyH int
	leftW, rightW  int
	leftH          []int // heights of the summary boxes
}

func (m *Model) layout() layout {
	l := layout{headerH: 2}
	if m.width < minWidth || m.height < minHeight {
		l.small = true
		return l
	}
	l.bodyH = m.height - l.headerH - 1
	if m.zoom {
		l.rightW = m.width
		return l
	}
	l.leftW = min(max(m.width*36/100, 28), 52)
	l.rightW = m.width - l.leftW
	n := len(m.panes)
	for i := range n {
		h := l.bodyH / n
		if i < l.bodyH%n {
			h++
		}
		l.leftH = append(l.leftH, h)
	}
	return l
}

func (m *Model) handleClick(ms tea.Mouse) {
	l := m.layout()
	if l.small || m.zoom || ms.X >= l.leftW || ms.Y < l.headerH {
		return
	}
	y := ms.Y - l.headerH
	for i, h := range l.leftH {
		if y < h {
			m.setFocus(i)
			return
		}
		y -= h
	}
}

// View lays out the header, the panes and the hint bar.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	if m.mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.WindowTitle = "authtui"
	return v
}

func (m *Model) render() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	l := m.layout()
	if l.small {
		msg := fmt.Sprintf("Terminal too small: %d×%d.\nauthtui needs at least %d×%d.\nEnlarge the window, or press q to quit.", m.width, m.height, minWidth, minHeight)
		return block(msg, m.width, m.height)
	}
	var body string
	switch {
	case m.over == overlayHelp:
		body = box(m.st, "Help", m.helpText(m.width-2), m.width, l.bodyH, true)
	case m.over == overlayFindings:
		body = box(m.st, "Findings", m.findingsText(m.width-2, l.bodyH-2), m.width, l.bodyH, true)
	case m.zoom:
		p := m.panes[m.focus]
		body = box(m.st, m.paneTitle(m.focus)+" (zoomed)", p.View(l.rightW-2, l.bodyH-2), l.rightW, l.bodyH, true)
	default:
		var left []string
		for i, p := range m.panes {
			left = append(left, box(m.st, m.paneTitle(i), p.Summary(l.leftW-2, l.leftH[i]-2), l.leftW, l.leftH[i], i == m.focus))
		}
		p := m.panes[m.focus]
		right := box(m.st, m.paneTitle(m.focus), p.View(l.rightW-2, l.bodyH-2), l.rightW, l.bodyH, true)
		body = joinColumns(strings.Join(left, "\n"), right)
	}
	return m.header() + "\n" + body + "\n" + m.hintBar()
}

func (m *Model) paneTitle(i int) string { return fmt.Sprintf("%d %s", i+1, m.panes[i].Title()) }

// allFindings gathers the panes' findings, without repeats.
func (m *Model) allFindings() finding.List {
	var all finding.List
	seen := map[string]bool{}
	for _, p := range m.panes {
		for _, f := range p.Findings() {
			k := string(f.ID) + "\x00" + f.Source + "\x00" + f.Message
			if !seen[k] {
				seen[k] = true
				all = append(all, f)
			}
		}
	}
	return check.Merge(all).Sorted()
}

func (m *Model) header() string {
	src := "no env sources"
	if len(m.sources) > 0 {
		src = strings.Join(m.sources, ", ")
	}
	db := "no database"
	if m.dbLabel != "" {
		db = m.dbLabel
	}
	server := "no server URL"
	if m.baseURL != "" {
		server = m.baseURL
	}
	line1 := m.st.Accent.Render("authtui") + " " + m.st.Dim.Render(textsafe.Clean(src)+" · db "+textsafe.Clean(db)+" · "+textsafe.URL(server))
	return fit(line1, m.width) + "\n" + m.verdictLine()
}

// verdictLine is the header's second line: the one verdict of the check
// pipeline as its mark, ID and headline, how many root causes it names,
// and how many findings f lists. However many findings support a cause,
// it is one cause.
func (m *Model) verdictLine() string {
	tail := fmt.Sprintf("f: findings (%d)", len(m.allFindings()))
	rep := m.ev.report
	if rep == nil {
		return fit(m.st.Dim.Render("reading the env sources… · "+tail), m.width)
	}
	if c := causeCount(rep.Verdict, rep.Healthy); c != "" {
		tail = c + " · " + tail
	}
	tail = " · " + tail
	head := report.VerdictHead(rep.Verdict, rep.Healthy)
	id := m.st.paint(head.Spans[0].Text, head.Spans[0].Tone)
	line := id
	// The headline gets the room the ID and the counts leave, so the
	// counts stay in view on a narrow terminal.
	if room := m.width - lipgloss.Width(id) - len([]rune(tail)) - 2; room >= 12 && len(head.Spans) > 1 {
		line += "  " + report.Clip(strings.TrimSpace(head.Spans[1].Text), room)
	}
	return fit(line+m.st.Dim.Render(tail), m.width)
}

// causeCount says how many root causes a verdict names: one when it
// decided (and how many others stay less likely), the possible ones when
// it could not; nothing when the run is healthy or no rule named a cause.
func causeCount(v check.Verdict, healthy bool) string {
	n := len(v.Alternatives)
	switch {
	case healthy:
		return ""
	case v.Undecided && n == 1:
		return "1 possible cause"
	case v.Undecided && n > 1:
		return fmt.Sprintf("%d possible causes", n)
	case v.Undecided, v.ID == "":
		return ""
	case n > 0:
		return fmt.Sprintf("1 root cause, %d less likely", n)
	}
	return "1 root cause"
}

func (m *Model) hintBar() string {
	if m.status != "" {
		s := m.st.OK
		if m.statusErr {
			s = m.st.Err
		}
		return fit(s.Render(textsafe.Clean(m.status)), m.width)
	}
	var parts []string
	keys := append(append([]key.Binding{}, m.panes[m.focus].Keys()...), m.keys.NextPane, m.keys.Zoom, m.keys.Help, m.keys.Quit)
	if m.over != overlayNone {
		keys = m.keys.overlay()
	} else if p := m.panes[m.focus]; p.Capturing() {
		keys = p.Keys()
		hasEsc := false
		for _, b := range keys {
			hasEsc = hasEsc || b.Help().Key == "esc"
		}
		if !hasEsc {
			keys = append(keys, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave field")))
		}
	}
	for _, b := range keys {
		if b.Enabled() {
			h := b.Help()
			parts = append(parts, m.st.Bold.Render(h.Key)+" "+m.st.Dim.Render(h.Desc))
		}
	}
	return fit(strings.Join(parts, "  "), m.width)
}

func (m *Model) helpText(w int) string {
	var b strings.Builder
	write := func(title string, bs []key.Binding) {
		b.WriteString(m.st.Bold.Render(title) + "\n")
		for _, k := range bs {
			if !k.Enabled() {
				continue
			}
			h := k.Help()
			b.WriteString(fmt.Sprintf("  %-12s %s\n", h.Key, h.Desc))
		}
		b.WriteString("\n")
	}
	// A key the focused pane binds itself is listed there, with its meaning
	// in that pane, not twice.
	own := map[string]bool{}
	for _, b := range m.panes[m.focus].Keys() {
		for _, k := range b.Keys() {
			own[k] = true
		}
	}
	var global []key.Binding
	for _, b := range m.keys.list() {
		if len(b.Keys()) == 0 || !own[b.Keys()[0]] {
			global = append(global, b)
		}
	}
	write("Global", append(global, key.NewBinding(key.WithKeys("1", "2", "3", "4", "5"), key.WithHelp("1-5", "focus a pane"))))
	write(m.paneTitle(m.focus), m.panes[m.focus].Keys())
	for _, line := range report.Wrap("esc leaves a text field · mouse: click focuses a pane, the wheel scrolls, m gives the terminal its selection back · esc or ? closes this help", w) {
		b.WriteString(m.st.Dim.Render(line) + "\n")
	}
	return b.String()
}

// findingsLines are the findings overlay's lines: report.Findings laid
// out in w cells, as `authtui check` prints them.
func (m *Model) findingsLines(w int) []string {
	return m.st.layout([]report.Block{report.Findings(m.allFindings())}, w)
}

func (m *Model) findingsText(w, h int) string {
	lines := m.findingsLines(w)
	start := min(m.findingsScroll, max(0, len(lines)-h))
	return strings.Join(lines[start:], "\n")
}

// reportMetaMsg carries what a report file needs beyond the verdict's
// report: the versions, read from disk in a Cmd.
type reportMetaMsg struct {
	rep  *check.Report
	meta report.Meta
}

// reportCmd starts writing the Markdown report of the current verdict
// (R): the BetterAuth version is looked for on disk in a Cmd; the
// Markdown is then rendered in Update, where the report is not shared
// with a goroutine, and written by another Cmd.
func (m *Model) reportCmd(now time.Time) tea.Cmd {
	rep := m.ev.report
	if rep == nil {
		return func() tea.Msg {
			return StatusMsg{Text: "no report yet: the env sources are still being read", Error: true}
		}
	}
	dirs := report.BetterAuthDirs(rep, m.cfg.Dir)
	meta := report.Meta{Version: m.cfg.Version, Time: now}
	return func() tea.Msg {
		meta.BetterAuth, meta.BetterAuthFrom = report.FindBetterAuth(dirs...)
		return reportMetaMsg{rep: rep, meta: meta}
	}
}

// writeReport renders the report and returns the Cmd that writes it to
// authtui-report-<time>.md in the console's directory, saying where.
func (m *Model) writeReport(msg reportMetaMsg) tea.Cmd {
	var b bytes.Buffer
	if err := report.CheckMarkdown(&b, msg.rep, msg.meta); err != nil {
		return func() tea.Msg { return StatusMsg{Text: "report not written: " + err.Error(), Error: true} }
	}
	dir := m.cfg.Dir
	if dir == "" {
		dir = "."
	}
	name := "authtui-report-" + msg.meta.Time.Format("20060102-150405")
	data := b.Bytes()
	return func() tea.Msg {
		path, err := createReport(dir, name, data)
		if err != nil {
			return StatusMsg{Text: "report not written: " + err.Error(), Error: true}
		}
		return StatusMsg{Text: "report written to " + path}
	}
}

// createReport writes data to dir/name.md, or name-2.md … when R was
// pressed twice in a second: a report already written is never replaced.
func createReport(dir, name string, data []byte) (string, error) {
	var err error
	for i := 1; i <= 9; i++ {
		file := name + ".md"
		if i > 1 {
			file = fmt.Sprintf("%s-%d.md", name, i)
		}
		path := filepath.Join(dir, file)
		var f *os.File
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return path, err
	}
	return "", err
}

// dbLabel shows a database URL as host:port/name, never with its password.
func dbLabel(url string) string {
	t, err := database.ParseTarget(url)
	if err != nil {
		return "(unparsable database URL)"
	}
	return fmt.Sprintf("%s:%d/%s", t.Host, t.Port, t.Database)
}
