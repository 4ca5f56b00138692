package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// inspMaxInput caps a paste, like `authtui decode` does: a real paste is a
// few KB; a mistaken 100 MB clipboard must not eat memory.
const inspMaxInput = 16 << 20

// inspectorPane decodes and verifies what the user pastes (a cookie, a
// Cookie or Set-Cookie header, a curl command, a bearer token) against the
// candidate secrets, and looks the session tokens up in the database.
//
// The paste is kept in memory only and never shown: a cookie value is a
// live credential. The view shows its size and kind, token prefixes and
// fingerprints, and what the probes found.
type inspectorPane struct {
	cfg     *Config
	st      Styles
	focused bool

	input   textinput.Model
	editing bool // the paste field has focus: Capturing

	raw     string // the last paste or typed input; memory only
	rawKind string // what the decoder made of it, once decoded

	candidates []probe.Candidate
	candSig    string
	baseURL    string // from the env sources; Config.Login.BaseURL wins
	db         *database.DB
	schema     *database.Schema

	seq      generation // of the latest decode; older results are dropped
	decoding bool       // a decode for seq is in flight
	lookup   bool       // a token lookup for seq is in flight
	cancel   context.CancelFunc
	result   *inspResult
	scroll   int
	notice   string // why the last input was refused

	// The body is rendered once per result and width, not per frame: the
	// console renders after every message (ticks included), and styling
	// a few thousand lines each time kept a core busy with a big paste on
	// screen. rev counts the results; render holds the last rendering.
	rev    int
	render inspRender
	lastW  int // the width of the last View, for scrolling bounds

	keys struct {
		Edit, Decode, Leave, Clear, Up, Down, PageUp, PageDown key.Binding
	}
}

// Pane-private messages. Each carries the decode sequence number it
// belongs to, so a slow decode of an old paste never overwrites a new one.
type (
	inspDecodedMsg struct {
		seq generation
		res *inspResult
	}
	inspLookedUpMsg struct {
		seq generation
		res *inspResult
	}
)

// inspTone is how a line reads: it picks the style and, without colour,
// the line carries its own ✓ ✗ ! marks.
type inspTone int

const (
	toneNone inspTone = iota
	toneOK
	toneWarn
	toneErr
	toneDim
)

type inspLine struct {
	label, text string
	tone        inspTone
}

// inspCookie is one decoded credential, already formatted and sanitized:
// a View only styles and clips these strings.
type inspCookie struct {
	name  string // cleaned, clipped
	named bool   // a real name, not "(unnamed)": worth copying
	meta  string // kind · from · size
	lines []inspLine
	token bool // carries a session token the database can be asked about
}

// inspRender is the body rendered for one result at one width. Every
// cookie's first line starts with two spaces, where View puts the
// selection mark.
type inspRender struct {
	rev, width int
	lines      []string
}

// inspResult is everything the view needs of one decode: built in the Cmd
// so that View and Update never touch the (possibly huge) paste itself.
type inspResult struct {
	size        int
	kind        string
	cookies     []inspCookie
	starts      []int        // the body line where each cookie begins
	cookieRows  int          // body lines the cookies take
	shown       string       // "46,397 cookies, showing 200", or ""
	found       int          // cookies found, listed or not
	findings    finding.List // messages clipped and cleaned
	sorted      finding.List // findings, errors first
	errs, warns int
	ignored     string
	url         string
	candidates  int
	signedBy    []string // short labels of the sources that verify a cookie
	anyBad      bool     // a signed value no candidate accepts
	dbState     string   // "", "checked", "lookup failed: …"
	rows        []string // session-valid / session-not-found / … per token
	elapsed     time.Duration

	// rep is the raw report, kept for the token lookup (it holds the
	// tokens, which no rendering ever reads).
	rep probe.DecodeReport
}

