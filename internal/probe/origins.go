package probe

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// trustedOriginsVar is the variable BetterAuth adds to its trusted origins
// on every request.
const trustedOriginsVar = "BETTER_AUTH_TRUSTED_ORIGINS"

// splitTrustedOrigins splits BETTER_AUTH_TRUSTED_ORIGINS the way
// better-auth 1.7.25 does in getTrustedOrigins (dist/context/helpers.mjs):
// `envTrustedOrigins.split(",")`, then `.filter((v) => Boolean(v))`. Empty
// entries go; nothing is trimmed, so " https://b.example" stays an entry
// that no origin ever equals.
func splitTrustedOrigins(raw string) []string {
	var out []string
	for _, e := range strings.Split(raw, ",") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// paddedEntry is a trusted-origins entry that only matches once trimmed.
type paddedEntry struct {
	index int // 1-based position in the list
	raw   string
}

// paddedTrustedOrigins lists the entries with leading or trailing
// whitespace. An entry that is whitespace only ("a, b, ") trusts nothing
// and hides nothing, so it is not reported.
func paddedTrustedOrigins(raw string) []paddedEntry {
	var out []paddedEntry
	for i, e := range splitTrustedOrigins(raw) {
		if t := strings.TrimSpace(e); t != e && t != "" {
			out = append(out, paddedEntry{i + 1, e})
		}
	}
	return out
}

// showEntry quotes an origin entry so its whitespace is visible and no
// control character reaches the terminal. Origins are not secrets.
func showEntry(e string) string {
	const max = 100
	if r := []rune(e); len(r) > max {
		e = string(r[:max-1]) + "…"
	}
	return strconv.Quote(e)
}

// checkTrustedOrigins raises trusted-origins-whitespace for each source
// whose BETTER_AUTH_TRUSTED_ORIGINS has padded entries.
func checkTrustedOrigins(fs *finding.List, sources []Source) {
	for _, src := range sources {
		raw, ok := src.Get(trustedOriginsVar)
		if !src.Loaded() || !ok {
			continue
		}
		padded := paddedTrustedOrigins(raw)
		if len(padded) == 0 {
			continue
		}
		var shown []string
		var ev []finding.Evidence
		for i, p := range padded {
			if i < 5 {
				shown = append(shown, fmt.Sprintf("entry %d is %s", p.index, showEntry(p.raw)))
			}
			ev = append(ev, finding.Evidence{Step: src.Label, Seen: fmt.Sprintf("%s entry %d is %s", trustedOriginsVar, p.index, showEntry(p.raw))})
		}
		if len(padded) > len(shown) {
			shown = append(shown, fmt.Sprintf("and %d more", len(padded)-len(shown)))
		}
		var fixed []string
		for _, e := range splitTrustedOrigins(raw) {
			if t := strings.TrimSpace(e); t != "" {
				fixed = append(fixed, t)
			}
		}
		f := finding.New(finding.TrustedOriginsSpace, src.Label,
			"%s in %s has whitespace around entries (%s). BetterAuth splits the list on \",\" without trimming, so those entries never match an origin and sign-in from them answers 403 INVALID_ORIGIN. Remove the whitespace: %s=%s",
			trustedOriginsVar, src.Label, strings.Join(shown, "; "), trustedOriginsVar, textsafe.Truncate(strings.Join(fixed, ","), 300))
		*fs = append(*fs, f.WithEvidence(ev...))
	}
}

// jsOrigin is an http(s) URL reduced to what better-auth compares: its
// origin and its host, serialised as the WHATWG URL parser (Node's `new
// URL`) does: scheme and host lower-cased, the default port dropped.
type jsOrigin struct {
	scheme string // http or https
	host   string // `url.host`: hostname plus a non-default port
}

func (o jsOrigin) String() string { return o.scheme + "://" + o.host }

// otherScheme is the same origin under http if it was https, and back. A
// non-default port stays (it says nothing about the scheme); re-parsing
// drops one that is the other scheme's default, as `new URL` would.
func (o jsOrigin) otherScheme() jsOrigin {
	scheme := "https"
	if o.scheme == "https" {
		scheme = "http"
	}
	if flipped, ok := parseJSOrigin(scheme + "://" + o.host); ok {
		return flipped
	}
	return jsOrigin{scheme, o.host}
}

// parseJSOrigin mirrors better-auth's getOrigin/getHost (dist/utils/url.mjs,
// `new URL(url).origin` / `.host`) for http(s) URLs. Like the WHATWG parser
// it first strips leading and trailing C0 controls and spaces and removes
// tabs and line breaks anywhere, which is why a padded --origin still means
// the origin while a padded trusted-origins entry (never parsed, compared
// as a string) matches nothing.
func parseJSOrigin(s string) (jsOrigin, bool) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= 0x20 })
	s = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return jsOrigin{}, false
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		// WHATWG reads the port as a number (":0443" is 443) and drops
		// the scheme's default.
		n, err := strconv.Atoi(p)
		if err != nil || n > 65535 {
			return jsOrigin{}, false
		}
		if !(u.Scheme == "http" && n == 80) && !(u.Scheme == "https" && n == 443) {
			host += ":" + strconv.Itoa(n)
		}
	}
	return jsOrigin{scheme: u.Scheme, host: host}, true
}

