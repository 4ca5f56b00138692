package probe

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authtui/authtui/internal/probe/textsafe"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Cookie kinds, as the JSON output names them.
const (
	KindSessionToken = "session_token"
	KindSessionData  = "session_data"
	KindDontRemember = "dont_remember"
	KindBearer       = "bearer"
	KindOther        = "other"
)

// cookieName matches BetterAuth's cookie names: an optional __Secure- or
// __Host- prefix, the cookie prefix (better-auth by default), '.' (or the
// '-' some helpers also accept), the cookie's own name, and for the cache a
// chunk index.
var cookieName = regexp.MustCompile(`^(__Secure-|__Host-)?(.+?)([.-])(session_token|session_data|dont_remember|account_data)(?:\.(\d{1,3}))?$`)

// signedShape is a signed value: 32-character token, '.', 44-character
// padded base64 signature, possibly URL-encoded.
var signedShape = regexp.MustCompile(`^[A-Za-z0-9]{8,64}\.(?:[A-Za-z0-9+/]|%2[BbFf]){43}(?:=|%3[Dd])$`)

// NameParts is a BetterAuth cookie name taken apart.
type NameParts struct {
	SecurePrefix string `json:"secure_prefix,omitempty"` // "__Secure-" or "__Host-"
	CookiePrefix string `json:"cookie_prefix,omitempty"`
	Separator    string `json:"-"`
	Base         string `json:"-"` // session_token, session_data, …
	Chunk        int    `json:"chunk"`
}

func splitName(name string) (NameParts, bool) {
	m := cookieName.FindStringSubmatch(name)
	if m == nil {
		return NameParts{}, false
	}
	p := NameParts{SecurePrefix: m[1], CookiePrefix: m[2], Separator: m[3], Base: m[4], Chunk: -1}
	if m[5] != "" {
		if m[4] != "session_data" && m[4] != "account_data" {
			return NameParts{}, false
		}
		n, err := parseChunkIndex(m[5])
		if err != nil {
			return NameParts{}, false
		}
		p.Chunk = n
	}
	return p, true
}

// Match is a candidate secret that verifies a signed value.
type Match = CacheMatch

// CookieReport is one credential found in the input, decoded and checked.
type CookieReport struct {
	Name        string           `json:"name"`
	Kind        string           `json:"kind"`
	From        string           `json:"from"`
	Size        int              `json:"size"`
	Encoding    string           `json:"encoding,omitempty"`
	Parts       *NameParts       `json:"name_parts,omitempty"`
	TokenPrefix string           `json:"token_prefix,omitempty"`
	Signature   string           `json:"signature,omitempty"` // valid, invalid, malformed
	VerifiedBy  []string         `json:"verified_by"`
	Matches     []Match          `json:"matches"`
	Problem     string           `json:"problem,omitempty"`
	Cache       *CacheReport     `json:"cache,omitempty"`
	SetCookie   *SetCookieReport `json:"set_cookie,omitempty"`
	// SessionRow is what the database says of the token, when a database
	// was configured and reachable.
	SessionRow *TokenLookup `json:"session_row,omitempty"`
	token      string
}

// Token is the unsigned session token, for a database lookup. It is kept
// out of every rendering.
func (c CookieReport) Token() string { return c.token }

// DecodeOptions is the context a paste is judged in.
type DecodeOptions struct {
	Candidates   []Candidate
	BaseURL      string // the auth service that set the cookies (--base-url, else BETTER_AUTH_URL)
	Origin       string // the front end that must send them (--origin)
	CookiePrefix string // expected cookie prefix; "" skips the check
	Now          time.Time
}

// Bounds on what one decode reports. A real paste holds a handful of
// cookies; a 15 MB clipboard of tens of thousands must cost no more to
// show, print or write as JSON than a few hundred, so beyond these the
// report summarises ("46,397 cookies, showing 200").
const (
	// MaxCookiesShown is how many cookies a report lists. BetterAuth's own
	// cookies are kept before any other when the bound bites.
	MaxCookiesShown = 200
	// maxSameFinding is how many findings of one ID a report lists; the
	// last one listed says how many more there were.
	maxSameFinding = 10
	// maxCachesDecoded bounds the session_data caches decoded (each costs a
	// decryption per candidate); further ones are counted, not decoded.
	maxCachesDecoded = MaxCookiesShown
	// maxIgnored bounds the distinct "ignored" notes.
	maxIgnored = 20
	// maxTrackedNames bounds the distinct cookie names counted for
	// cookie-duplicate.
	maxTrackedNames = 10_000
	// maxNameBytes clips names and attributes taken from the paste in the
	// report and in messages: a cookie name is short, a 1 MB one is not
	// worth repeating in every finding.
	maxNameBytes = 256
)