func newInspectorPane(cfg *Config, st Styles) *inspectorPane {
	p := &inspectorPane{cfg: cfg, st: st}
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "paste or type a cookie, Set-Cookie, curl or Bearer"
	// The value is a credential: masked like a password, so a screenshot
	// or a shoulder never sees it.
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.CharLimit = 64 << 10
	in.SetWidth(40)
	p.input = in
	k := &p.keys
	k.Edit = key.NewBinding(key.WithKeys("i", "enter"), key.WithHelp("i/enter", "paste field"))
	k.Decode = key.NewBinding(key.WithKeys("ctrl+s", "enter"), key.WithHelp("ctrl+s/enter", "decode"))
	k.Leave = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave and decode"))
	k.Clear = key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "clear"))
	k.Up = key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "scroll up"))
	k.Down = key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "scroll down"))
	k.PageUp = key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up"))
	k.PageDown = key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down"))
	return p
}

func (p *inspectorPane) Title() string     { return "Cookie inspector" }
func (p *inspectorPane) Init() tea.Cmd     { return nil }
func (p *inspectorPane) Capturing() bool   { return p.editing }
func (p *inspectorPane) SetFocused(f bool) { p.focused = f }

func (p *inspectorPane) Keys() []key.Binding {
	if p.editing {
		return []key.Binding{p.keys.Decode}
	}
	return []key.Binding{p.keys.Edit, p.keys.Clear, p.keys.Up, p.keys.Down}
}

// Findings are the decode's findings (and the database lookup's).
func (p *inspectorPane) Findings() finding.List {
	if p.result == nil {
		return nil
	}
	return p.result.findings
}

// Selection is the name of the cookie at the top of the view, else the
// first finding's ID: never a value, a token or a secret.
func (p *inspectorPane) Selection() string {
	if p.result == nil {
		return ""
	}
	if i := p.selected(); i >= 0 && p.result.cookies[i].named {
		return p.result.cookies[i].name
	}
	if fs := p.result.sorted; len(fs) > 0 {
		return string(fs[0].ID)
	}
	return ""
}

func (p *inspectorPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case SecretsLoadedMsg:
		p.baseURL = msg.BaseURL
		sig := candidatesSig(msg.Report.Candidates)
		if sig == p.candSig {
			return nil
		}
		p.candidates, p.candSig = msg.Report.Candidates, sig
		if p.raw != "" {
			return p.decode(false)
		}
	case DBReadyMsg:
		// The database pane may repeat this as a heartbeat: only a new
		// connection or schema changes what a lookup answers.
		if msg.DB == p.db && msg.Schema == p.schema {
			return nil
		}
		p.db, p.schema = msg.DB, msg.Schema
		if p.raw != "" {
			return p.decode(false)
		}
	case inspDecodedMsg:
		if !p.seq.current(msg.seq) {
			return nil
		}
		p.decoding, p.rawKind = false, msg.res.kind
		p.setResult(msg.res)
		return p.lookupCmd()
	case inspLookedUpMsg:
		if !p.seq.current(msg.seq) {
			return nil
		}
		p.lookup = false
		p.setResult(msg.res)
	case tea.PasteMsg:
		// A bracketed paste is the input itself, whether or not the field
		// has focus: it never goes through the text field, which would
		// copy a 5 MB paste rune by rune on every frame.
		p.leaveField()
		return p.accept(msg.Content)
	case tea.MouseWheelMsg:
		switch msg.Mouse().Button {
		case tea.MouseWheelUp:
			p.scroll = max(0, p.scroll-3)
		case tea.MouseWheelDown:
			p.scroll = min(p.maxScroll(), p.scroll+3)
		}
	case tea.KeyPressMsg:
		if p.editing {
			return p.editKey(msg)
		}
		switch {
		case key.Matches(msg, p.keys.Edit):
			p.editing, p.notice = true, ""
			p.input.Reset()
			return p.input.Focus()
		case key.Matches(msg, p.keys.Clear):
			p.clear()
		case key.Matches(msg, p.keys.Up):
			p.scroll = max(0, p.scroll-1)
		case key.Matches(msg, p.keys.Down):
			p.scroll = min(p.maxScroll(), p.scroll+1)
		case key.Matches(msg, p.keys.PageUp):
			p.scroll = max(0, p.scroll-10)
		case key.Matches(msg, p.keys.PageDown):
			p.scroll = min(p.maxScroll(), p.scroll+10)
		}
	default:
		// Cursor blinks and clipboard pastes (ctrl+v) belong to the field.
		if p.editing {
			var cmd tea.Cmd
			p.input, cmd = p.input.Update(msg)
			return cmd
		}
	}
	return nil
}

