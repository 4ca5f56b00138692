package ui

import (
	"fmt"
	"os"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/report"
)

// secretsPane shows every env source's secret by fingerprint, spells out
// mismatches, and re-reads the env files when they change on disk.
type secretsPane struct {
	cfg     *Config
	st      Styles
	focused bool

	loaded  bool
	sources []probe.Source
	report  probe.SecretsReport
	load    finding.List // env-file-unreadable
	// matrix compares the project's services across environments (a
	// discovered project only).
	matrix *report.Block
	sig    string // size+mtime of the env files at the last load
	cursor int
	// seq numbers loads: a reload started by a key and one started by a
	// file change can finish in either order, and only the newest counts.
	seq generation

	keys struct{ Up, Down, Reload key.Binding }
}

// Pane-private messages.
type (
	secretsPollMsg struct{ sig string }
	secretsLoadMsg struct {
		SecretsLoadedMsg
		seq    generation
		sig    string
		load   finding.List
		matrix *report.Block
	}
)

func newSecretsPane(cfg *Config, st Styles) *secretsPane {
	p := &secretsPane{cfg: cfg, st: st}
	p.keys.Up = key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "previous source"))
	p.keys.Down = key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "next source"))
	p.keys.Reload = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "re-read the env files"))
	return p
}

func (p *secretsPane) Title() string { return "Secrets" }

// bindings are the pane's keys, each enabled only where it would do
// something now; Keys (the help) and Update (the handler) both use them.
func (p *secretsPane) bindings() (up, down, reload key.Binding) {
	up, down, reload = p.keys.Up, p.keys.Down, p.keys.Reload
	up.SetEnabled(p.cursor > 0)
	down.SetEnabled(p.cursor < len(p.report.Sources)-1)
	return up, down, reload
}

func (p *secretsPane) Keys() []key.Binding {
	up, down, reload := p.bindings()
	return []key.Binding{reload, up, down}
}
func (p *secretsPane) Capturing() bool   { return false }
func (p *secretsPane) SetFocused(f bool) { p.focused = f }
func (p *secretsPane) Findings() finding.List {
	return append(append(finding.List{}, p.load...), p.report.Findings...)
}
func (p *secretsPane) Init() tea.Cmd { return p.loadCmd() }

// Selection is the selected source's fingerprint: a value safe to paste
// into a chat, unlike the secret.
func (p *secretsPane) Selection() string {
	if p.cursor < len(p.report.Sources) {
		return p.report.Sources[p.cursor].Fingerprint
	}
	return ""
}

// envFiles lists the files to watch: the given ones, or the defaults.
func (p *secretsPane) envFiles() []string {
	if len(p.cfg.EnvFiles) > 0 {
		return p.cfg.EnvFiles
	}
	dir := p.cfg.Dir
	if dir == "" {
		dir = "."
	}
	return []string{dir + "/.env", dir + "/.env.local"}
}

// fileSig summarises the env files' size and modification time; a change
// means "read them again".
func fileSig(files []string) string {
	var b strings.Builder
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			fmt.Fprintf(&b, "%s:%d:%d;", f, st.Size(), st.ModTime().UnixNano())
		} else {
			fmt.Fprintf(&b, "%s:-;", f)
		}
	}
	return b.String()
}

func (p *secretsPane) loadCmd() tea.Cmd {
	cfg := *p.cfg
	files := p.envFiles()
	seq := p.seq.next()
	return func() tea.Msg {
		sig := fileSig(files)
		sources, load := cfg.sources()
		msg := secretsLoadMsg{seq: seq, sig: sig, load: load}
		msg.Sources = sources
		msg.Report = probe.CheckSecrets(sources)
		if cfg.Matrix != nil {
			// The other environments' findings are evidence for the
			// verdict too: they join the report every pane decides from.
			b, fs := cfg.Matrix()
			msg.matrix = &b
			msg.Report.Findings = append(msg.Report.Findings, fs...)
		}
		msg.Config = probe.Resolve(cfg.flags(), sources, cfg.getenv)
		if c := msg.Config.BaseURL; !c.FromFlag() {
			msg.BaseURL = c.Value
		}
		if c := msg.Config.DatabaseURL; !c.FromFlag() {
			msg.DBURL = c.Value
		}
		return msg
	}
}

