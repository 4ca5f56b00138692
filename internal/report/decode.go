package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// The decode report: what `authtui decode` prints and the console's cookie
// inspector shows, worded once.

// LookupState says whether the session tokens of a decode were looked up
// in the database, and if not, why not. `authtui decode` records it in
// DecodeReport.Database (its JSON keeps those words); the console knows it
// from its database pane and passes it in DecodeOptions.
type LookupState = string

// The states a lookup can be in. Any other text is the error of a failed
// lookup ("lookup failed: …", "lookup timed out after 10s").
const (
	LookupChecked        LookupState = "checked"
	LookupNoToken        LookupState = "no token to look up"
	LookupNotConfigured  LookupState = "not configured"   // no --database-url or DATABASE_URL
	LookupNotConnected   LookupState = "not connected"    // the console has no database (yet)
	LookupPending        LookupState = "looking up"       // the console's lookup is in flight
	LookupUnreachable    LookupState = "unreachable"      // the connection failed (db-unreachable)
	LookupNoSessionTable LookupState = "no session table" // the schema has none
	LookupFailed         LookupState = "lookup failed"    // the query failed; the CLI says why on stderr
)

// DecodeOptions is what a decode report is shown with besides the report
// itself.
type DecodeOptions struct {
	// DB is the state of the token lookup; "" means rep.Database, which
	// `authtui decode` sets. The console passes its own (LookupNotConnected,
	// LookupPending, LookupChecked, or the error of a failed lookup).
	DB LookupState
	// Input says in a few words what the input was (InputKind) and Size
	// how many bytes it had, for the Input block. The console shows both
	// in its header instead and leaves them empty.
	Input string
	Size  int
}

// DecodeBlocks is a decode report in its three parts, so that the console
// knows where each cookie starts (scrolling selects a cookie).
type DecodeBlocks struct {
	Head    []Block // the candidate secrets, what the input was
	Cookies []Block // one per cookie of rep.Cookies, in order
	Tail    []Block // ignored input, the findings
}

// All is the parts in order.
func (d DecodeBlocks) All() []Block {
	out := make([]Block, 0, len(d.Head)+len(d.Cookies)+len(d.Tail))
	out = append(out, d.Head...)
	out = append(out, d.Cookies...)
	return append(out, d.Tail...)
}

// Decode is a decode report as blocks: the candidate secrets, what the
// input was, one block per cookie, what was ignored, the findings.
func Decode(rep probe.DecodeReport, o DecodeOptions) []Block {
	return DecodeParts(rep, o).All()
}

// DecodeParts is Decode in its parts.
func DecodeParts(rep probe.DecodeReport, o DecodeOptions) DecodeBlocks {
	db := o.DB
	if db == "" {
		db = rep.Database
	}
	var d DecodeBlocks
	d.Head = append(d.Head, decCandidates(rep.Candidates))
	if in, ok := decInput(rep, o); ok {
		d.Head = append(d.Head, in)
	}
	d.Cookies = make([]Block, 0, len(rep.Cookies))
	for _, c := range rep.Cookies {
		d.Cookies = append(d.Cookies, DecodeCookie(c, db))
	}
	if len(rep.Ignored) > 0 {
		d.Tail = append(d.Tail, Block{Lines: []Line{{
			Label: "Ignored", Prose: true,
			Spans: []Span{S(Safe(strings.Join(rep.Ignored, "; "), 300), Dim)},
		}}})
	}
	d.Tail = append(d.Tail, Findings(rep.Findings))
	return d
}

// decCandidates lists the secrets every signature was checked against, by
// source and fingerprint: never a value.
func decCandidates(cs []probe.Candidate) Block {
	b := Block{Title: "Candidate secrets", Meta: fmt.Sprintf("%d tried", len(cs))}
	if len(cs) == 0 {
		b.Lines = []Line{L("", S("none: no signature can be verified", Warn))}
		return b
	}
	for _, c := range cs {
		b.Lines = append(b.Lines, Line{Bullet: true, Spans: []Span{
			P(Safe(c.String(), 200)), S("  ["+textsafe.Clean(c.Fingerprint())+"]", Dim),
		}})
	}
	return b
}

// decInput is what the input was: its size and kind when the caller knows
// them, how many of its cookies are listed, a curl command's URL.
func decInput(rep probe.DecodeReport, o DecodeOptions) (Block, bool) {
	b := Block{Title: "Input"}
	var meta []string
	if o.Size > 0 {
		meta = append(meta, ByteSize(o.Size))
	}
	if o.Input != "" {
		meta = append(meta, Clip(o.Input, 200))
	}
	b.Meta = strings.Join(meta, " · ")
	if shown := rep.Shown(); shown != "" {
		b.Lines = append(b.Lines, L("listed", P(shown)))
	}
	if rep.URL != "" {
		b.Lines = append(b.Lines, L("URL", P(Clip(textsafe.URL(rep.URL), 120))))
	}
	return b, b.Meta != "" || len(b.Lines) > 0
}