// DecodeReport is the result of the cookie inspector.
type DecodeReport struct {
	Cookies []CookieReport `json:"cookies"`
	// CookiesFound counts every credential found; CookiesOmitted those not
	// in Cookies (beyond MaxCookiesShown).
	CookiesFound   int          `json:"cookies_found"`
	CookiesOmitted int          `json:"cookies_omitted,omitempty"`
	Findings       finding.List `json:"findings"`
	// FindingsOmitted counts findings not listed (beyond maxSameFinding of
	// one ID); the last listed finding of that ID says how many.
	FindingsOmitted int      `json:"findings_omitted,omitempty"`
	Ignored         []string `json:"ignored,omitempty"`
	// URL is the pasted curl command's URL without user:password and query
	// (textsafe.URL): the parsed URL as pasted stays in ParsedInput.
	URL        string      `json:"url,omitempty"`
	Candidates []Candidate `json:"candidates"`
	// Database says whether tokens were looked up: "not configured",
	// "checked", or why not.
	Database string `json:"database"`
}

// Shown says how many of the cookies found the report lists ("46,397
// cookies, showing 200"), or "" when it lists them all.
func (r DecodeReport) Shown() string {
	if r.CookiesOmitted <= 0 {
		return ""
	}
	return fmt.Sprintf("%s cookies, showing %s (BetterAuth's own first)", Thousands(r.CookiesFound), Thousands(len(r.Cookies)))
}

// Thousands writes n with a comma between groups of three digits.
func Thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Decode parses input and decodes, verifies and checks every credential
// in it.
func Decode(input string, opts DecodeOptions) DecodeReport {
	rep, _ := DecodeInput(input, opts)
	return rep
}

// boundedFindings appends findings to a list, at most maxSameFinding of
// each ID, and a finding identical to one listed (the same cookie pasted
// 40,000 times) only once: the findings of tens of thousands of cookies
// are formatted one cookie at a time and dropped at once, never held.
type boundedFindings struct {
	list    *finding.List
	byID    map[finding.ID][]int // indexes in list of the ones kept
	repeats map[int]int          // index in list -> identical ones dropped
	omitted map[finding.ID]int   // different ones dropped, beyond the bound
}

func newBoundedFindings(l *finding.List) *boundedFindings {
	b := &boundedFindings{list: l, byID: map[finding.ID][]int{}, repeats: map[int]int{}, omitted: map[finding.ID]int{}}
	for i, f := range *l {
		b.byID[f.ID] = append(b.byID[f.ID], i)
	}
	return b
}

func (b *boundedFindings) add(fs ...finding.Finding) {
next:
	for _, f := range fs {
		kept := b.byID[f.ID]
		for _, i := range kept {
			if g := (*b.list)[i]; g.Source == f.Source && g.Message == f.Message && len(f.Evidence) == 0 {
				b.repeats[i]++
				continue next
			}
		}
		if len(kept) >= maxSameFinding {
			b.omitted[f.ID]++
			continue
		}
		b.byID[f.ID] = append(kept, len(*b.list))
		*b.list = append(*b.list, f)
	}
}

// close says on the findings listed how many were left out, and returns
// their number.
func (b *boundedFindings) close() int {
	n := 0
	for i, r := range b.repeats {
		n += r
		(*b.list)[i].Message += fmt.Sprintf(" (The same for %s cookies.)", Thousands(r+1))
	}
	for id, more := range b.omitted {
		n += more
		kept := b.byID[id]
		f := &(*b.list)[kept[len(kept)-1]]
		f.Message += fmt.Sprintf(" (%s more %s finding(s) are not listed.)", Thousands(more), id)
	}
	b.repeats, b.omitted = map[int]int{}, map[finding.ID]int{}
	return n
}

// cookieKeeper holds the cookies a report lists: the first
// MaxCookiesShown, BetterAuth's own before any other, in input order.
type cookieKeeper struct {
	seq       int
	ba, other []keptCookie
	found     int
	anyBA     bool
}

type keptCookie struct {
	seq int
	cr  CookieReport
}

func isBetterAuthKind(kind string) bool {
	switch kind {
	case KindSessionToken, KindSessionData, KindDontRemember, KindBearer:
		return true
	}
	return false
}

