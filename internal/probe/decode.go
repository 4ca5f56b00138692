package probe

import (
	"context"
	"fmt"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/database"
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
	SessionRow *database.TokenLookup `json:"session_row,omitempty"`
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

// DecodeReport is the result of the cookie inspector.
type DecodeReport struct {
	Cookies    []CookieReport `json:"cookies"`
	Findings   finding.List   `json:"findings"`
	Ignored    []string       `json:"ignored,omitempty"`
	URL        string         `json:"url,omitempty"`
	Candidates []Candidate    `json:"candidates"`
	// Database says whether tokens were looked up: "not configured",
	// "checked", or why not.
	Database string `json:"database"`
}

// Decode parses input and decodes, verifies and checks every credential
// in it.
func Decode(input string, opts DecodeOptions) DecodeReport {
	return DecodeParsed(ParseInput(input), opts)
}

// DecodeParsed is Decode for input that is already parsed (a captured
// response, for instance).
func DecodeParsed(in ParsedInput, opts DecodeOptions) DecodeReport {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	rep := DecodeReport{Cookies: []CookieReport{}, Ignored: in.Ignored, URL: in.URL, Candidates: opts.Candidates}
	if rep.Candidates == nil {
		rep.Candidates = []Candidate{}
	}
	site := NewSiteContext(opts.BaseURL, opts.Origin)
	signers := signingSources(opts.Candidates)

	type chunk struct {
		idx  int
		item InputItem
		sc   *SetCookieReport // its attributes, when it came as Set-Cookie
	}
	caches := map[string][]chunk{} // cache base name -> chunks, for joining
	var cacheOrder []string
	requestNames := map[string]int{}

	for _, item := range in.Items {
		cr := CookieReport{Name: item.Name, From: item.From, Size: len(item.Name) + len(item.Value), VerifiedBy: []string{}, Matches: []Match{}}
		cr.Kind, cr.Parts = classify(item)
		if item.Kind == ItemCookie {
			requestNames[item.Name]++
		}
		if cr.Size > maxCookieBytes && (item.Kind != ItemBare || cr.Kind != KindOther) {
			rep.Findings.Add(finding.CookieTooLarge, label(item),
				"%s is %d bytes (name + value); browsers drop cookies over %d. Store less in it (cookie cache fields) or let BetterAuth chunk it.",
				label(item), cr.Size, maxCookieBytes)
		}
		if cr.Parts != nil {
			checkName(&rep.Findings, item.Name, *cr.Parts, site, opts.CookiePrefix)
		}
		if item.Kind == ItemSetCookie {
			sc, fs := AnalyzeSetCookie(item, cr.Kind, site, opts.Now)
			cr.SetCookie = &sc
			rep.Findings = append(rep.Findings, fs...)
			if sc.Cleared {
				// A clearing line carries an empty value; there is nothing to verify.
				rep.Cookies = append(rep.Cookies, cr)
				continue
			}
		}
		switch cr.Kind {
		case KindSessionToken, KindDontRemember, KindBearer:
			checkSigned(&rep.Findings, &cr, item, opts.Candidates, signers)
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
				key += fmt.Sprintf("\x00%d", len(cacheOrder))
			}
			if _, ok := caches[key]; !ok {
				cacheOrder = append(cacheOrder, key)
			}
			caches[key] = append(caches[key], chunk{idx, item, cr.SetCookie})
			if idx >= 0 {
				// Chunks are reported once, joined, below.
				continue
			}
		}
		if cr.Kind != KindSessionData {
			rep.Cookies = append(rep.Cookies, cr)
		}
	}

	for name, n := range requestNames {
		if n > 1 {
			rep.Findings.Add(finding.CookieDuplicate, name,
				"%s is sent %d times: cookies with the same name from different Domain/Path settings; servers read only one. Clear the stale one in the browser and align Domain/Path.", name, n)
		}
	}

	tokens := sessionTokens(rep.Cookies)
	for _, key := range cacheOrder {
		chunks := caches[key]
		sort.SliceStable(chunks, func(i, j int) bool { return chunks[i].idx < chunks[j].idx })
		first := chunks[0].item
		name := first.Name
		cr := CookieReport{Name: name, Kind: KindSessionData, From: first.From, VerifiedBy: []string{}, Matches: []Match{}}
		var b strings.Builder
		var missing []int
		for i, c := range chunks {
			if c.idx >= 0 {
				cr.Name = strings.TrimSuffix(c.item.Name, fmt.Sprintf(".%d", c.idx))
				if c.idx != i {
					missing = append(missing, i)
				}
			}
			cr.Size += len(c.item.Value)
			b.WriteString(c.item.Value)
		}
		if p, ok := splitName(cr.Name); ok {
			cr.Parts = &p
		}
		if len(missing) > 0 {
			rep.Findings.Add(finding.CacheChunkMissing, cr.Name,
				"%s arrives in %d chunks but chunk %d is missing: the browser dropped or never received part of it; BetterAuth cannot read the cache.", cr.Name, len(chunks), missing[0])
			rep.Cookies = append(rep.Cookies, cr)
			continue
		}
		value, enc := DecodeCookieValue(b.String())
		cr.Encoding = enc
		cache := DecodeCache(value, opts.Candidates, opts.Now)
		if len(chunks) > 1 || chunks[0].idx >= 0 {
			cache.Chunks = len(chunks)
		}
		cr.Cache = &cache
		cr.SetCookie = chunks[0].sc
		checkCache(&rep.Findings, &cr, signers, tokens)
		rep.Cookies = append(rep.Cookies, cr)
	}

	if !hasBetterAuthCredential(rep.Cookies) {
		what := "the input is empty"
		if len(in.Items) > 0 {
			names := make([]string, 0, len(in.Items))
			for _, it := range in.Items {
				if it.Name != "" {
					names = append(names, it.Name)
				}
			}
			what = fmt.Sprintf("found %d value(s) (%s) but none is a BetterAuth cookie or bearer token", len(in.Items), truncList(names, 5))
		}
		rep.Findings.Add(finding.CookieNone, "",
			"no BetterAuth session cookie: %s. Paste the Cookie request header (DevTools → Network → a request to your API → Request Headers) or the Set-Cookie lines of the sign-in response.", what)
	}
	return rep
}