// InputKind says in a few words what a paste was, without any of its
// values: "Cookie header, 3 value(s) + bearer token".
func InputKind(in probe.InputSummary) string {
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

// ByteSize shows a size the way a person reads it: 312 bytes, 4.2 KB,
// 5.0 MB.
func ByteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// CookieName is a cookie's name as shown: cleaned and clipped, or
// "(unnamed)" for a bare value.
func CookieName(c probe.CookieReport) string {
	if c.Name == "" {
		return "(unnamed)"
	}
	return Clip(c.Name, 80)
}

// HasLookupToken says whether the cookie carries a session token the
// database can be asked about: the ones DecodeReport.LookupTokens looks up.
func HasLookupToken(c probe.CookieReport) bool {
	return c.Token() != "" && (c.Kind == probe.KindSessionToken || c.Kind == probe.KindBearer)
}

// DecodeCookie is one decoded credential: its name, kind, where it came
// from and its size, then the token prefix, encoding, signature, cache,
// Set-Cookie attributes and database row. db is the lookup state, for a
// token without a row.
func DecodeCookie(c probe.CookieReport, db LookupState) Block {
	b := Block{Title: CookieName(c), Meta: fmt.Sprintf("%s · %s · %s", Clip(c.Kind, 20), Safe(c.From, 40), ByteSize(c.Size))}
	add := func(l Line) { b.Lines = append(b.Lines, l) }
	if c.TokenPrefix != "" {
		add(L("token", P(Clip(c.TokenPrefix, 12))))
	}
	if c.Encoding != "" {
		add(L("encoding", S(Clip(c.Encoding, 30), Dim)))
	}
	if c.Problem != "" && c.Cache == nil {
		// A cache's problem is its own (below), said once.
		add(decProblem(c.Problem))
	}
	if c.Signature != "" {
		add(decSignature(c))
	}
	if ch := c.Cache; ch != nil {
		b.Lines = append(b.Lines, decCache(ch)...)
	}
	if sc := c.SetCookie; sc != nil {
		add(decAttributes(sc))
	}
	if HasLookupToken(c) {
		add(decDatabase(c.SessionRow, db))
	}
	return b
}

func decProblem(p string) Line {
	return Line{Label: "problem", Prose: true, Spans: []Span{S("✗ "+Safe(p, 300), Bad)}}
}

// decMatch names a candidate that verifies a value: its source, version
// and role.
func decMatch(m probe.Match) string {
	s := Safe(m.Label, 160)
	if m.Version != "" {
		s += " v" + Clip(m.Version, 10)
	}
	if m.Role == probe.RoleCurrent || m.Role == probe.RoleDefault {
		return s + " (" + Clip(string(m.Role), 20) + ")"
	}
	return s + " (" + Clip(m.Variable, 30) + ", " + Clip(string(m.Role), 20) + ")"
}

// decSignature says whether the signature verifies, and with what.
func decSignature(c probe.CookieReport) Line {
	var by []string
	for _, m := range c.Matches {
		by = append(by, decMatch(m))
	}
	l := Line{Label: "signature", Prose: true}
	switch c.Signature {
	case "valid":
		l.Spans = []Span{S("✓ valid", Good), P(", verified by " + strings.Join(by, ", "))}
	case "malformed":
		l.Spans = []Span{S("✗ malformed", Bad)}
	default:
		if len(by) > 0 {
			l.Spans = []Span{S("✗ invalid", Bad), P(" for every server as configured; matches only " + strings.Join(by, ", "))}
		} else {
			l.Spans = []Span{S("✗ invalid", Bad), P(": no candidate secret verifies it")}
		}
	}
	return l
}

// decCache is the session_data cache: strategy and chunks, then (under
// it) its expiry, the key it names, and what it says of the session.
func decCache(ch *probe.CacheReport) []Line {
	head := Clip(ch.Strategy, 20)
	if ch.Chunks > 0 {
		head += fmt.Sprintf(", %d chunks", ch.Chunks)
	}
	first := L("cache", P(head))
	if !ch.Readable {
		first.Spans = append(first.Spans, S(", ✗ unreadable", Bad))
	}
	out := []Line{first}
	sub := func(s Span) { out = append(out, Line{Indent: 1, Prose: true, Spans: []Span{s}}) }
	if !ch.ExpiresAt.IsZero() {
		if ch.Expired {
			sub(S("! expired "+Time(ch.ExpiresAt), Warn))
		} else {
			sub(P("expires " + Time(ch.ExpiresAt)))
		}
	}
	if ch.KeyID != "" {
		key := "unknown key"
		if ch.KeyIDLabel != "" {
			key = "key of " + Safe(ch.KeyIDLabel, 160)
		}
		sub(P("kid " + Clip(ch.KeyID, 16) + " (" + key + ")"))
	}
	if ct := ch.Contents; ct != nil {
		var parts []string
		if ct.SessionID != "" {
			parts = append(parts, "session "+Clip(ct.SessionID, 40))
		}
		if ct.UserID != "" || ct.Email != "" {
			who := strings.TrimSpace("user " + Clip(ct.UserID, 40) + " " + Clip(ct.Email, 60))
			if ct.UserID == "" {
				who = "user " + Clip(ct.Email, 60)
			}
			parts = append(parts, who)
		}
		if ct.TokenPrefix != "" {
			parts = append(parts, "token "+Clip(ct.TokenPrefix, 12))
		}
		for i, p := range parts {
			if i == 0 {
				out = append(out, L("contents", P(p)))
			} else {
				sub(P(p))
			}
		}
	}
	if ch.Problem != "" {
		out = append(out, decProblem(ch.Problem))
	}
	return out
}

// decAttributes is a Set-Cookie line's attributes, in the order a browser
// weighs them; a line net/http rejects is marked, as is a cleared cookie.
func decAttributes(sc *probe.SetCookieReport) Line {
	ss := sc.SameSite
	if ss == "" {
		ss = "(unset → Lax)"
	}
	parts := []string{"SameSite=" + Clip(ss, 20)}
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
		parts = append(parts, "Domain="+Safe(sc.Domain, 60))
	}
	if sc.Path != "" {
		parts = append(parts, "Path="+Safe(sc.Path, 60))
	}
	switch {
	case sc.MaxAge != nil && *sc.MaxAge > 0:
		parts = append(parts, fmt.Sprintf("Max-Age=%d (%s)", *sc.MaxAge, Span2(time.Duration(*sc.MaxAge)*time.Second)))
	case sc.MaxAge != nil:
		parts = append(parts, fmt.Sprintf("Max-Age=%d", *sc.MaxAge))
	case !sc.Expires.IsZero():
		parts = append(parts, "Expires="+Time(sc.Expires))
	default:
		parts = append(parts, "session cookie (no Max-Age)")
	}
	tone := Plain
	if sc.Cleared {
		parts, tone = append(parts, "CLEARED"), Warn
	}
	if !sc.Parsed {
		parts, tone = append(parts, "(net/http rejects this line)"), Warn
	}
	return Line{Label: "attributes", Prose: true, Spans: []Span{S(strings.Join(parts, "; "), tone)}}
}