// editKey handles a key while the field has focus: everything but decode
// and leave goes to the text input.
func (p *inspectorPane) editKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, p.keys.Decode), key.Matches(msg, p.keys.Leave):
		typed := p.input.Value()
		p.leaveField()
		if strings.TrimSpace(typed) == "" {
			return nil // leaving an empty field keeps the last result
		}
		return p.accept(typed)
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	return cmd
}

func (p *inspectorPane) leaveField() {
	p.editing = false
	p.input.Blur()
	// The typed value is a credential: it lives on only as p.raw.
	p.input.Reset()
}

// accept takes new input and starts decoding it.
func (p *inspectorPane) accept(s string) tea.Cmd {
	if len(s) > inspMaxInput {
		p.notice = fmt.Sprintf("paste of %s refused: larger than %s; paste the cookie header, not a whole capture", insBytes(len(s)), insBytes(inspMaxInput))
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return nil
	}
	p.raw, p.rawKind, p.notice, p.scroll = s, "", "", 0
	return p.decode(true)
}

func (p *inspectorPane) clear() {
	p.seq.next() // drops whatever is in flight
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.raw, p.rawKind, p.notice = "", "", ""
	p.setResult(nil)
	p.decoding, p.lookup, p.scroll = false, false, 0
}

// decode starts a decode of p.raw. fresh drops the old result (a new
// paste); a re-check (new secrets, new database) keeps it on screen until
// the new one arrives.
func (p *inspectorPane) decode(fresh bool) tea.Cmd {
	p.seq.next()
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.decoding, p.lookup = true, false
	if fresh {
		p.setResult(nil)
	}
	seq, raw := p.seq, p.raw
	opts := probe.DecodeOptions{
		Candidates:   p.candidates,
		BaseURL:      p.siteURL(),
		Origin:       p.cfg.Login.Origin,
		CookiePrefix: p.cfg.Login.CookiePrefix,
	}
	dbOn := p.db != nil && p.schema != nil && p.schema.Session != nil
	return func() tea.Msg {
		start := time.Now()
		opts.Now = start
		rep, in := probe.DecodeInput(raw, opts)
		res := inspBuild(rep, len(raw), inspInputKind(in), dbOn, "")
		res.elapsed = time.Since(start)
		return inspDecodedMsg{seq: seq, res: res}
	}
}

func (p *inspectorPane) siteURL() string {
	if p.cfg.Login.BaseURL != "" {
		return p.cfg.Login.BaseURL
	}
	return p.baseURL
}

// lookupCmd asks the database about the decoded tokens, with a timeout
// and a cancel the next decode or clear uses.
func (p *inspectorPane) lookupCmd() tea.Cmd {
	res := p.result
	if res == nil || p.db == nil || p.schema == nil || p.schema.Session == nil {
		return nil
	}
	hasToken := false
	for _, c := range res.cookies {
		hasToken = hasToken || c.token
	}
	if !hasToken {
		return nil
	}
	timeout := p.cfg.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	p.cancel, p.lookup = cancel, true
	seq, db, schema := p.seq, p.db, p.schema
	// LookupTokens writes into the report: give it copies, so the Cmd
	// never shares memory with the model.
	rep := res.rep
	rep.Cookies = append([]probe.CookieReport(nil), res.rep.Cookies...)
	rep.Findings = append(finding.List(nil), res.rep.Findings...)
	size, kind, elapsed := res.size, res.kind, res.elapsed
	return func() tea.Msg {
		defer cancel()
		state := "checked"
		if err := rep.LookupTokens(ctx, tokenLooker(db, schema)); err != nil {
			state = "lookup failed: " + err.Error()
			if ctx.Err() == context.DeadlineExceeded {
				state = fmt.Sprintf("lookup timed out after %s", timeout)
			}
		}
		out := inspBuild(rep, size, kind, true, state)
		out.elapsed = elapsed
		return inspLookedUpMsg{seq: seq, res: out}
	}
}