func (k *cookieKeeper) add(cr CookieReport) {
	k.found++
	k.seq++
	switch {
	case isBetterAuthKind(cr.Kind):
		k.anyBA = true
		if len(k.ba) < MaxCookiesShown {
			k.ba = append(k.ba, keptCookie{k.seq, cr})
		}
	case len(k.other) < MaxCookiesShown:
		k.other = append(k.other, keptCookie{k.seq, cr})
	}
}

// cookies lists the kept cookies in input order.
func (k *cookieKeeper) cookies() []CookieReport {
	other := k.other[:min(len(k.other), MaxCookiesShown-len(k.ba))]
	out := make([]CookieReport, 0, len(k.ba)+len(other))
	i, j := 0, 0
	for i < len(k.ba) || j < len(other) {
		if j >= len(other) || (i < len(k.ba) && k.ba[i].seq < other[j].seq) {
			out = append(out, k.ba[i].cr)
			i++
		} else {
			out = append(out, other[j].cr)
			j++
		}
	}
	return out
}

// DecodeParsed is Decode for input that is already parsed (a captured
// response, for instance). Its work and its report are bounded whatever
// the size of the input: every credential is verified, but at most
// MaxCookiesShown are reported, and at most maxSameFinding findings of one
// ID.
func DecodeParsed(in ParsedInput, opts DecodeOptions) DecodeReport {
	d := newDecoder(opts)
	for _, item := range in.Items {
		d.add(item)
	}
	return d.finish(in)
}

// InputSummary says what a paste held, in counts: none of its values.
type InputSummary struct {
	Items    int              // credentials found (cookies, lines, tokens)
	Kinds    map[ItemKind]int // of Items
	DevTools bool             // cookies came as DevTools rows
	Curl     bool             // the paste was a curl command
}

// decoder decodes a paste one item at a time: it keeps what the report
// needs (bounded) and what joins items (cache chunks, duplicate names,
// session tokens), never the items themselves.
type decoder struct {
	opts    DecodeOptions
	site    SiteContext
	signers []string
	rep     DecodeReport
	found   *boundedFindings
	keep    cookieKeeper
	scratch finding.List // one item's findings, before they are bounded

	caches        map[string][]cacheChunk // cache base name -> chunks, for joining
	cacheOrder    []string
	cachesSkipped int
	requestNames  map[string]int
	duplicated    []string // names sent twice, in the order they were
	tokens        tokenSet
	names         []string // the first few item names, for cookie-none
	input         InputSummary
}

type cacheChunk struct {
	idx  int
	item InputItem
	sc   *SetCookieReport // its attributes, when it came as Set-Cookie
}

func newDecoder(opts DecodeOptions) *decoder {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	d := &decoder{
		opts: opts, site: NewSiteContext(opts.BaseURL, opts.Origin), signers: signingSources(opts.Candidates),
		caches: map[string][]cacheChunk{}, requestNames: map[string]int{}, input: InputSummary{Kinds: map[ItemKind]int{}},
	}
	d.rep = DecodeReport{Cookies: []CookieReport{}, Candidates: opts.Candidates}
	if d.rep.Candidates == nil {
		d.rep.Candidates = []Candidate{}
	}
	d.found = newBoundedFindings(&d.rep.Findings)
	return d
}

// DecodeInput is Decode, parsing and decoding in one pass so that memory
// stays bounded by the paste itself, and also says what the paste held.
func DecodeInput(input string, opts DecodeOptions) (DecodeReport, InputSummary) {
	d := newDecoder(opts)
	in := ParseInputFunc(input, d.add)
	rep := d.finish(in)
	return rep, d.input
}