// decDatabase is what the database says of the token, named the way the
// findings name it, or why it was not asked.
func decDatabase(r *probe.TokenLookup, db LookupState) Line {
	l := Line{Label: "database", Prose: true}
	if r != nil {
		l.Spans = DecodeRow(r)
		return l
	}
	switch db {
	case LookupNotConfigured:
		l.Spans = []Span{S("not configured: token not looked up (--database-url or DATABASE_URL)", Dim)}
	case LookupNotConnected:
		l.Spans = []Span{S("not connected: token not looked up", Dim)}
	case LookupPending:
		l.Spans = []Span{S("looking up the token…", Dim)}
	case LookupUnreachable:
		l.Spans = []Span{S("✗ database unreachable: token not looked up", Bad)}
	case LookupNoSessionTable:
		l.Spans = []Span{S("✗ no session table: token not looked up", Bad)}
	case "", LookupChecked, LookupNoToken:
		l.Spans = []Span{S("token not looked up", Dim)}
	default:
		l.Spans = []Span{S("✗ "+Safe(db, 200), Bad)}
	}
	return l
}

// DecodeRow is a session row as the finding that judges it: its ID with
// a mark, then what the row says.
func DecodeRow(r *probe.TokenLookup) []Span {
	id := Clip(r.SessionID, 40)
	state := RowState(r)
	var rest string
	switch state {
	case finding.SessionNotFound:
		rest = "no session row holds this token"
	case finding.SessionExpired:
		rest = "session " + id + " expired " + Time(r.ExpiresAt)
	case finding.SessionUserMissing:
		rest = "session " + id + ", user " + Clip(r.UserID, 40) + " is gone"
	default:
		of := Clip(r.Email, 60)
		if of == "" {
			of = "user " + Clip(r.UserID, 40)
		}
		return []Span{S("✓ "+string(state), Good), P(": session " + id + " of " + of + " until " + Time(r.ExpiresAt))}
	}
	return []Span{S("✗ "+string(state), Bad), P(": " + rest)}
}

// RowState is the finding ID a session row is judged by.
func RowState(r *probe.TokenLookup) finding.ID {
	switch {
	case !r.Found:
		return finding.SessionNotFound
	case r.Expired:
		return finding.SessionExpired
	case !r.UserExists:
		return finding.SessionUserMissing
	}
	return finding.SessionValid
}