// candidatesSig identifies a candidate list by what verification depends
// on; an identical re-read of the env files changes nothing.
func candidatesSig(cs []probe.Candidate) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%s;", c.Label, c.Variable, c.Version, c.Role, c.Fingerprint())
	}
	return b.String()
}

// inspInputKind says in a few words what the paste was, without any of
// its values.
func inspInputKind(in probe.InputSummary) string {
	if in.Curl {
		return fmt.Sprintf("curl command, %s credential(s)", probe.Thousands(in.Items))
	}
	var parts []string
	if n := in.Kinds[probe.ItemCookie]; n > 0 {
		from := "Cookie header"
		if in.DevTools {
			from = "DevTools rows"
		}
		parts = append(parts, fmt.Sprintf("%s, %s value(s)", from, probe.Thousands(n)))
	}
	if n := in.Kinds[probe.ItemSetCookie]; n > 0 {
		parts = append(parts, fmt.Sprintf("%s Set-Cookie line(s)", probe.Thousands(n)))
	}
	if n := in.Kinds[probe.ItemBearer]; n > 0 {
		parts = append(parts, "bearer token")
	}
	if n := in.Kinds[probe.ItemBare]; n > 0 {
		parts = append(parts, "bare value")
	}
	if len(parts) == 0 {
		return "nothing recognisable"
	}
	return strings.Join(parts, " + ")
}

// inspBuild formats a report for display. Every string that came from the
// paste or the database is cleaned and clipped here, once, not per frame.
func inspBuild(rep probe.DecodeReport, size int, kind string, dbOn bool, dbState string) *inspResult {
	res := &inspResult{size: size, kind: kind, rep: rep, candidates: len(rep.Candidates), dbState: dbState, url: clip(textsafe.URL(rep.URL), 120),
		shown: rep.Shown(), found: rep.CookiesFound}
	if len(rep.Ignored) > 0 {
		res.ignored = insSafe(strings.Join(rep.Ignored, "; "), 300)
	}
	short := insShortLabels(rep.Candidates)
	seen := map[string]bool{}
	for _, c := range rep.Cookies {
		ic := inspCookie{name: clip(c.Name, 80), token: c.Token() != "" && (c.Kind == probe.KindSessionToken || c.Kind == probe.KindBearer)}
		ic.named = ic.name != ""
		if !ic.named {
			ic.name = "(unnamed)"
		}
		ic.meta = fmt.Sprintf("%s · %s · %s", c.Kind, clip(c.From, 40), insBytes(c.Size))
		add := func(label, text string, tone inspTone) {
			ic.lines = append(ic.lines, inspLine{label: label, text: text, tone: tone})
		}
		if c.TokenPrefix != "" {
			add("token", clip(c.TokenPrefix, 12), toneNone)
		}
		if c.Encoding != "" {
			add("encoding", clip(c.Encoding, 30), toneDim)
		}
		if c.Problem != "" && c.Cache == nil {
			add("problem", insSafe(c.Problem, 300), toneErr)
		}
		if c.Signature != "" {
			text, tone := insSignature(c)
			add("signature", text, tone)
			if signature(c.Signature) == sigValid {
				for _, l := range c.VerifiedBy {
					if s := short[l]; !seen[s] {
						seen[s] = true
						res.signedBy = append(res.signedBy, s)
					}
				}
			} else {
				res.anyBad = true
			}
		}
		if ch := c.Cache; ch != nil {
			line, tone := insCacheLine(ch)
			add("cache", line, tone)
			if ct := ch.Contents; ct != nil {
				var parts []string
				if ct.SessionID != "" {
					parts = append(parts, "session "+clip(ct.SessionID, 40))
				}
				if ct.Email != "" {
					parts = append(parts, clip(ct.Email, 60))
				}
				if ct.UserID != "" {
					parts = append(parts, "user "+clip(ct.UserID, 40))
				}
				if ct.TokenPrefix != "" {
					parts = append(parts, "token "+clip(ct.TokenPrefix, 12))
				}
				add("contents", strings.Join(parts, " · "), toneNone)
			}
			if ch.Problem != "" {
				add("problem", insSafe(ch.Problem, 300), toneErr)
			}
		}
		if sc := c.SetCookie; sc != nil {
			tone := toneNone
			if sc.Cleared {
				tone = toneWarn
			}
			add("attributes", insAttrs(sc), tone)
		}
		if ic.token {
			switch r := c.SessionRow; {
			case r != nil:
				text, tone, state := insRow(r)
				add("database", text, tone)
				res.rows = append(res.rows, state)
			case !dbOn:
				add("database", "not connected: token not looked up", toneDim)
			case dbState == "":
				add("database", "looking up the token…", toneDim)
			default:
				add("database", insSafe(dbState, 200), toneErr)
			}
		}
		res.cookies = append(res.cookies, ic)
	}
	for _, f := range rep.Findings {
		f.Message = insSafe(f.Message, 600)
		f.Source = insSafe(f.Source, 80)
		res.findings = append(res.findings, f)
	}
	res.sorted = res.findings.Sorted()
	res.errs, res.warns, _ = res.findings.Count()
	for _, c := range res.cookies {
		res.starts = append(res.starts, res.cookieRows)
		res.cookieRows += 2 + len(c.lines)
	}
	return res
}