func (d *decoder) add(item InputItem) {
	d.input.Items++
	d.input.Kinds[item.Kind]++
	d.input.DevTools = d.input.DevTools || (item.Kind == ItemCookie && item.From == "DevTools row")
	if item.Name != "" && len(d.names) <= 5 {
		d.names = append(d.names, clipName(item.Name))
	}
	d.scratch = d.scratch[:0]
	defer func() { d.found.add(d.scratch...) }()
	opts := d.opts
	name := clipName(item.Name)
	cr := CookieReport{Name: name, From: item.From, Size: len(item.Name) + len(item.Value), VerifiedBy: []string{}, Matches: []Match{}}
	cr.Kind, cr.Parts = classify(item)
	if item.Kind == ItemCookie {
		// Names are counted for cookie-duplicate up to a bound on distinct
		// names (a browser sends a few dozen), so that a paste of a
		// million different names costs no map of a million entries.
		if n, ok := d.requestNames[item.Name]; ok || len(d.requestNames) < maxTrackedNames {
			d.requestNames[item.Name] = n + 1
			if n+1 == 2 {
				d.duplicated = append(d.duplicated, item.Name)
			}
		}
	}
	what := label(item)
	if cr.Size > maxCookieBytes && (item.Kind != ItemBare || cr.Kind != KindOther) {
		d.scratch.Add(finding.CookieTooLarge, what,
			"%s is %d bytes (name + value); browsers drop cookies over %d. Store less in it (cookie cache fields) or let BetterAuth chunk it.",
			what, cr.Size, maxCookieBytes)
	}
	if cr.Parts != nil {
		checkName(&d.scratch, name, *cr.Parts, d.site, opts.CookiePrefix)
	}
	if item.Kind == ItemSetCookie {
		sc, fs := AnalyzeSetCookie(item, cr.Kind, d.site, opts.Now)
		cr.SetCookie = &sc
		d.scratch = append(d.scratch, fs...)
		if sc.Cleared {
			// A clearing line carries an empty value; there is nothing to verify.
			d.keep.add(cr)
			return
		}
	}
	switch cr.Kind {
	case KindSessionToken, KindDontRemember, KindBearer:
		checkSigned(&d.scratch, &cr, item, opts.Candidates, d.signers)
		if cr.Kind != KindDontRemember {
			d.tokens.add(cr.token)
		}
	case KindSessionData:
		base := item.Name
		idx := -1
		if cr.Parts != nil && cr.Parts.Chunk >= 0 {
			base = strings.TrimSuffix(item.Name, fmt.Sprintf(".%d", cr.Parts.Chunk))
			idx = cr.Parts.Chunk
		}
		key := string(item.Kind) + "\x00" + base
		if idx < 0 {
			// An unchunked cache stands alone, even when the same name
			// recurs (sign-up and sign-in responses pasted together).
			key += fmt.Sprintf("\x00%d", len(d.cacheOrder)+d.cachesSkipped)
		}
		if _, ok := d.caches[key]; !ok {
			if len(d.cacheOrder) >= maxCachesDecoded {
				// Counted, not decoded: the report could not list it anyway.
				d.cachesSkipped++
				return
			}
			d.cacheOrder = append(d.cacheOrder, key)
		}
		// Chunks are reported once, joined, by finish.
		d.caches[key] = append(d.caches[key], cacheChunk{idx, item, cr.SetCookie})
		return
	}
	d.keep.add(cr)
}

