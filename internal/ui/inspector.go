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
	"github.com/authtui/authtui/internal/probe/jwtcheck"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
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

	keys inspKeys
}

type inspKeys struct {
	Edit, Decode, Leave, Clear, Up, Down, PageUp, PageDown key.Binding
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

// inspCookie is what the pane needs of one decoded credential besides its
// lines (which report.Decode builds): its name for Selection, and whether
// the database can be asked about it.
type inspCookie struct {
	name  string // cleaned, clipped (report.CookieName)
	named bool   // a real name, not "(unnamed)": worth copying
	token bool   // carries a session token the database can be asked about
}

// inspRender is the body rendered for one result at one width. Every line
// starts with a two-cell gutter, where View puts the selection mark on
// the selected cookie's title line.
type inspRender struct {
	rev, width int
	lines      []string
	starts     []int // the body line of each cookie's title
}

// inspResult is everything the view needs of one decode: built in the Cmd
// so that View and Update never touch the (possibly huge) paste itself.
type inspResult struct {
	size     int
	kind     string
	cookies  []inspCookie
	blocks   report.DecodeBlocks // the lines, cleaned and clipped once
	found    int                 // cookies found, listed or not
	findings finding.List        // messages clipped and cleaned
	sorted   finding.List        // findings, errors first
	errs     int
	warns    int
	dbState  report.LookupState
	elapsed  time.Duration
	summary  inspSummary

	// rep is the raw report, kept for the token lookup (it holds the
	// tokens, which no rendering shows: report.Decode only asks whether
	// a cookie has one).
	rep probe.DecodeReport
}

// inspSummary is the console's small box for the last decode, worded in
// the Cmd: Summary only styles and clips it.
type inspSummary struct {
	verdict     string // "✓ valid, signed by auth.env" or "✗ not verified: …"
	verdictTone report.Tone
	cookie      string // the main cookie's name, and how many there were
	db          string // "db: session-valid", "db: not connected", or ""
	dbTone      report.Tone
	problems    string // "✗ 2 errors: cookie-signer-differs +1", or "✓ no problem found"
	problemTone report.Tone
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

// bindings are the pane's keys, each enabled only where it would do
// something now; Keys (the help) and Update (the handler) both use them.
func (p *inspectorPane) bindings() inspKeys {
	k := p.keys
	most := p.maxScroll()
	k.Clear.SetEnabled(p.raw != "" || p.result != nil || p.notice != "")
	k.Up.SetEnabled(p.scroll > 0)
	k.PageUp.SetEnabled(p.scroll > 0)
	k.Down.SetEnabled(p.scroll < most)
	k.PageDown.SetEnabled(p.scroll < most)
	return k
}

func (p *inspectorPane) Keys() []key.Binding {
	if p.editing {
		return []key.Binding{p.keys.Decode, p.keys.Leave}
	}
	k := p.bindings()
	return []key.Binding{k.Edit, k.Clear, k.Up, k.Down, k.PageUp, k.PageDown}
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
		k := p.bindings()
		switch {
		case key.Matches(msg, k.Edit):
			p.editing, p.notice = true, ""
			p.input.Reset()
			return p.input.Focus()
		case key.Matches(msg, k.Clear):
			p.clear()
		case key.Matches(msg, k.Up):
			p.scroll = max(0, p.scroll-1)
		case key.Matches(msg, k.Down):
			p.scroll = min(p.maxScroll(), p.scroll+1)
		case key.Matches(msg, k.PageUp):
			p.scroll = max(0, p.scroll-10)
		case key.Matches(msg, k.PageDown):
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
		p.notice = fmt.Sprintf("paste of %s refused: larger than %s; paste the cookie header, not a whole capture", report.ByteSize(len(s)), report.ByteSize(inspMaxInput))
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
	// Until a lookup answers, a token's database line says why there is
	// no row yet.
	state := report.LookupNotConnected
	if p.db != nil && p.schema != nil && p.schema.Session != nil {
		state = report.LookupPending
	}
	timeout := p.cfg.Timeout
	return func() tea.Msg {
		start := time.Now()
		opts.Now = start
		if j := strings.TrimSpace(raw); jwtcheck.Looks(j) {
			if t, err := jwtcheck.Parse(j); err == nil && t.Alg != "HS256" {
				// A jwt() plugin token (HS256 is the session_data cookie
				// cache, which the cookie decoder verifies with the secret).
				res := inspJWT(j, opts.BaseURL, timeout)
				res.elapsed = time.Since(start)
				return inspDecodedMsg{seq: seq, res: res}
			}
		}
		rep, in := probe.DecodeInput(raw, opts)
		res := inspBuild(rep, len(raw), report.InputKind(in), state)
		res.elapsed = time.Since(start)
		return inspDecodedMsg{seq: seq, res: res}
	}
}

// inspJWT verifies a pasted JWT against the auth service's JWKS (fetched
// here, in the decode's Cmd, with the console's timeout) and its issuer
// against the base URL, as `authtui decode` does.
func inspJWT(raw, baseURL string, timeout time.Duration) *inspResult {
	from := ""
	var issuers []jwtcheck.Expected
	if baseURL != "" {
		from = jwtcheck.JWKSURL(baseURL)
		issuers = []jwtcheck.Expected{{Label: "the base URL", Value: baseURL}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep := jwtcheck.Check(ctx, nil, raw, from, timeout, jwtcheck.Options{Issuers: issuers})
	fs := rep.Findings
	res := &inspResult{size: len(raw), kind: "a JWT (jwt plugin)", dbState: report.LookupNotConnected}
	res.blocks.Head = []report.Block{report.JWT(rep, textsafe.URL(from))}
	for _, f := range fs {
		f.Message = report.Safe(f.Message, 600)
		f.Source = report.Safe(f.Source, 80)
		res.findings = append(res.findings, f)
	}
	res.blocks.Tail = []report.Block{report.Findings(res.findings)}
	res.sorted = res.findings.Sorted()
	res.errs, res.warns, _ = res.findings.Count()
	res.summary.verdict, res.summary.verdictTone = "✓ JWT valid, key "+report.Clip(rep.KeyID, 20), report.Good
	if rep.Signature != jwtcheck.SignatureValid || res.errs > 0 {
		res.summary.verdict, res.summary.verdictTone = "✗ JWT not verified: "+rep.Signature, report.Bad
		if len(res.sorted) > 0 {
			res.summary.verdict = "✗ JWT: " + string(res.sorted[0].ID)
		}
	}
	res.summary.cookie = "issuer " + report.Clip(rep.Token.Issuer, 60)
	return res
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
		state := report.LookupChecked
		if err := rep.LookupTokens(ctx, tokenLooker(db, schema)); err != nil {
			state = "lookup failed: " + err.Error()
			if ctx.Err() == context.DeadlineExceeded {
				state = fmt.Sprintf("lookup timed out after %s", timeout)
			}
		}
		out := inspBuild(rep, size, kind, state)
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

// inspBuild formats a report for display: report.Decode builds its lines
// (every string from the paste or the database cleaned and clipped there,
// once, not per frame), and the summary is worded here.
func inspBuild(rep probe.DecodeReport, size int, kind string, state report.LookupState) *inspResult {
	res := &inspResult{size: size, kind: kind, rep: rep, dbState: state, found: rep.CookiesFound,
		blocks: report.DecodeParts(rep, report.DecodeOptions{DB: state})}
	for _, c := range rep.Cookies {
		res.cookies = append(res.cookies, inspCookie{name: report.CookieName(c), named: c.Name != "", token: report.HasLookupToken(c)})
	}
	for _, f := range rep.Findings {
		f.Message = report.Safe(f.Message, 600)
		f.Source = report.Safe(f.Source, 80)
		res.findings = append(res.findings, f)
	}
	res.sorted = res.findings.Sorted()
	res.errs, res.warns, _ = res.findings.Count()
	res.summary = inspSummarize(res, rep)
	return res
}

// inspSummarize words the console's small box: the verdict on the
// signatures (with the sources that signed), the main cookie, what the
// database says of its token, and the count of problems.
func inspSummarize(res *inspResult, rep probe.DecodeReport) inspSummary {
	var sum inspSummary
	short := insShortLabels(rep.Candidates)
	var signedBy []string
	seen := map[string]bool{}
	bad, main := 0, -1
	for i, c := range rep.Cookies {
		if c.Signature == "" {
			continue
		}
		// The main cookie is the first session token, else the first
		// signed value.
		if main < 0 || (c.Kind == probe.KindSessionToken && rep.Cookies[main].Kind != probe.KindSessionToken) {
			main = i
		}
		if c.Signature != "valid" {
			bad++
			continue
		}
		for _, l := range c.VerifiedBy {
			if s := short[l]; !seen[s] {
				seen[s] = true
				signedBy = append(signedBy, s)
			}
		}
	}
	switch {
	case len(signedBy) > 0 && bad > 0:
		sum.verdict, sum.verdictTone = fmt.Sprintf("! signed by %s · ✗ %d not verified", strings.Join(signedBy, ", "), bad), report.Bad
	case len(signedBy) > 0:
		sum.verdict, sum.verdictTone = "✓ valid, signed by "+strings.Join(signedBy, ", "), report.Good
	case bad > 0:
		why := "no candidate secret verifies it"
		if m := rep.Cookies[main]; m.Signature == "malformed" {
			why = "malformed"
		} else if len(m.Matches) > 0 {
			why = "only an older secret matches"
		}
		sum.verdict, sum.verdictTone = "✗ not verified: "+why, report.Bad
	case len(rep.Cookies) > 0:
		sum.verdict, sum.verdictTone = "no signed value to verify", report.Dim
	default:
		sum.verdict, sum.verdictTone = "no cookie found", report.Warn
	}

	if main < 0 && len(rep.Cookies) > 0 {
		main = 0
	}
	if main >= 0 {
		// The count first: in a narrow box it matters more than the end
		// of a long name.
		sum.cookie = res.cookies[main].name
		switch {
		case res.found > len(rep.Cookies):
			sum.cookie = fmt.Sprintf("%s cookies (%d shown) · %s", probe.Thousands(res.found), len(rep.Cookies), sum.cookie)
		case res.found > 1:
			sum.cookie = fmt.Sprintf("%s cookies · %s", probe.Thousands(res.found), sum.cookie)
		}
	}

	var rows []string
	hasToken := false
	seenRow := map[finding.ID]bool{}
	for i, c := range rep.Cookies {
		hasToken = hasToken || res.cookies[i].token
		if r := c.SessionRow; r != nil {
			id := report.RowState(r)
			if !seenRow[id] {
				seenRow[id] = true
				rows = append(rows, string(id))
			}
			if id != finding.SessionValid {
				sum.dbTone = report.Bad
			} else if sum.dbTone != report.Bad {
				sum.dbTone = report.Good
			}
		}
	}
	switch {
	case len(rows) > 0:
		sum.db = "db: " + strings.Join(rows, ", ")
	case !hasToken:
	case res.dbState == report.LookupPending:
		sum.db, sum.dbTone = "db: looking up…", report.Dim
	case res.dbState == report.LookupNotConnected:
		sum.db, sum.dbTone = "db: not connected", report.Dim
	default:
		sum.db, sum.dbTone = "db: ✗ "+report.Safe(res.dbState, 80), report.Bad
	}

	fs := res.sorted
	switch {
	case res.errs > 0:
		sum.problems, sum.problemTone = fmt.Sprintf("✗ %s: %s", inspCount(res.errs, "error"), fs[0].ID), report.Bad
		if res.errs > 1 {
			sum.problems += fmt.Sprintf(" +%d", res.errs-1)
		}
	case res.warns > 0:
		sum.problems, sum.problemTone = fmt.Sprintf("! %s: %s", inspCount(res.warns, "warning"), fs[0].ID), report.Warn
	default:
		sum.problems, sum.problemTone = "✓ no problem found", report.Good
	}
	return sum
}

func inspCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ---- view ---------------------------------------------------------------------

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
			p.st.Dim.Render(inspPastable))
	default:
		what := "pasted " + report.ByteSize(len(p.raw))
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
			state = p.st.Dim.Render(" · decoded in " + report.Duration(p.result.elapsed))
		}
		lines = append(lines, p.st.Bold.Render(what)+state,
			p.st.Dim.Render(fmt.Sprintf("checked against %d candidate secret(s) · i: type · c: clear", len(p.candidates))))
	}
	if p.notice != "" {
		lines = append(lines, p.st.Err.Render(p.notice))
	}
	return append(lines, "")
}

// inspPastable is what the pane understands, for the hints.
const inspPastable = "a value, Cookie or Set-Cookie headers, a curl command, Authorization: Bearer, DevTools rows"

// setResult shows a new result; its body is rendered on the next View.
func (p *inspectorPane) setResult(res *inspResult) {
	p.result = res
	p.rev++
}

// body is the result rendered at width w: report.Decode's blocks (the
// candidate secrets, what the input was, each cookie, what was ignored,
// the findings) laid out as `authtui decode` prints them, behind a
// two-cell gutter for the selection mark. It is rendered once per result
// and width.
func (p *inspectorPane) body(w int) []string {
	return p.rendered(w).lines
}

func (p *inspectorPane) rendered(w int) inspRender {
	res := p.result
	if res == nil {
		return inspRender{}
	}
	if r := p.render; r.rev == p.rev && r.width == w && r.lines != nil {
		return r
	}
	inner := max(w-2, 1)
	lines := make([]string, 0, 8*len(res.blocks.Cookies)+4*len(res.findings)+16)
	starts := make([]int, 0, len(res.blocks.Cookies))
	// Each block is laid out alone so that the pane knows where each
	// cookie starts; the blank line between blocks is Layout's own.
	add := func(b report.Block) {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		for _, l := range p.st.layout([]report.Block{b}, inner) {
			// Clipped here, once (layout fits each line to inner): a View
			// then copies the visible lines as they are and never
			// measures them again.
			lines = append(lines, "  "+l)
		}
	}
	for _, b := range res.blocks.Head {
		add(b)
	}
	for _, b := range res.blocks.Cookies {
		if len(lines) > 0 {
			starts = append(starts, len(lines)+1)
		} else {
			starts = append(starts, 0)
		}
		add(b)
	}
	for _, b := range res.blocks.Tail {
		add(b)
	}
	p.render = inspRender{rev: p.rev, width: w, lines: lines, starts: starts}
	return p.render
}

// insFit clips a styled line to w cells (without padding it: the frame
// pads).
func insFit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		return ansi.Truncate(s, max(w, 0), "…")
	}
	return s
}