func insSignature(c probe.CookieReport) (string, inspTone) {
	var parts []string
	for _, m := range c.Matches {
		s := clip(m.Label, 60)
		if m.Version != "" {
			s += " v" + clip(m.Version, 10)
		}
		if m.Role == probe.RoleCurrent || m.Role == probe.RoleDefault {
			s += " (" + string(m.Role) + ")"
		} else {
			s += fmt.Sprintf(" (%s, %s)", clip(m.Variable, 30), m.Role)
		}
		parts = append(parts, s)
	}
	switch signature(c.Signature) {
	case sigValid:
		return "✓ valid, verified by " + strings.Join(parts, ", "), toneOK
	case sigMalformed:
		return "✗ malformed", toneErr
	default:
		if len(parts) > 0 {
			return "✗ invalid for every server as configured; matches only " + strings.Join(parts, ", "), toneErr
		}
		return "✗ invalid: no candidate secret verifies it", toneErr
	}
}

func insCacheLine(ch *probe.CacheReport) (string, inspTone) {
	line, tone := clip(ch.Strategy, 20), toneNone
	if ch.Chunks > 0 {
		line += fmt.Sprintf(", %d chunks", ch.Chunks)
	}
	if !ch.ExpiresAt.IsZero() {
		rel := "expires"
		if ch.Expired {
			rel, tone = "! expired", toneWarn
		}
		line += fmt.Sprintf(", %s %s", rel, ch.ExpiresAt.Local().Format(time.DateTime))
	}
	if ch.KeyID != "" {
		k := "unknown key"
		if ch.KeyIDLabel != "" {
			k = "key of " + clip(ch.KeyIDLabel, 60)
		}
		line += ", kid " + clip(ch.KeyID, 16) + " (" + k + ")"
	}
	if !ch.Readable {
		line += ", unreadable"
	}
	return line, tone
}