// finish joins and decodes the caches and completes the report.
func (d *decoder) finish(in ParsedInput) DecodeReport {
	rep := &d.rep
	found := d.found
	rep.Ignored, rep.URL = boundIgnored(in.Ignored, in.ignoredMore), shownURL(in.URL)
	d.input.Curl = in.URL != ""
	if in.Problem != "" {
		found.add(finding.New(finding.InputUnparsable, "", "the paste could not be read whole: %s.", in.Problem))
	}
	for _, name := range d.duplicated {
		found.add(finding.New(finding.CookieDuplicate, clipName(name),
			"%s is sent %d times: cookies with the same name from different Domain/Path settings; servers read only one. Clear the stale one in the browser and align Domain/Path.", clipName(name), d.requestNames[name]))
	}

	for _, key := range d.cacheOrder {
		d.scratch = d.scratch[:0]
		chunks := d.caches[key]
		sort.SliceStable(chunks, func(i, j int) bool { return chunks[i].idx < chunks[j].idx })
		first := chunks[0].item
		cr := CookieReport{Name: clipName(first.Name), Kind: KindSessionData, From: first.From, VerifiedBy: []string{}, Matches: []Match{}}
		var missing []int
		for i, c := range chunks {
			if c.idx >= 0 {
				cr.Name = clipName(strings.TrimSuffix(c.item.Name, fmt.Sprintf(".%d", c.idx)))
				if c.idx != i {
					missing = append(missing, i)
				}
			}
			cr.Size += len(c.item.Value)
		}
		if p, ok := splitName(cr.Name); ok {
			cr.Parts = &p
		}
		if len(missing) > 0 {
			found.add(finding.New(finding.CacheChunkMissing, cr.Name,
				"%s arrives in %d chunks but chunk %d is missing: the browser dropped or never received part of it; BetterAuth cannot read the cache.", cr.Name, len(chunks), missing[0]))
			d.keep.add(cr)
			continue
		}
		var cache CacheReport
		if cr.Size > 3*maxCacheValue {
			// Not even joined: URL-encoded three bytes a byte at most, it
			// is larger than any cache DecodeCache reads.
			cache = CacheReport{Strategy: "unknown", Matches: []CacheMatch{}, Problem: fmt.Sprintf("value of %d bytes is larger than any cache BetterAuth writes", cr.Size)}
		} else {
			var b strings.Builder
			b.Grow(cr.Size)
			for _, c := range chunks {
				b.WriteString(c.item.Value)
			}
			value, enc := DecodeCookieValue(b.String())
			cr.Encoding = enc
			cache = DecodeCache(value, d.opts.Candidates, d.opts.Now)
		}
		if len(chunks) > 1 || chunks[0].idx >= 0 {
			cache.Chunks = len(chunks)
		}
		cr.Cache = &cache
		cr.SetCookie = chunks[0].sc
		checkCache(&d.scratch, &cr, d.signers, d.tokens)
		found.add(d.scratch...)
		d.keep.add(cr)
	}
	d.keep.found += d.cachesSkipped
	d.keep.anyBA = d.keep.anyBA || d.cachesSkipped > 0

	rep.Cookies = d.keep.cookies()
	rep.CookiesFound = d.keep.found
	rep.CookiesOmitted = d.keep.found - len(rep.Cookies)
	if d.cachesSkipped > 0 {
		rep.Ignored = append(rep.Ignored, fmt.Sprintf("%d more session_data cache(s), not decoded (more than %d in one paste)", d.cachesSkipped, maxCachesDecoded))
	}

	if !d.keep.anyBA {
		what := "the input is empty"
		switch {
		case in.Problem != "" && d.input.Items == 0:
			what = "nothing could be read before the problem (input-unparsable)"
		case d.input.Items > 0:
			what = fmt.Sprintf("found %d value(s) (%s) but none is a BetterAuth cookie or bearer token", d.input.Items, truncList(d.names, 5, d.input.Items))
		}
		found.add(finding.New(finding.CookieNone, "",
			"no BetterAuth session cookie: %s. Paste the Cookie request header (DevTools → Network → a request to your API → Request Headers) or the Set-Cookie lines of the sign-in response.", what))
	}
	rep.FindingsOmitted = found.close()
	return *rep
}

// tokenSet holds the session tokens of a paste, for the cache's token
// check: the first one (named in messages) and a bounded set of distinct
// ones.
type tokenSet struct {
	first string
	set   map[string]bool
}

const maxTokens = 10_000

func (t *tokenSet) add(tok string) {
	if tok == "" {
		return
	}
	if t.set == nil {
		t.set = map[string]bool{}
		t.first = tok
	}
	if len(t.set) < maxTokens {
		t.set[tok] = true
	}
}

// shownURL is a pasted URL as it may be shown: without user:password and
// query, tokens in the path cut (textsafe.URL). curl takes a URL without a
// scheme, which textsafe.URL would take for free text, so such a URL is
// read as http://; one that does not parse at all is cut before anything
// that could be a credential (an '@', a query), and redacted.
func shownURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if len(s) > 4*maxNameBytes {
		s = s[:4*maxNameBytes]
	}
	schemeless := !strings.Contains(s, "://")
	probe := s
	if schemeless {
		probe = "http://" + s
	}
	if u, err := url.Parse(probe); err == nil && u.Host != "" {
		out := textsafe.URL(probe)
		if schemeless {
			out = strings.TrimPrefix(out, "http://")
		}
		return clipName(out)
	}
	// Unparsable: keep the scheme and host part only, never what follows
	// an '@' (user:password) or a '?', '#', ';' or space.
	rest := s
	scheme := ""
	if i := strings.Index(rest, "://"); i >= 0 {
		scheme, rest = rest[:i+3], rest[i+3:]
	}
	if i := strings.LastIndexByte(rest[:strings.IndexAny(rest+"/", "/")], '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "?#; \t"); i >= 0 {
		rest = rest[:i] + "?…"
	}
	return clipName(textsafe.Safe(scheme + rest))
}