// viewWidth is the width the body was last shown at, for scrolling and
// selection before any View.
func (p *inspectorPane) viewWidth() int {
	if p.lastW > 0 {
		return p.lastW
	}
	return 60
}

// selected is the cookie whose block is at the top of the view: scrolling
// is how a cookie is selected for `y`.
func (p *inspectorPane) selected() int {
	if p.result == nil || len(p.result.cookies) == 0 {
		return -1
	}
	sel := 0
	for i, s := range p.rendered(p.viewWidth()).starts {
		if s <= p.scroll {
			sel = i
		}
	}
	return sel
}

func (p *inspectorPane) maxScroll() int {
	if p.result == nil {
		return 0
	}
	return len(p.body(p.viewWidth())) + 3
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
	var r inspRender
	var body []string
	switch {
	case p.result != nil:
		r = p.rendered(w)
		body = r.lines
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
	if sel := p.selected(); sel >= 0 && p.focused && sel < len(r.starts) {
		if i := r.starts[sel] - start; i >= 0 && i < len(vis) && strings.HasPrefix(vis[i], "  ") {
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

// Summary is the console's small box for this pane: with a decode on
// screen, its verdict ("✓ valid, signed by auth.env"), the main cookie,
// what the database says of its token and the problems found, as many as
// fit in h (the verdict and the problems first); before any paste, how
// to paste and what.
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
		lines = append(lines, p.st.Dim.Render("a cookie, Set-Cookie, curl or Bearer"))
	case p.result == nil:
		lines = []string{p.st.Accent.Render("decoding " + report.ByteSize(len(p.raw)) + "…")}
	default:
		sum := p.result.summary
		db, dbTone := sum.db, sum.dbTone
		if p.lookup {
			db, dbTone = "db: looking up…", report.Dim
		}
		// Shown in this order; kept in the order of what matters most
		// when the box is short: the verdict, the problems, the database,
		// the cookie's name.
		type row struct {
			text string
			tone report.Tone
			rank int
		}
		// A database that is not connected (or still looking) says less
		// than the cookie's name; a row or a failure says more.
		nameRank, dbRank := 3, 2
		if dbTone == report.Dim {
			nameRank, dbRank = 2, 3
		}
		rows := []row{{sum.verdict, sum.verdictTone, 0}, {sum.cookie, report.Strong, nameRank}, {db, dbTone, dbRank}, {sum.problems, sum.problemTone, 1}}
		keep := 0
		for _, r := range rows {
			if r.text != "" {
				keep++
			}
		}
		for rank := 3; keep > h && rank > 0; rank-- {
			for i := range rows {
				if rows[i].rank == rank && rows[i].text != "" {
					rows[i].text, keep = "", keep-1
				}
			}
		}
		for _, r := range rows {
			if r.text != "" {
				lines = append(lines, p.st.paint(report.Clip(r.text, max(w, 1)), r.tone))
			}
		}
	}
	return block(strings.Join(lines, "\n"), w, h)
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
			out[l] = report.Clip(s, 40)
		}
	}
	return out
}

// tokenLooker looks tokens up in db's session table, for
// (*probe.DecodeReport).LookupTokens.
func tokenLooker(db *database.DB, schema *database.Schema) probe.TokenLooker {
	return probe.TokenLookerFunc(func(ctx context.Context, token, source string) (probe.TokenLookup, finding.List, error) {
		row, fs, err := db.LookupToken(ctx, schema, token, source)
		return probe.TokenLookup(row), fs, err
	})
}
