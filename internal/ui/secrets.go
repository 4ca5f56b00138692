package ui

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
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
	sig     string       // size+mtime of the env files at the last load
	cursor  int
	// seq numbers loads: a reload started by a key and one started by a
	// file change can finish in either order, and only the newest counts.
	seq generation

	keys struct{ Up, Down key.Binding }
}

// Pane-private messages.
type (
	secretsPollMsg struct{ sig string }
	secretsLoadMsg struct {
		SecretsLoadedMsg
		seq  generation
		sig  string
		load finding.List
	}
)

func newSecretsPane(cfg *Config, st Styles) *secretsPane {
	p := &secretsPane{cfg: cfg, st: st}
	p.keys.Up = key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "previous source"))
	p.keys.Down = key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "next source"))
	return p
}

func (p *secretsPane) Title() string       { return "Secrets" }
func (p *secretsPane) Keys() []key.Binding { return []key.Binding{p.keys.Up, p.keys.Down} }
func (p *secretsPane) Capturing() bool     { return false }
func (p *secretsPane) SetFocused(f bool)   { p.focused = f }
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
		sources, load := probe.LoadSources(probe.SourceOptions{EnvFiles: cfg.EnvFiles, Dir: cfg.Dir, Environ: cfg.Environ})
		msg := secretsLoadMsg{seq: seq, sig: sig, load: load}
		msg.Sources = sources
		msg.Report = probe.CheckSecrets(sources)
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
		switch {
		case key.Matches(msg, p.keys.Up):
			p.cursor = max(0, p.cursor-1)
		case key.Matches(msg, p.keys.Down):
			p.cursor = min(max(0, len(p.report.Sources)-1), p.cursor+1)
		case msg.String() == "r":
			return p.loadCmd()
		}
	}
	return nil
}

// groups maps each current-secret fingerprint to the sources that hold it.
func (p *secretsPane) groups() (map[string][]string, []string) {
	g := map[string][]string{}
	var order []string
	for _, s := range p.report.Sources {
		if !s.Present {
			continue
		}
		if _, ok := g[s.Fingerprint]; !ok {
			order = append(order, s.Fingerprint)
		}
		g[s.Fingerprint] = append(g[s.Fingerprint], s.Label)
	}
	sort.Strings(order)
	return g, order
}

func (p *secretsPane) Summary(w, h int) string {
	if !p.loaded {
		return p.st.Dim.Render("reading env files…")
	}
	g, order := p.groups()
	line1 := fmt.Sprintf("%d source(s), %d secret(s)", len(p.report.Sources), len(order))
	var line2 string
	e, wn, _ := p.Findings().Count()
	switch {
	case len(order) > 1:
		line2 = p.st.Err.Render("✗ secrets differ")
	case e > 0:
		line2 = p.st.Err.Render(fmt.Sprintf("✗ %d error(s)", e))
	case wn > 0:
		line2 = p.st.Warn.Render(fmt.Sprintf("! %d warning(s)", wn))
	case len(order) == 1:
		for fp, l := range g {
			line2 = p.st.OK.Render(fmt.Sprintf("✓ all agree (%s, %d)", fp, len(l)))
		}
	default:
		line2 = p.st.Warn.Render("no secret in any source")
	}
	return block(line1+"\n"+line2, w, h)
}

func (p *secretsPane) View(w, h int) string {
	if !p.loaded {
		return block(p.st.Dim.Render("reading env files…"), w, h)
	}
	var lines []string
	if len(p.report.Sources) == 0 {
		lines = append(lines, p.st.Warn.Render("No env sources."), "Start with --env-file PATH (repeatable), or run where .env is.")
	}
	// The source column takes what the fixed columns leave, so the table
	// fits 80 columns and uses a wide terminal.
	lw := 6
	for _, s := range p.report.Sources {
		lw = max(lw, len(s.Label))
	}
	lw = max(8, min(lw, w-20-5-13-14))
	row := func(src, variable, length, fp, status string) string {
		return fmt.Sprintf("%s %-20s %4s %-12s %s", fit(src, lw), variable, length, fp, status)
	}
	lines = append(lines, p.st.Bold.Render(row("SOURCE", "VARIABLE", "LEN", "FINGERPRINT", "STATUS")))
	for i, s := range p.report.Sources {
		status, variable, length := p.st.OK.Render("✓"), s.Variable, "-"
		switch {
		case !s.Loaded:
			status, variable = p.st.Err.Render("✗ "+textsafe.Clean(s.Error)), "(unreadable)"
		case s.Default:
			status, variable = p.st.Err.Render("✗ no secret → default"), "-"
		case s.Whitespace != "":
			status = p.st.Err.Render("✗ " + s.Whitespace)
		}
		if s.Present {
			length = fmt.Sprint(s.Length)
			if s.Whitespace == "" && (s.Length < 32 || s.EntropyBits < 120) {
				status = p.st.Warn.Render("! weak")
			}
		}
		r := row(textsafe.Clean(s.Label), variable, length, s.Fingerprint, status)
		if i == p.cursor && p.focused {
			r = p.st.Selected.Render(fit(ansi.Strip(r), w))
		}
		lines = append(lines, r)
		for _, v := range s.Versions {
			cur := ""
			if v.Current {
				cur = " current"
			}
			lines = append(lines, p.st.Dim.Render(row("", "└ version "+v.Version, fmt.Sprint(v.Length), v.Fingerprint, cur)))
		}
		for _, v := range s.Variables {
			if !v.Used && v.Name != "BETTER_AUTH_SECRETS" {
				lines = append(lines, p.st.Dim.Render(row("", "└ "+v.Name, fmt.Sprint(v.Length), v.Fingerprint, "ignored")))
			}
		}
	}
	g, order := p.groups()
	lines = append(lines, "")
	switch {
	case len(order) > 1:
		lines = append(lines, p.st.Err.Render(fmt.Sprintf("✗ %d different secrets:", len(order))))
		for _, fp := range order {
			lines = append(lines, fmt.Sprintf("  %s  %s", fp, textsafe.Clean(strings.Join(g[fp], ", "))))
		}
		lines = append(lines, p.st.Dim.Render("  A cookie signed by one is null for the others."))
	case len(order) == 1:
		lines = append(lines, p.st.OK.Render("✓ every source with a secret agrees"))
	}
	fs := p.Findings().Sorted()
	if len(fs) > 0 {
		lines = append(lines, "")
		for _, f := range fs {
			lines = append(lines, p.st.Severity(f.Severity)+" "+string(f.ID))
		}
	}
	return block(strings.Join(lines, "\n"), w, h)
}