// clipName shortens a name or attribute taken from the paste to
// maxNameBytes, at a rune boundary, marking the cut.
func clipName(s string) string {
	if len(s) <= maxNameBytes {
		return s
	}
	cut := maxNameBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// boundIgnored keeps the distinct notes, at most maxIgnored of them, each
// clipped, and says how many more there were (more: those the parser
// already left out).
func boundIgnored(in []string, more int) []string {
	if len(in) == 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = clipName(s)
		if seen[s] {
			continue
		}
		if len(out) >= maxIgnored {
			more++
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("and %d more", more))
	}
	return out
}

func label(item InputItem) string {
	if item.Name != "" {
		return clipName(item.Name)
	}
	return item.From
}

// truncList lists the first n of names, and says how many of total
// values are left out.
func truncList(names []string, n, total int) string {
	if len(names) == 0 {
		return "no names"
	}
	if len(names) > n {
		names = names[:n]
	}
	out := strings.Join(names, ", ")
	if total > len(names) {
		out += fmt.Sprintf(", and %d more", total-len(names))
	}
	return out
}

// classify decides what a credential is, by name first and by shape when
// the name says nothing (custom names, bare values).
func classify(item InputItem) (string, *NameParts) {
	if item.Kind == ItemBearer {
		return KindBearer, nil
	}
	if p, ok := splitName(item.Name); ok {
		switch p.Base {
		case "session_token":
			return KindSessionToken, &p
		case "session_data":
			return KindSessionData, &p
		case "dont_remember":
			return KindDontRemember, &p
		default:
			return KindOther, &p
		}
	}
	v := strings.TrimSpace(item.Value)
	if signedShape.MatchString(v) {
		switch {
		case strings.HasPrefix(v, "true."):
			return KindDontRemember, nil
		case item.Kind == ItemBare && !strings.Contains(v, "%"):
			// An unencoded bare value is how set-auth-token hands it out.
			return KindBearer, nil
		default:
			return KindSessionToken, nil
		}
	}
	if item.Kind == ItemBare && looksLikeCache(v) {
		return KindSessionData, nil
	}
	return KindOther, nil
}

func looksLikeCache(v string) bool {
	// JWS and JWE both start with a base64url JSON header, and so does the
	// compact cache ({"session":…).
	return strings.HasPrefix(v, "eyJ")
}

// signingSources lists the labels of sources that have a secret of their
// own, i.e. whose server signs with a current, non-default secret.
func signingSources(cands []Candidate) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if c.Role == RoleCurrent && !seen[c.Label] {
			seen[c.Label] = true
			out = append(out, c.Label)
		}
	}
	return out
}

func checkSigned(fs *finding.List, cr *CookieReport, item InputItem, cands []Candidate, signers []string) {
	sv := ParseSigned(item.Value)
	cr.Encoding = sv.Encoding
	cr.TokenPrefix = textsafe.TokenPrefix(sv.Token)
	cr.token = sv.Token
	what := label(item)
	if sv.Problem != "" {
		cr.Signature = "malformed"
		cr.Problem = sv.Problem
		fs.Add(finding.CookieMalformed, what, "%s is not a valid signed value: %s.", what, sv.Problem)
		return
	}
	matches := VerifySigned(sv, cands)
	for _, m := range matches {
		cr.Matches = append(cr.Matches, matchOf(m))
	}
	cr.VerifiedBy = verifiedBy(matches, func(c Candidate) bool { return c.Role != RoleIgnored && c.Role != RoleTrimmed })
	signing := verifiedBy(matches, Candidate.Signs)
	if len(signing) > 0 {
		cr.Signature = "valid"
	} else {
		cr.Signature = "invalid"
	}
	judgeSigner(fs, what, matches, signers, len(cands), "signed", Candidate.Signs)
}