func insAttrs(sc *probe.SetCookieReport) string {
	var parts []string
	ss := sc.SameSite
	if ss == "" {
		ss = "(unset → Lax)"
	}
	parts = append(parts, "SameSite="+clip(ss, 20))
	if sc.Secure {
		parts = append(parts, "Secure")
	}
	if sc.HTTPOnly {
		parts = append(parts, "HttpOnly")
	}
	if sc.Partitioned {
		parts = append(parts, "Partitioned")
	}
	if sc.Domain != "" {
		parts = append(parts, "Domain="+clip(sc.Domain, 60))
	}
	if sc.Path != "" {
		parts = append(parts, "Path="+clip(sc.Path, 60))
	}
	switch {
	case sc.MaxAge != nil:
		parts = append(parts, fmt.Sprintf("Max-Age=%d (%s)", *sc.MaxAge, time.Duration(*sc.MaxAge)*time.Second))
	case !sc.Expires.IsZero():
		parts = append(parts, "Expires="+sc.Expires.Format(time.RFC1123))
	default:
		parts = append(parts, "session cookie (no Max-Age)")
	}
	if sc.Cleared {
		parts = append(parts, "CLEARED")
	}
	if !sc.Parsed {
		parts = append(parts, "(net/http rejects this line)")
	}
	return strings.Join(parts, "; ")
}

// insRow renders a database lookup and names its state the way the
// findings do.
func insRow(r *probe.TokenLookup) (string, inspTone, string) {
	id := clip(r.SessionID, 40)
	switch {
	case !r.Found:
		return "✗ session-not-found: no session row holds this token", toneErr, "session-not-found"
	case r.Expired:
		return fmt.Sprintf("✗ session-expired: session %s expired %s", id, r.ExpiresAt.Local().Format(time.DateTime)), toneErr, "session-expired"
	case !r.UserExists:
		return fmt.Sprintf("✗ session-user-missing: session %s, user %s is gone", id, clip(r.UserID, 40)), toneErr, "session-user-missing"
	default:
		return fmt.Sprintf("✓ session-valid: session %s of %s until %s", id, clip(r.Email, 60), r.ExpiresAt.Local().Format(time.DateTime)), toneOK, "session-valid"
	}
}

// ---- view ---------------------------------------------------------------------

func (p *inspectorPane) tone(t inspTone, s string) string {
	switch t {
	case toneOK:
		return p.st.OK.Render(s)
	case toneWarn:
		return p.st.Warn.Render(s)
	case toneErr:
		return p.st.Err.Render(s)
	case toneDim:
		return p.st.Dim.Render(s)
	}
	return s
}

// header is the paste field or the paste's description; it never shows
// the value itself.
func (p *inspectorPane) header() []string {
	var lines []string
	switch {
	case p.editing:
		lines = append(lines, p.input.View(),
			p.st.Dim.Render(fmt.Sprintf("%d characters typed (hidden) · ctrl+s or enter decodes · esc leaves", len(p.input.Value()))))
	case p.raw == "":
		lines = append(lines, p.st.Bold.Render("Paste a cookie")+p.st.Dim.Render(" (terminal paste anywhere in this pane, or i to type)"),
			p.st.Dim.Render("a value, Cookie or Set-Cookie headers, a curl command, Authorization: Bearer, DevTools rows"))
	default:
		what := "pasted " + insBytes(len(p.raw))
		if p.rawKind != "" {
			what += " · " + p.rawKind
		}
		state := ""
		switch {
		case p.decoding:
			state = p.st.Accent.Render(" · decoding…")
		case p.lookup:
			state = p.st.Accent.Render(" · looking up tokens…")
		case p.result != nil && p.result.elapsed > 0:
			state = p.st.Dim.Render(" · decoded in " + stepDur(p.result.elapsed))
		}
		lines = append(lines, p.st.Bold.Render(what)+state,
			p.st.Dim.Render(fmt.Sprintf("checked against %d candidate secret(s) · i: type · c: clear", len(p.candidates))))
	}
	if p.notice != "" {
		lines = append(lines, p.st.Err.Render(p.notice))
	}
	return append(lines, "")
}

// setResult shows a new result; its body is rendered on the next View.
func (p *inspectorPane) setResult(res *inspResult) {
	p.result = res
	p.rev++
}