func label(item InputItem) string {
	if item.Name != "" {
		return item.Name
	}
	return item.From
}

func truncList(s []string, n int) string {
	if len(s) == 0 {
		return "no names"
	}
	if len(s) > n {
		return strings.Join(s[:n], ", ") + fmt.Sprintf(", and %d more", len(s)-n)
	}
	return strings.Join(s, ", ")
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

func checkCache(fs *finding.List, cr *CookieReport, signers []string, tokens []string) {
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
	if cache.Contents != nil && cache.Contents.token != "" && len(tokens) > 0 {
		same := false
		for _, t := range tokens {
			if t == cache.Contents.token {
				same = true
			}
		}
		if !same {
			fs.Add(finding.CacheTokenMismatch, what,
				"%s describes session token %s, but the session_token cookie holds %s: a stale cache from an earlier sign-in. The server trusts the cache until it expires.",
				what, cache.Contents.TokenPrefix, textsafe.TokenPrefix(tokens[0]))
		}
	}
}

func sessionTokens(cookies []CookieReport) []string {
	var out []string
	for _, c := range cookies {
		if (c.Kind == KindSessionToken || c.Kind == KindBearer) && c.token != "" {
			out = append(out, c.token)
		}
	}
	return out
}

func hasBetterAuthCredential(cookies []CookieReport) bool {
	for _, c := range cookies {
		switch c.Kind {
		case KindSessionToken, KindSessionData, KindDontRemember, KindBearer:
			return true
		}
	}
	return false
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
// report and attaches the answers; it is the caller's to open db.
func (r *DecodeReport) LookupTokens(ctx context.Context, db *database.DB, schema *database.Schema) error {
	seen := map[string]*database.TokenLookup{}
	for i := range r.Cookies {
		c := &r.Cookies[i]
		if c.token == "" || (c.Kind != KindSessionToken && c.Kind != KindBearer) {
			continue
		}
		if prev, ok := seen[c.token]; ok {
			c.SessionRow = prev
			continue
		}
		row, fs, err := db.LookupToken(ctx, schema, c.token, label(InputItem{Name: c.Name, From: c.From}))
		if err != nil {
			return err
		}
		c.SessionRow = &row
		seen[c.token] = &row
		r.Findings = append(r.Findings, fs...)
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
	rows := map[string]*database.TokenLookup{}
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