// matchesOriginPattern mirrors better-auth 1.7.25's matchesOriginPattern
// (dist/auth/trusted-origins.mjs) for an http(s) origin, the only kind a
// browser sign-in sends:
//   - a pattern with `*` or `?` but no "://" is matched against the host
//     (`getHost`), so `*.example.com` trusts both schemes;
//   - a pattern without wildcards must equal the origin exactly, as a
//     string (no trimming, no lower-casing, no trailing slash);
//   - a wildcard pattern with "://" is matched against the whole origin;
//   - either wildcard kind must pass isAllowedIPv4Host.
//
// Custom-scheme patterns (`myapp://`) never match an http(s) origin there
// either.
func matchesOriginPattern(o jsOrigin, pattern string) bool {
	hasWildcard := strings.ContainsAny(pattern, "*?")
	if hasWildcard && !strings.Contains(pattern, "://") {
		return wildcardMatch(pattern, o.host) && allowedIPv4Host(pattern, o.host)
	}
	origin := o.String()
	if !hasWildcard {
		return pattern == origin
	}
	if !wildcardMatch(pattern, origin) {
		return false
	}
	return allowedIPv4Host(pattern[strings.Index(pattern, "://")+3:], o.host)
}

// wildcardMatch is better-auth's wildcardMatch(pattern)(sample)
// (dist/utils/wildcard.mjs) with its default separator "/": `*` is any run
// of characters other than "/" and "\" (so it crosses dots:
// `*.example.com` trusts a.b.example.com), `?` one such character, `**` a
// run of whole segments, `\` escapes; the whole sample must match.
func wildcardMatch(pattern, sample string) bool {
	re, err := regexp.Compile("^" + globRegexp(pattern) + "$")
	return err == nil && re.MatchString(sample)
}

// globRegexp is `transform(pattern, true)` of dist/utils/wildcard.mjs,
// statement for statement, so that edge cases (empty segments, a trailing
// "/", "**") come out the same.
func globRegexp(pattern string) string {
	const (
		sepMatcher = `[/\\]`
		wildcard   = `[^/\\]`
		required   = sepMatcher + `+?`
		optional   = sepMatcher + `*?`
	)
	segments := strings.Split(pattern, "/")
	var b strings.Builder
	for s, segment := range segments {
		if segment == "" && s > 0 {
			continue
		}
		sep := ""
		switch {
		case s == len(segments)-1:
			sep = optional
		case segments[s+1] != "**":
			sep = required
		}
		if segment == "**" {
			if sep != "" {
				if s != 0 {
					b.WriteString(sep)
				}
				b.WriteString("(?:" + wildcard + "*?" + sep + ")*?")
			}
			continue
		}
		for c := 0; c < len(segment); c++ {
			switch ch := segment[c]; ch {
			case '\\':
				if c < len(segment)-1 {
					b.WriteString(regexp.QuoteMeta(segment[c+1 : c+2]))
					c++
				}
			case '?':
				b.WriteString(wildcard)
			case '*':
				b.WriteString(wildcard + "*?")
			default:
				// Bytes of a multi-byte character pass through intact:
				// QuoteMeta escapes ASCII punctuation only.
				b.WriteString(regexp.QuoteMeta(segment[c : c+1]))
			}
		}
		b.WriteString(sep)
	}
	return b.String()
}

// allowedIPv4Host is better-auth's isAllowedIPv4Host: a wildcard host made
// only of digits, dots and wildcards (`192.168.*.*`) names an address
// range, so it admits only a dotted IPv4 address, never
// 192.168.attacker.com.
func allowedIPv4Host(patternAuthority, authority string) bool {
	patternHost, _, _ := strings.Cut(patternAuthority, ":")
	if !isIPWildcardHost(patternHost) {
		return true
	}
	host, _, _ := strings.Cut(authority, ":")
	return isIPv4(host)
}

// isIPWildcardHost is /^(?=.*\d)[\d*?.]+$/.
func isIPWildcardHost(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case c == '*' || c == '?' || c == '.':
		default:
			return false
		}
	}
	return digit
}