// body is the result rendered at width w: the cookies (each first line
// with a blank selection mark), the URL and what was ignored, then the
// findings wrapped to w. It is rendered once per result and width.
func (p *inspectorPane) body(w int) []string {
	res := p.result
	if res == nil {
		return nil
	}
	if r := p.render; r.rev == p.rev && r.width == w && r.lines != nil {
		return r.lines
	}
	lines := make([]string, 0, res.cookieRows+4*len(res.findings)+8)
	if res.shown != "" {
		// Above the cookies, which then start two lines down (bodyOffset).
		lines = append(lines, p.st.Bold.Render(res.shown), "")
	}
	for _, c := range res.cookies {
		lines = append(lines, "  "+p.st.Bold.Render(c.name)+"  "+p.st.Dim.Render(c.meta))
		for _, l := range c.lines {
			lines = append(lines, fmt.Sprintf("    %-10s ", l.label)+p.tone(l.tone, l.text))
		}
		lines = append(lines, "")
	}
	var extra []string
	if res.url != "" {
		extra = append(extra, p.st.Dim.Render("URL: "+res.url))
	}
	if res.ignored != "" {
		extra = append(extra, p.st.Dim.Render("Ignored: "+res.ignored))
	}
	if len(extra) > 0 {
		lines = append(append(lines, extra...), "")
	}
	if len(res.sorted) > 0 {
		lines = append(lines, p.st.Bold.Render("Findings"))
		for _, f := range res.sorted {
			lines = append(lines, p.st.Severity(f.Severity)+" "+p.st.Bold.Render(string(f.ID)))
			for _, l := range wrap(f.Message, w-4) {
				lines = append(lines, "    "+p.st.Dim.Render(l))
			}
		}
	}
	// Clipped here, once: a View then copies the visible lines as they are
	// and never measures them again.
	for i, l := range lines {
		lines[i] = insFit(l, w)
	}
	p.render = inspRender{rev: p.rev, width: w, lines: lines}
	return lines
}

// insFit clips a styled line to w cells (without padding it: the frame
// pads).
func insFit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, max(w, 0), "…")
	}
	return s
}

// bodyOffset is where the first cookie starts in the body.
func (p *inspectorPane) bodyOffset() int {
	if p.result != nil && p.result.shown != "" {
		return 2
	}
	return 0
}

// selected is the cookie whose block is at the top of the view: scrolling
// is how a cookie is selected for `y`.
func (p *inspectorPane) selected() int {
	if p.result == nil || len(p.result.cookies) == 0 {
		return -1
	}
	top := p.scroll - p.bodyOffset()
	sel := 0
	for i, s := range p.result.starts {
		if s <= top {
			sel = i
		}
	}
	return sel
}

func (p *inspectorPane) maxScroll() int {
	if p.result == nil {
		return 0
	}
	w := p.lastW
	if w <= 0 {
		w = 60
	}
	return len(p.body(w)) + 3
}

func (p *inspectorPane) View(w, h int) string {
	head := p.header()
	if w <= 0 || h <= 0 {
		return ""
	}
	p.lastW = w
	avail := h - len(head)
	if avail <= 0 {
		return block(strings.Join(head, "\n"), w, h)
	}
	for i, l := range head {
		head[i] = insFit(l, w)
	}
	var body []string
	switch {
	case p.result != nil:
		body = p.body(w)
	case p.decoding:
		body = []string{insFit(p.st.Accent.Render("decoding…"), w)}
	}
	start := min(p.scroll, max(0, len(body)-avail))
	end := min(len(body), start+avail)
	// Only the visible window is copied and decorated: the rendering
	// itself is shared by every frame.
	win := append(make([]string, 0, avail+len(head)), head...)
	win = append(win, body[start:end]...)
	vis := win[len(head):]
	if sel := p.selected(); sel >= 0 && p.focused && p.result != nil {
		if i := p.bodyOffset() + p.result.starts[sel] - start; i >= 0 && i < len(vis) && strings.HasPrefix(vis[i], "  ") {
			vis[i] = p.st.Accent.Render("▸ ") + strings.TrimPrefix(vis[i], "  ")
		}
	}
	if start > 0 && len(vis) > 0 {
		vis[0] = insFit(p.st.Dim.Render(fmt.Sprintf("↑ %d more line(s) (k)", start)), w)
	}
	if end < len(body) && end > start {
		vis[len(vis)-1] = insFit(p.st.Dim.Render(fmt.Sprintf("↓ %d more line(s) (j)", len(body)-end+1)), w)
	}
	// Every line is at most w wide and there are at most h of them: the
	// frame pads them, so they are not measured and padded twice.
	return strings.Join(win, "\n")
}