func (p *secretsPane) pollCmd() tea.Cmd {
	files := p.envFiles()
	return tea.Tick(p.cfg.SecretsPoll, func(time.Time) tea.Msg { return secretsPollMsg{sig: fileSig(files)} })
}

func (p *secretsPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case secretsLoadMsg:
		if !p.seq.current(msg.seq) {
			return nil
		}
		first := !p.loaded
		p.loaded, p.sources, p.report, p.load, p.sig = true, msg.Sources, msg.Report, msg.load, msg.sig
		p.matrix = msg.matrix
		p.cursor = min(p.cursor, max(0, len(p.report.Sources)-1))
		// Re-broadcast as the public message, through the root, so every
		// pane gets the new candidates.
		pub := msg.SecretsLoadedMsg
		cmds := []tea.Cmd{func() tea.Msg { return pub }}
		if first {
			cmds = append(cmds, p.pollCmd())
		}
		return tea.Batch(cmds...)
	case secretsPollMsg:
		if msg.sig != p.sig {
			return tea.Batch(p.loadCmd(), p.pollCmd(), func() tea.Msg { return StatusMsg{Text: "env files changed: secrets re-read"} })
		}
		return p.pollCmd()
	case tea.KeyPressMsg:
		up, down, reload := p.bindings()
		switch {
		case key.Matches(msg, up):
			p.cursor = max(0, p.cursor-1)
		case key.Matches(msg, down):
			p.cursor = min(max(0, len(p.report.Sources)-1), p.cursor+1)
		case key.Matches(msg, reload):
			return p.loadCmd()
		}
	}
	return nil
}

func (p *secretsPane) Summary(w, h int) string {
	if !p.loaded {
		return p.st.Dim.Render("reading env files…")
	}
	gs := report.SecretGroups(p.report)
	secrets := fmt.Sprintf("%d secret(s)", len(gs))
	if len(gs) > 1 {
		secrets = fmt.Sprintf("%d different secrets", len(gs))
	}
	lines := []string{fmt.Sprintf("%d source(s), %s", len(p.report.Sources), secrets)}
	e, wn, _ := p.Findings().Count()
	switch {
	case len(gs) > 1:
		lines = append(lines, p.st.Err.Render("✗ secrets differ"))
	case e > 0:
		lines = append(lines, p.st.Err.Render(fmt.Sprintf("✗ %d error(s)", e)))
	case wn > 0:
		lines = append(lines, p.st.Warn.Render(fmt.Sprintf("! %d warning(s)", wn)))
	case len(gs) == 1:
		lines = append(lines, p.st.OK.Render(fmt.Sprintf("✓ all agree (%s, %d)", gs[0].Fingerprint, len(gs[0].Labels))))
	default:
		lines = append(lines, p.st.Warn.Render("no secret in any source"))
	}
	// Then the sources, as many as fit: which one is the odd one out is
	// what a mismatch is about.
	ref := referenceSecret(p.report, gs)
	for _, s := range p.report.Sources {
		if len(lines) >= h {
			break
		}
		lines = append(lines, p.summaryRow(s, ref, w))
	}
	return block(strings.Join(lines, "\n"), w, h)
}

// referenceSecret is the fingerprint the other sources are compared with
// in the summary: the one most sources hold, on a tie the first source's.
func referenceSecret(rep probe.SecretsReport, gs []report.SecretGroup) string {
	ref, n := "", 0
	for _, s := range rep.Sources {
		if !s.Present {
			continue
		}
		for _, g := range gs {
			if g.Fingerprint == s.Fingerprint && len(g.Labels) > n {
				ref, n = g.Fingerprint, len(g.Labels)
			}
		}
	}
	return ref
}