// isIPv4 is zod's ipv4 regex: four decimal octets 0-255 without leading
// zeros.
func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || (len(p) > 1 && p[0] == '0') {
			return false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 || p[0] == '+' || p[0] == '-' {
			return false
		}
	}
	return true
}

// trustedEntry is one origin a server configured from a source trusts,
// and where it comes from, for the message.
type trustedEntry struct {
	pattern string
	where   string // `BETTER_AUTH_TRUSTED_ORIGINS entry 2 "…"`, `its base URL (BETTER_AUTH_URL)`
	fromEnv bool   // a trusted-origins entry, as opposed to the base URL
}

// trustedOriginsOf lists what a server started from src trusts, as far as
// its environment tells: the base URL's origin (better-auth always adds
// `new URL(baseURL).origin`, getTrustedOrigins in dist/context/helpers.mjs)
// and each BETTER_AUTH_TRUSTED_ORIGINS entry. Without a base URL in src,
// BetterAuth takes it from the request, i.e. the URL authtui reaches it
// at: baseURL. trustedOrigins in the auth config's code is not visible.
func trustedOriginsOf(src Source, baseURL string) []trustedEntry {
	var out []trustedEntry
	base, where := "", "--base-url"
	for _, name := range BaseURLVars {
		// better-auth's getBaseURL: `env.A || env.B || … || (env.BASE_URL !== "/" ? env.BASE_URL : void 0)`.
		if v := src.Vars[name]; v != "" && !(name == "BASE_URL" && v == "/") {
			base, where = v, name
			break
		}
	}
	if base == "" {
		base = baseURL
	}
	if o, ok := parseJSOrigin(base); ok {
		out = append(out, trustedEntry{pattern: o.String(), where: fmt.Sprintf("its base URL (%s=%s)", where, textsafe.Clean(o.String()))})
	}
	for i, e := range splitTrustedOrigins(src.Vars[trustedOriginsVar]) {
		out = append(out, trustedEntry{pattern: e, where: fmt.Sprintf("%s entry %d %s", trustedOriginsVar, i+1, showEntry(e)), fromEnv: true})
	}
	return out
}

// CheckOrigin checks the front-end origin (--origin, where the user signs
// in from) against what each source's server would trust, before any
// request is made:
//   - origin-scheme-mismatch when a source trusts it only under the other
//     scheme (http vs https): BetterAuth compares the scheme, so sign-in
//     answers 403 INVALID_ORIGIN;
//   - trusted-origins-whitespace when a source lists it only with
//     whitespace around it in BETTER_AUTH_TRUSTED_ORIGINS.
//
// A source that trusts the origin as is, or does not mention it under
// either scheme, raises nothing: its trustedOrigins may live in code.
// baseURL is the auth service's URL as authtui reaches it, the base URL of
// sources that set none.
func CheckOrigin(sources []Source, origin, baseURL string) finding.List {
	o, ok := parseJSOrigin(origin)
	if !ok {
		return nil
	}
	show, other := textsafe.Clean(o.String()), textsafe.Clean(o.otherScheme().String())
	var fs finding.List
	for _, src := range sources {
		if !src.Loaded() {
			continue
		}
		entries := trustedOriginsOf(src, baseURL)
		match := func(o jsOrigin, trim bool) (trustedEntry, bool) {
			for _, e := range entries {
				p := e.pattern
				if trim {
					p = strings.TrimSpace(p)
				}
				if matchesOriginPattern(o, p) {
					return e, true
				}
			}
			return trustedEntry{}, false
		}
		if _, ok := match(o, false); ok {
			continue
		}
		if e, ok := match(o, true); ok && e.fromEnv {
			f := finding.New(finding.TrustedOriginsSpace, src.Label,
				"%s lists the front end %s only with whitespace around it, as %s; BetterAuth does not trim the list, so sign-in from %s answers 403 INVALID_ORIGIN. Remove the whitespace around the entry.",
				src.Label, show, e.where, show)
			fs = append(fs, f.WithEvidence(finding.Evidence{Step: src.Label, Seen: e.where}))
			continue
		}
		// Trimmed too: once the whitespace is gone the scheme is still wrong.
		if e, ok := match(o.otherScheme(), true); ok {
			f := finding.New(finding.OriginSchemeMismatch, src.Label,
				"%s trusts the front end %s only as %s, through %s; BetterAuth compares the scheme too, so sign-in from %s answers 403 INVALID_ORIGIN. Trust %s (BETTER_AUTH_TRUSTED_ORIGINS or trustedOrigins), or fix the scheme the front end or the base URL uses.",
				src.Label, show, other, e.where, show, show)
			fs = append(fs, f.WithEvidence(finding.Evidence{Step: src.Label, Seen: e.where}))
		}
	}
	return fs
}