func (p *inspectorPane) Summary(w, h int) string {
	var lines []string
	switch {
	case p.editing:
		lines = []string{p.st.Accent.Render("typing a cookie…"), p.st.Dim.Render("ctrl+s decodes · esc leaves")}
	case p.raw == "":
		lines = []string{"paste a cookie (i)"}
		if p.notice != "" {
			lines = append(lines, p.st.Err.Render(p.notice))
		}
	case p.result == nil:
		lines = []string{p.st.Accent.Render("decoding " + insBytes(len(p.raw)) + "…")}
	default:
		res := p.result
		first := fmt.Sprintf("%s cookies", probe.Thousands(res.found))
		switch {
		case res.found == 1:
			first = "1 cookie"
		case res.found > len(res.cookies):
			first += fmt.Sprintf(" (%d shown)", len(res.cookies))
		}
		switch {
		case len(res.signedBy) > 0:
			first += " · signed by " + strings.Join(res.signedBy, ", ")
		case res.anyBad:
			first += " · " + p.st.Err.Render("✗ not verified")
		}
		lines = append(lines, first)
		fs := res.sorted
		switch {
		case res.errs > 0:
			more := ""
			if res.errs > 1 {
				more = fmt.Sprintf(" (+%d)", res.errs-1)
			}
			lines = append(lines, p.st.Err.Render("✗ "+string(fs[0].ID)+more))
		case res.warns > 0:
			lines = append(lines, p.st.Warn.Render("! "+string(fs[0].ID)))
		default:
			lines = append(lines, p.st.OK.Render("✓ no problem found"))
		}
		switch {
		case p.lookup:
			lines = append(lines, p.st.Dim.Render("db: looking up…"))
		case len(res.rows) > 0:
			lines = append(lines, p.st.Dim.Render("db: "+strings.Join(res.rows, ", ")))
		}
	}
	return block(strings.Join(lines, "\n"), w, h)
}

// insSafe is clip for free text that may quote a credential (a
// database error, a finding about a pasted value): cut by textsafe.Redact
// first. The prefix it looks at is bounded, as clip's, but larger, so
// that a credential is cut whole rather than shown up to the clip.
func insSafe(s string, n int) string {
	if limit := 8*n + 256; len(s) > limit {
		s = s[:limit]
	}
	return clip(textsafe.Redact(s), n)
}

// insBytes shows a size the way a person reads it.
func insBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// insShortLabels maps each source label to its file name, or to its last
// two path elements where file names collide (auth/.env, api/.env).
func insShortLabels(cs []probe.Candidate) map[string]string {
	base := map[string][]string{}
	for _, c := range cs {
		b := filepath.Base(c.Label)
		found := false
		for _, l := range base[b] {
			found = found || l == c.Label
		}
		if !found {
			base[b] = append(base[b], c.Label)
		}
	}
	out := map[string]string{}
	for b, labels := range base {
		for _, l := range labels {
			s := b
			if len(labels) > 1 {
				s = filepath.Join(filepath.Base(filepath.Dir(l)), b)
			}
			out[l] = clip(s, 40)
		}
	}
	return out
}

// signature is a probe.CookieReport's Signature, as the decoder sets it.
type signature string

const (
	sigValid     signature = "valid"
	sigMalformed signature = "malformed"
)

// tokenLooker looks tokens up in db's session table, for
// (*probe.DecodeReport).LookupTokens.
func tokenLooker(db *database.DB, schema *database.Schema) probe.TokenLooker {
	return probe.TokenLookerFunc(func(ctx context.Context, token, source string) (probe.TokenLookup, finding.List, error) {
		row, fs, err := db.LookupToken(ctx, schema, token, source)
		return probe.TokenLookup(row), fs, err
	})
}