// summaryRow is one source in the summary: ✓ or ✗, its label (the end of
// the path, which names the service), its fingerprint.
func (p *secretsPane) summaryRow(s probe.SecretStatus, ref string, w int) string {
	mark, fp := p.st.OK.Render("✓"), s.Fingerprint
	switch {
	case !s.Loaded:
		mark, fp = p.st.Err.Render("✗"), "unreadable"
	case s.Default:
		mark, fp = p.st.Err.Render("✗"), "default"
	case !s.Present:
		mark, fp = p.st.Err.Render("✗"), "-"
	case s.Fingerprint != ref:
		mark = p.st.Err.Render("✗")
	}
	if w < 24 {
		return mark + " " + clipLeft(report.SecretLabel(s), w-2)
	}
	lw := w - 3 - len(fp)
	return mark + " " + fit(clipLeft(report.SecretLabel(s), lw), lw) + " " + p.st.Dim.Render(fp)
}

func (p *secretsPane) View(w, h int) string {
	if !p.loaded {
		return block(p.st.Dim.Render("reading env files…"), w, h)
	}
	bs := report.Secrets(p.report)
	// The pane's frame carries the title.
	bs[0].Title, bs[0].Meta = "", ""
	sel := -1
	if t := bs[0].Table; t != nil {
		fitTable(t, w)
		// The table's first line is its head; the cursor's source starts
		// after the rows of the sources above it.
		sel = 1
		for _, s := range p.report.Sources[:min(p.cursor, len(p.report.Sources))] {
			sel += len(report.SecretRows(s, p.report.Findings))
		}
	}
	if fs := p.Findings(); len(fs) > 0 {
		// One line each: the findings pane (f) has their messages.
		f := report.Block{Title: "Findings", Meta: report.Counts(fs) + " · f: findings"}
		for _, x := range fs.Sorted() {
			f.Lines = append(f.Lines, report.Finding(x)[0])
		}
		bs = append(bs, f)
	}
	lines := p.st.layout(bs, w)
	if p.matrix != nil {
		// The project's services × environments first: the sources below
		// are one column of it.
		m := p.st.layout([]report.Block{*p.matrix}, w)
		lines = append(append(m, ""), lines...)
		sel += len(m) + 1
	}
	if p.focused && sel > 0 && sel < len(lines) {
		lines[sel] = p.st.Selected.Render(fit(ansi.Strip(lines[sel]), w))
	}
	return block(strings.Join(lines, "\n"), w, h)
}

// fitTable makes the secrets table fit w cells, in this order: shorten
// the SOURCE cells to 24 cells (keeping the end of each path: the file
// name and its directory say which service it is), leave out BASE URL,
// then ENTROPY, then shorten SOURCE down to 12. A wide pane shows the
// table whole, as the CLI prints it.
func fitTable(t *report.Table, w int) {
	width := func(col int) int {
		n := 0
		if col < len(t.Head) {
			n = ansi.StringWidth(t.Head[col])
		}
		for _, r := range t.Rows {
			if col < len(r) {
				n = max(n, ansi.StringWidth(r[col].Text))
			}
		}
		return n
	}
	rest := func() int {
		n := 0
		for i := 1; i < len(t.Head); i++ {
			n += width(i) + 2
		}
		return n
	}
	src := width(0)
	for _, drop := range []int{6, 3} { // BASE URL, ENTROPY
		if src+rest() <= w {
			return
		}
		if w-rest() >= 24 {
			src = w - rest()
			break
		}
		dropColumn(t, drop)
	}
	src = min(src, max(12, w-rest()))
	for _, r := range t.Rows {
		if len(r) > 0 {
			r[0].Text = clipLeft(r[0].Text, src)
		}
	}
}

// dropColumn removes column i from the table.
func dropColumn(t *report.Table, i int) {
	cut := func(cells []report.Span) []report.Span {
		if i >= len(cells) {
			return cells
		}
		return append(cells[:i:i], cells[i+1:]...)
	}
	t.Head = append(t.Head[:i:i], t.Head[i+1:]...)
	for k, r := range t.Rows {
		t.Rows[k] = cut(r)
	}
}

// clipLeft cuts s to n cells from the left, marking the cut: the end of a
// path is the part that tells files apart.
func clipLeft(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= n {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && ansi.StringWidth(string(r))+1 > n {
		r = r[1:]
	}
	return "…" + string(r)
}