// judgeSigner raises the findings about who signed (or encrypted) a
// value. accepts says whether a server configured from a candidate's
// source takes a value that candidate verifies: signatures are checked with
// the current secret only, jwe caches with every version.
func judgeSigner(fs *finding.List, what string, matches []Candidate, signers []string, tried int, verb string, accepts func(Candidate) bool) {
	var byDefault, retired, other []Candidate
	accepted := map[string]bool{}
	olderOnly := map[string]bool{}
	for _, m := range matches {
		switch {
		case m.Role == RoleDefault:
			byDefault = append(byDefault, m)
		case accepts(m):
			accepted[m.Label] = true
		case m.Role == RolePrevious || m.Role == RoleLegacy:
			retired = append(retired, m)
			olderOnly[m.Label] = true
		default:
			other = append(other, m)
		}
	}
	switch {
	case len(byDefault) > 0:
		fs.Add(finding.CookieSignedByDefault, what,
			"%s was %s with BetterAuth's built-in default secret: the server that issued it had no BETTER_AUTH_SECRET. Set the secret in that deployment's environment and redeploy.", what, verb)
	case len(accepted) == 0 && len(retired) > 0:
		fs.Add(finding.CookieSignedByRetired, what,
			"%s was %s only with an older secret (%s): BetterAuth checks it with the current secret only, so the session is null. Expected right after a rotation (users sign in again); otherwise the issuing server still runs on the old secret.",
			what, verb, describe(retired))
	case len(accepted) == 0:
		hint := ""
		if len(other) > 0 {
			hint = fmt.Sprintf(" It does match %s, a value BetterAuth would not use as configured: fix that variable.", describe(other))
		}
		fs.Add(finding.CookieSignatureBad, what,
			"%s: no candidate secret (%d tried, from every source and the built-in default) verifies it. The issuing server uses a secret none of these sources holds.%s", what, tried, hint)
	}
	if len(accepted) == 0 || len(signers) < 2 {
		return
	}
	var yes, no []string
	older := false
	for _, s := range signers {
		if accepted[s] {
			yes = append(yes, s)
		} else {
			no = append(no, s)
			older = older || olderOnly[s]
		}
	}
	if len(no) == 0 {
		return
	}
	hint := ""
	if older {
		hint = " (it holds that secret only as an older BETTER_AUTH_SECRETS version or legacy secret, which BetterAuth does not use for this)"
	}
	fs.Add(finding.CookieSignerDiffers, what,
		"%s was %s with the secret of %s; a server using %s rejects it%s, so the session is null there. Give every service the same secret.",
		what, verb, strings.Join(yes, ", "), strings.Join(no, ", "), hint)
}

func describe(cs []Candidate) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, ", ")
}

func verifiedBy(matches []Candidate, keep func(Candidate) bool) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, m := range matches {
		if keep(m) && !seen[m.Label] {
			seen[m.Label] = true
			out = append(out, m.Label)
		}
	}
	return out
}

func checkCache(fs *finding.List, cr *CookieReport, signers []string, tokens tokenSet) {
	cache := cr.Cache
	what := cr.Name
	if what == "" {
		what = "session_data"
	}
	var matched []Candidate
	for _, m := range cache.Matches {
		matched = append(matched, Candidate{Label: m.Label, Variable: m.Variable, Version: m.Version, Role: m.Role})
	}
	accepts := func(c Candidate) bool {
		if cache.Strategy == StrategyJWE {
			return c.Decrypts()
		}
		return c.Signs()
	}
	cr.VerifiedBy = verifiedBy(matched, func(c Candidate) bool { return c.Role != RoleIgnored && c.Role != RoleTrimmed })
	cr.Matches = cache.Matches
	if len(verifiedBy(matched, accepts)) == 0 {
		cr.Signature = "invalid"
		why := cache.Problem
		if why == "" {
			why = "no candidate secret verifies it"
		}
		if cache.KeyID != "" && cache.KeyIDLabel == "" {
			why += "; its kid matches no candidate's key"
		}
		fs.Add(finding.CacheInvalid, what,
			"%s (%s cache) is unusable: %s. The server ignores it and falls back to the database, or returns null without one.", what, cache.Strategy, why)
	} else {
		cr.Signature = "valid"
		verb := "signed"
		if cache.Strategy == StrategyJWE {
			verb = "encrypted"
		}
		judgeSigner(fs, what, matched, signers, 0, verb, accepts)
	}
	if cache.Readable && cache.Expired {
		fs.Add(finding.CacheExpired, what,
			"%s expired at %s: the server refreshes it from the database on the next get-session; with refreshCache off or no database the session is null.", what, cache.ExpiresAt.Format(time.RFC3339))
	}
	if cache.Contents != nil && cache.Contents.token != "" && tokens.first != "" && !tokens.set[cache.Contents.token] {
		fs.Add(finding.CacheTokenMismatch, what,
			"%s describes session token %s, but the session_token cookie holds %s: a stale cache from an earlier sign-in. The server trusts the cache until it expires.",
			what, cache.Contents.TokenPrefix, textsafe.TokenPrefix(tokens.first))
	}
}

// checkName compares a cookie's name with what the configuration implies.
func checkName(fs *finding.List, name string, p NameParts, site SiteContext, wantPrefix string) {
	if p.Separator == "-" {
		fs.Add(finding.CookieNameMismatch, name,
			"%s uses '-' where BetterAuth writes '.': the server only reads %s%s.%s. Fix the client or proxy that renamed it.",
			name, p.SecurePrefix, p.CookiePrefix, p.Base)
	}
	if wantPrefix != "" && p.CookiePrefix != wantPrefix {
		fs.Add(finding.CookieNameMismatch, name,
			"%s has cookie prefix %q but %q is expected (advanced.cookiePrefix): services with different prefixes never see each other's cookies.",
			name, p.CookiePrefix, wantPrefix)
	}
	if base := site.BaseURL; base != nil {
		https := base.Scheme == "https"
		switch {
		case https && p.SecurePrefix == "":
			fs.Add(finding.CookieNameMismatch, name,
				"%s has no __Secure- prefix, but the base URL %s is https, where BetterAuth names it __Secure-%s: the server looks for that name and finds nothing.",
				name, base.Host, name)
		case !https && p.SecurePrefix != "":
			fs.Add(finding.CookieNameMismatch, name,
				"%s has the %s prefix, but the base URL %s is http, where BetterAuth looks for %s: the two services disagree about https (useSecureCookies or BETTER_AUTH_URL).",
				name, p.SecurePrefix, base.Host, strings.TrimPrefix(name, p.SecurePrefix))
		}
	}
}

// LookupTokens asks the database about every distinct session token in the
// report and attaches the answers; it is the caller's to open the database
// behind db.
func (r *DecodeReport) LookupTokens(ctx context.Context, db TokenLooker) error {
	// The cookies listed are bounded, and so are the findings of their rows.
	found := newBoundedFindings(&r.Findings)
	defer func() { r.FindingsOmitted += found.close() }()
	seen := map[string]*TokenLookup{}
	for i := range r.Cookies {
		c := &r.Cookies[i]
		if c.token == "" || (c.Kind != KindSessionToken && c.Kind != KindBearer) {
			continue
		}
		if prev, ok := seen[c.token]; ok {
			c.SessionRow = prev
			continue
		}
		row, fs, err := db.LookupToken(ctx, c.token, label(InputItem{Name: c.Name, From: c.From}))
		if err != nil {
			return err
		}
		c.SessionRow = &row
		seen[c.token] = &row
		found.add(fs...)
	}
	r.checkCacheAgainstRows()
	return nil
}

// checkCacheAgainstRows compares a session_data cache that the server
// would accept with the row it vouches for. BetterAuth answers from a
// valid cache without reading the database, so a revoked or expired row
// stays signed in until the cache expires; the reverse, an unusable cache
// in front of a valid row, only costs a database read.
func (r *DecodeReport) checkCacheAgainstRows() {
	rows := map[string]*TokenLookup{}
	for _, c := range r.Cookies {
		if c.SessionRow != nil {
			rows[c.token] = c.SessionRow
		}
	}
	validRow := false
	for _, row := range rows {
		validRow = validRow || (row.Found && !row.Expired)
	}
	for _, c := range r.Cookies {
		cache := c.Cache
		if cache != nil && c.Signature == "invalid" && validRow {
			// BetterAuth expires a cache it cannot verify and reads the row
			// (api/routes/session.mjs, getSession): no null, one database
			// read more.
			name := c.Name
			if name == "" {
				name = "session_data"
			}
			for i := range r.Findings {
				if f := &r.Findings[i]; f.ID == finding.CacheInvalid && f.Source == name {
					f.Message += " The session row is valid, so BetterAuth expires this cache and answers from the database: the session works, at one database read per request until a new cache is set."
				}
			}
			continue
		}
		if cache == nil || cache.Contents == nil || c.Signature != "valid" || cache.Expired {
			continue
		}
		row, ok := rows[cache.Contents.token]
		if !ok || (row.Found && !row.Expired) {
			continue
		}
		state := "no longer exists (revoked or deleted)"
		if row.Found {
			state = "expired at " + row.ExpiresAt.UTC().Format(time.RFC3339)
		}
		what := c.Name
		if what == "" {
			what = "session_data"
		}
		r.Findings.Add(finding.CacheOutlivesSession, what,
			"the session row for token %s %s, but %s (%s cache) still verifies: BetterAuth keeps serving this session from the cookie cache until %s, then answers null. Shorten session.cookieCache.maxAge, or revoke through BetterAuth's API (revokeSession / signOut), which also clears the cache cookie.",
			cache.Contents.TokenPrefix, state, what, cache.Strategy, cache.ExpiresAt.UTC().Format(time.RFC3339))
	}
}
