package textsafe

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Redact cuts every credential in free text (a server's log line, an error,
// a response body, a pasted command, a URL) down to a prefix short enough to
// match by eye and too short to use, or to the marker "…" where no part of
// the value may show (passwords, secrets, API keys, Basic credentials). The
// text around a credential is kept, so the line stays readable.
//
// It is the one redaction of every output path: text, JSON, the console's
// panes, tailed logs and errors all go through it (and then Clean), so a
// shape it knows is cut wherever it appears. The shapes, in the order they
// are cut:
//
//   - URL userinfo: postgres://user:password@host keeps the user only;
//     a token-like user (https://ghp_…@github.com) keeps its prefix.
//   - Authorization headers (Basic, Bearer, …) and bare "Bearer <token>".
//   - Cookie: and Set-Cookie: values, cookie by cookie (attributes stay).
//   - key=value, key: value and "key":"value" for credential-looking keys
//     (password, secret, token, api_key, x-api-key, session_token, …), the
//     value quoted (several words) or not, terminated or not.
//   - quoted passwords after the word: password "correct horse battery",
//     PASSWORD 'x' (SQL), and --token VALUE style flags.
//   - query values of credential-looking keys (token, code, key, sig, …).
//   - tokens in paths: /reset-password/<token>, /verify-email/<token>, ….
//   - signed BetterAuth tokens (<32 alphanumerics>.<signature>), JWTs and
//     JWEs, and long token-like words (40+ characters that read as random,
//     or hex digests and keys).
//
// Values already cut (ending in "…") are left alone, so Redact is
// idempotent and keeps the prefixes TokenPrefix made.
func Redact(s string) string {
	if len(s) < 6 {
		return s
	}
	// Each step runs only when its words occur: most text holds no
	// credential, and the tail and the JSON pass call this for every line
	// and string. Cutting never adds a word, so the lower-cased original
	// answers for every step.
	low := asciiLower(s)
	if strings.Contains(s, "://") {
		s = rebuild(s, matchesAt(s, userinfo, schemeStarts(s)), cutUserinfo)
	}
	if strings.Contains(low, "authorization") || strings.Contains(low, "bearer") {
		s = redactAuthorization(s)
	}
	if strings.Contains(low, "cookie") {
		s = redactCookieHeaders(s)
	}
	if strings.ContainsAny(s, "=:") {
		s = rebuild(s, keyValues(s), cutKeyValue)
	}
	if strings.ContainsAny(s, `"'`) && (strings.Contains(low, "pass") || strings.Contains(low, "pwd") || strings.Contains(low, "secret") || strings.Contains(low, "identified")) {
		s = replaceMatches(quotedPassword, s, cutQuoted)
	}
	if strings.Contains(s, "-") {
		s = rebuild(s, credentialFlags(s), cutFlag)
	}
	if strings.ContainsAny(s, "?&") && strings.Contains(s, "=") {
		s = rebuild(s, matchesAt(s, queryPair, byteStarts(s, "?&;")), cutQueryPair)
	}
	if strings.Contains(s, "/") && hasPathWord(low) {
		s = replaceMatches(pathToken, s, func(s string, m []int) string { return s[m[2]:m[3]] + marker })
	}
	return redactShapes(s)
}

// RedactCredentials is Redact, under the name older callers use.
func RedactCredentials(s string) string { return Redact(s) }

// Safe is what every output path prints for an untrusted string:
// credentials cut (Redact), then control characters escaped (Clean).
func Safe(s string) string { return Clean(Redact(s)) }

// TokenPrefix shows enough of a session token to match it by eye against a
// database row or a log line, and not enough to use it. Redact cuts token
// values with it.
func TokenPrefix(token string) string {
	const n = 6
	if len(token) <= n {
		return strings.Repeat("•", len(token))
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(token[cut]) {
		cut-- // never split a character
	}
	return token[:cut] + "…"
}

// URL shows a URL without what must not reach a screen: the user:password
// part and the query (reset, verify and callback links carry ?token=…),
// then Redact for tokens in the path. A string that is not an absolute URL
// is only cleaned and redacted.
func URL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		// Unparsable: its query may still hold a code or a token.
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			return Safe(s[:i]) + "?…"
		}
		return Safe(s)
	}
	if u.Host == "" {
		return Safe(s)
	}
	u.User = nil
	hadQuery := u.RawQuery != "" || u.Fragment != "" || u.ForceQuery
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
	out := u.String()
	if hadQuery {
		out += "?…"
	}
	return Safe(out)
}

// SafeValue is Safe for a value that stands alone (a JSON string, a table
// cell): a value that is one absolute URL is shown as URL shows it, as the
// text output shows URLs, so a base URL with userinfo or a query never
// prints as is.
func SafeValue(s string) string {
	if isAbsoluteURL(s) {
		return URL(s)
	}
	return Safe(s)
}

func isAbsoluteURL(s string) bool {
	i := strings.Index(s, "://")
	if i <= 0 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Host != ""
}

// marker stands for a value of which nothing may show.
const marker = "…"

// cutToken keeps a long token's prefix (to match it by eye); a short one
// could be guessed from its prefix, so nothing of it shows.
func cutToken(v string) string {
	if len(v) >= 16 {
		return TokenPrefix(v)
	}
	return marker
}

func alreadyCut(v string) bool { return strings.HasSuffix(v, marker) || strings.HasSuffix(v, "•") }

// replaceMatches rebuilds s with each match of re replaced by repl, which
// gets the submatch indexes of that match.
func replaceMatches(re *regexp.Regexp, s string, repl func(s string, m []int) string) string {
	return rebuild(s, re.FindAllStringSubmatchIndex(s, -1), repl)
}

// matchesAt runs re, anchored with ^, at each of starts (in increasing
// order) and returns the matches that do not overlap, indexed into s. An
// unanchored pattern without a literal prefix tries every position of s:
// finding the few places a credential can start first keeps Redact linear
// and fast on long lines.
func matchesAt(s string, re *regexp.Regexp, starts []int) [][]int {
	var out [][]int
	end := 0
	for _, st := range starts {
		if st < end {
			continue
		}
		m := re.FindStringSubmatchIndex(s[st:])
		if m == nil {
			continue
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += st
			}
		}
		out = append(out, m)
		end = m[1]
	}
	return out
}

// byteStarts lists the positions of any of chars.
func byteStarts(s, chars string) []int {
	var out []int
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(chars, s[i]) >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// rebuild replaces each match (submatch indexes, in order) by repl.
func rebuild(s string, ms [][]int, repl func(s string, m []int) string) string {
	if ms == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m[0]])
		b.WriteString(repl(s, m))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// ---- URL userinfo --------------------------------------------------------------

// userinfo is scheme://userinfo@: the class takes '@' too, so a password
// with an unencoded '@' is cut up to the last '@' of the authority, where
// URL parsers split it.
var userinfo = regexp.MustCompile(`^(?i)([a-z][a-z0-9+.-]{0,30}://)([^\s/?#"'<>\x60\\]*)@`)

// schemeStarts lists where the scheme of each "://" begins.
func schemeStarts(s string) []int {
	var out []int
	for off := 0; ; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			return out
		}
		i += off
		k := i
		for k > 0 && i-k < 31 && (isAlnum(s[k-1]) || s[k-1] == '+' || s[k-1] == '.' || s[k-1] == '-') {
			k--
		}
		if k < i {
			out = append(out, k)
		}
		off = i + 3
	}
}

func cutUserinfo(s string, m []int) string {
	scheme, ui := s[m[2]:m[3]], s[m[4]:m[5]]
	user, _, hasPass := strings.Cut(ui, ":")
	if len(user) > 24 || tokenLike(user) {
		user = cutToken(user)
	}
	if hasPass {
		return scheme + user + ":" + marker + "@"
	}
	return scheme + user + "@"
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// ---- Authorization -------------------------------------------------------------

var (
	authorization = regexp.MustCompile(`(?i)\b((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?)(?:(basic|bearer|token|digest|negotiate|ntlm|apikey)([ \t]+))?([^\s"',;\x60]+)`)
	bearer        = regexp.MustCompile(`(?i)\b(bearer[ \t]+)([A-Za-z0-9._~+/%=-]{8,})`)
)

func redactAuthorization(s string) string {
	s = replaceMatches(authorization, s, func(s string, m []int) string {
		head, v := s[m[2]:m[3]], s[m[8]:m[9]]
		scheme := ""
		if m[4] >= 0 {
			scheme = s[m[4]:m[5]] + s[m[6]:m[7]]
		}
		if alreadyCut(v) {
			return head + scheme + v
		}
		if strings.EqualFold(strings.TrimSpace(scheme), "bearer") || strings.EqualFold(strings.TrimSpace(scheme), "token") {
			return head + scheme + cutToken(v)
		}
		// Basic is user:password in base64; the other schemes carry
		// proofs: nothing of them shows.
		return head + scheme + marker
	})
	return replaceMatches(bearer, s, func(s string, m []int) string {
		v := s[m[4]:m[5]]
		if alreadyCut(v) {
			return s[m[0]:m[1]]
		}
		return s[m[2]:m[3]] + cutToken(v)
	})
}

// ---- Cookie headers ------------------------------------------------------------

var cookieHeader = regexp.MustCompile(`(?i)(^|[^\w-])((?:set-)?cookie["']?[ \t]*:[ \t]*)`)

// cookieAttrs are Set-Cookie attributes: what they hold is no credential.
var cookieAttrs = map[string]bool{"path": true, "domain": true, "expires": true, "max-age": true, "samesite": true, "priority": true, "secure": true, "httponly": true, "partitioned": true}

// redactCookieHeaders cuts each cookie's value after a Cookie: or
// Set-Cookie: header name, pair by pair, up to where the pairs end.
func redactCookieHeaders(s string) string {
	ms := cookieHeader.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range ms {
		if m[1] < last {
			continue // inside the pairs of the previous header
		}
		b.WriteString(s[last:m[1]])
		pos := m[1]
		for {
			j := pos
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			k := j
			for k < len(s) && !strings.ContainsRune("=; \t\r\n\"',", rune(s[k])) {
				k++
			}
			if k < len(s) && s[k] == ';' && k > j { // an attribute without value
				b.WriteString(s[pos : k+1])
				pos = k + 1
				continue
			}
			if k == j || k >= len(s) || s[k] != '=' {
				break
			}
			end := k + 1
			for end < len(s) && !strings.ContainsRune("; \t\r\n\"'", rune(s[end])) {
				end++
			}
			name, v := s[j:k], s[k+1:end]
			b.WriteString(s[pos : k+1])
			if cookieAttrs[strings.ToLower(name)] || v == "" || alreadyCut(v) {
				b.WriteString(v)
			} else {
				b.WriteString(cutToken(v))
			}
			pos = end
			if pos < len(s) && s[pos] == ';' {
				b.WriteByte(';')
				pos++
				continue
			}
			break
		}
		last = pos
	}
	b.WriteString(s[last:])
	return b.String()
}

// ---- key=value, key: value, "key":"value" --------------------------------------

// secretWords name values of which nothing may show; tokenWords values
// whose prefix may (session tokens are matched by prefix everywhere).
const (
	secretWords = `pass(?:word|wd|phrase)?s?|pwd|secrets?|api[_-]?keys?|access[_-]?keys?|private[_-]?keys?|client[_-]?secrets?|credentials?|auth[_-]?keys?`
	tokenWords  = `tokens?|session[_-]?data|dont[_-]?remember|jwt`
	// value: a double- or single-quoted string (terminated or not: an
	// unterminated quote must not leak the rest of the line) or a bare word.
	valueRE = `"(?:[^"\\\r\n]|\\.)*"|"[^"\r\n]*|'[^'\r\n]*'|'[^'\r\n]*|[^\s&;"'<>]+`
)

var (
	// sepValue follows a key that names a credential: the separator
	// (after a closing quote for "key":"value") and the value.
	sepValue    = regexp.MustCompile(`^(["']?[ \t]*[=:][ \t]*)(` + valueRE + `)`)
	passwordish = regexp.MustCompile(`(?i)^(?:pass(?:word|wd|phrase)s?|pwd)$`)
)

// maxKey bounds what is read back from a separator as its key: no key is
// longer, and a megabyte of base64 ending in "==" is not read back twice.
const maxKey = 64

func isKeyChar(c byte) bool { return isAlnum(c) || c == '_' || c == '.' || c == '-' }

// keyValues finds key=value, key: value and "key":"value" where the key
// names a credential: for each '=' or ':', the key before it (after blanks
// and a closing quote) is read back and tested first, so the value's
// pattern runs only there. Matches are submatch indexes: whole, key,
// separator, value.
func keyValues(s string) [][]int {
	var out [][]int
	end := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '=' && s[i] != ':' {
			continue
		}
		j := i
		for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
			j--
		}
		if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
			j--
		}
		k := j
		for k > 0 && j-k <= maxKey && isKeyChar(s[k-1]) {
			k--
		}
		if k == j || k < end || j-k > maxKey || credKind(s[k:j]) == notCredential {
			continue
		}
		m := sepValue.FindStringSubmatchIndex(s[j:])
		if m == nil {
			continue
		}
		out = append(out, []int{k, j + m[1], k, j, j + m[2], j + m[3], j + m[4], j + m[5]})
		end = j + m[1]
		i = end - 1
	}
	return out
}

// credential is what a key's value is: nothing to cut, a token (its prefix
// may show) or a secret (nothing of it may show).
type credential int

const (
	notCredential credential = iota
	tokenCredential
	secretCredential
)

// The words of secretWords and tokenWords as suffixes, in every spelling
// (api_key, api-key, apikey; plurals): a key names a credential when it
// ends in one. Suffix tests cost a fraction of the regexp, and keyStarts
// runs them for every '=' and ':' of every line.
var secretSuffixes, tokenSuffixes = spellings("password", "passwd", "passphrase", "pass", "pwd", "secret", "api_key", "access_key", "private_key", "client_secret", "credential", "auth_key"),
	spellings("token", "session_data", "dont_remember", "jwt")

func spellings(words ...string) []string {
	var out []string
	for _, w := range words {
		for _, sep := range []string{"_", "-", ""} {
			v := strings.ReplaceAll(w, "_", sep)
			out = append(out, v, v+"s")
			if !strings.Contains(w, "_") {
				break
			}
		}
	}
	return out
}

// credKind tells what key's value is, by its last word.
func credKind(key string) credential {
	if key == "" || strings.IndexByte("dstyenlarSTDYENLAR", key[len(key)-1]) < 0 {
		return notCredential // most keys: timestamps, "ip", "status"
	}
	low := asciiLower(key)
	for _, w := range secretSuffixes {
		if strings.HasSuffix(low, w) {
			return secretCredential
		}
	}
	for _, w := range tokenSuffixes {
		if strings.HasSuffix(low, w) {
			return tokenCredential
		}
	}
	return notCredential
}

func cutKeyValue(s string, m []int) string {
	pre, key, sep, v := "", s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]
	keep := s[m[0]:m[1]]
	inner, open, closing := unquote(v)
	if inner == "" || alreadyCut(inner) {
		return keep
	}
	jsonKey := sep[0] == '"' || sep[0] == '\''
	if !jsonKey && !strings.Contains(sep, "=") && open == "" {
		// A colon and a space also start a sentence about the key:
		// "better-auth.session_token: no candidate secret verifies it",
		// "INVALID_EMAIL_OR_PASSWORD: wrong email or password", "2
		// different secrets: auth.env", "the token: connection refused".
		// A word of prose after it is no credential (but after
		// "password:" it may be one).
		prose := isLowerWord(inner)
		switch {
		case prose && (isErrorCode(key) || !passwordKey(key)):
			return keep
		case !strongKey(key) && (!looksCredential(inner) || strings.HasSuffix(strings.ToLower(key), "s")):
			// A plain word: "secret: Zq4mN8pL2xR7" is a credential, a
			// plural introduces a list ("secrets: 640ba7b44d33 = …").
			return keep
		}
	}
	// A trailing comma or full stop ends the sentence, not the value.
	tail := ""
	if open == "" {
		if t := strings.TrimRight(inner, ",.)"); t != "" {
			inner, tail = t, inner[len(t):]
		}
	}
	cut := marker
	if credKind(key) != secretCredential {
		cut = cutToken(inner)
	}
	return pre + key + sep + open + cut + closing + tail
}

// passwordKey is a key that names a password.
func passwordKey(key string) bool {
	low := asciiLower(key)
	for _, w := range []string{"password", "passwords", "passwd", "pwd", "passphrase"} {
		if strings.HasSuffix(low, w) {
			return true
		}
	}
	return false
}

// strongKey is a key that names a credential whatever follows its colon:
// x-api-key, db_password, set-auth-token, passwd.
func strongKey(key string) bool {
	if strings.ContainsAny(key, "_.-") || passwordish.MatchString(key) {
		return true
	}
	k := strings.ToLower(key)
	return k == "apikey" || k == "accesskey" || k == "privatekey" || k == "clientsecret" || k == "authkey"
}

// looksCredential tells a credential after "secret:" or "token:" from a
// word of prose: a mix of letters and digits, no path.
func looksCredential(v string) bool {
	if len(v) < 6 || strings.ContainsAny(v, "/ ") {
		return false
	}
	if tokenLike(v) {
		return true
	}
	var letter, digit bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		letter = letter || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit = digit || c >= '0' && c <= '9'
	}
	return letter && digit
}

// isErrorCode is an error code such as BetterAuth's INVALID_EMAIL_OR_PASSWORD
// (not an env variable such as DB_PASSWORD).
func isErrorCode(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	for _, p := range []string{"INVALID_", "FAILED_", "EXPIRED_", "MISSING_", "WRONG_", "INCORRECT_", "UNKNOWN_", "BAD_", "NO_", "ERR_", "ERROR_"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// isLowerWord is a word of prose: lower-case letters only.
func isLowerWord(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return v != ""
}

// unquote splits a quoted value into its quotes and contents.
func unquote(v string) (inner, open, closing string) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, "", ""
	}
	q := v[:1]
	if len(v) >= 2 && strings.HasSuffix(v, q) {
		return v[1 : len(v)-1], q, q
	}
	return v[1:], q, ""
}

// ---- quoted passwords and flags ------------------------------------------------

var (
	// password "correct horse battery", PASSWORD 'x' (SQL), IDENTIFIED BY 'x'.
	quotedPassword = regexp.MustCompile(`(?i)\b((?:pass(?:word|wd|phrase)?|pwd|secret|identified[ \t]+by)[ \t]+(?:(?:is|was|of|to|set to)[ \t]+)?)("[^"\r\n]*"?|'[^'\r\n]*'?)`)
)

// credentialFlags finds --token VALUE, -password VALUE, --api-key VALUE:
// a flag (a '-' starting a word) whose name names a credential, blanks,
// and a value that is no flag. Matches are submatch indexes: whole, flag,
// blanks, value.
func credentialFlags(s string) [][]int {
	var out [][]int
	for i := 0; i < len(s); i++ {
		if s[i] != '-' || (i > 0 && s[i-1] != ' ' && s[i-1] != '\t') {
			continue
		}
		e := i
		for e < len(s) && e-i <= maxKey && isKeyChar(s[e]) && s[e] != '.' {
			e++
		}
		b := e
		for b < len(s) && (s[b] == ' ' || s[b] == '\t') {
			b++
		}
		if b == e || b == len(s) || s[b] == '-' || isSpace(s[b]) || e-i > maxKey || credKind(s[i:e]) == notCredential {
			i = e
			continue
		}
		v := b
		for v < len(s) && !isSpace(s[v]) {
			v++
		}
		out = append(out, []int{i, v, i, e, e, b, b, v})
		i = v
	}
	return out
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func cutQuoted(s string, m []int) string {
	head, v := s[m[2]:m[3]], s[m[4]:m[5]]
	inner, open, closing := unquote(v)
	if inner == "" || alreadyCut(inner) {
		return s[m[0]:m[1]]
	}
	return head + open + marker + closing
}

func cutFlag(s string, m []int) string {
	flag, v := s[m[2]:m[3]], s[m[6]:m[7]]
	if alreadyCut(v) {
		return s[m[0]:m[1]]
	}
	cut := marker
	if credKind(flag) != secretCredential {
		cut = cutToken(v)
	}
	return flag + s[m[4]:m[5]] + cut
}

// ---- query values ---------------------------------------------------------------

var (
	queryPair = regexp.MustCompile(`^([?&;])([\w.\[\]%-]+)=([^&#\s"'<>]*)`)
	// queryKey: what reset, verify, OAuth, signed-URL and API links put
	// credentials under, besides the words of keyValue.
	queryKey = regexp.MustCompile(`(?i)(?:^|[_.-])(?:` + secretWords + `|` + tokenWords + `|code|sig|signature|key|keys|auth|otp|ticket|hmac|hash|nonce)$`)
)

func cutQueryPair(s string, m []int) string {
	key, v := s[m[4]:m[5]], s[m[6]:m[7]]
	if v == "" || alreadyCut(v) || !queryKey.MatchString(key) {
		return s[m[0]:m[1]]
	}
	cut := marker
	if credKind(key) != secretCredential {
		cut = cutToken(v)
	}
	return s[m[2]:m[3]] + key + "=" + cut
}

// ---- tokens in paths ------------------------------------------------------------

// pathToken is a one-time token as a path segment: BetterAuth's reset
// link is /reset-password/<token>?callbackURL=…
var (
	pathWords = []string{"reset-password/", "verify-email/", "verify/", "magic-link/", "confirm/", "confirm-email/", "accept-invitation/", "invite/", "one-time-token/"}
	pathToken = regexp.MustCompile(`(?i)(/(?:reset-password|verify-email|verify|magic-link|confirm|confirm-email|accept-invitation|invite|one-time-token)/)([^\s/?#"'<>…]{8,})`)
)

func hasPathWord(low string) bool {
	for _, w := range pathWords {
		if strings.Contains(low, w) {
			return true
		}
	}
	return false
}

// ---- token shapes ---------------------------------------------------------------

var (
	// signed is BetterAuth's signed cookie value: the 32-character token,
	// a dot and the HMAC (base64, maybe URL-encoded); tried where a run
	// of exactly 32 alphanumerics meets a dot.
	signed = regexp.MustCompile(`^([A-Za-z0-9]{32})\.([A-Za-z0-9+/=%_-]{16,})`)
	// jwt is a JWS (three parts) or a JWE (five).
	jwt = regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){0,3}`)
)

func redactShapes(s string) string {
	if strings.Contains(s, ".") {
		s = rebuild(s, matchesAt(s, signed, signedStarts(s)), func(s string, m []int) string { return TokenPrefix(s[m[2]:m[3]]) })
		if strings.Contains(s, "eyJ") {
			s = jwt.ReplaceAllStringFunc(s, TokenPrefix)
		}
	}
	if len(s) >= 40 {
		s = redactLongWords(s)
	}
	return s
}

// signedStarts lists the starts of the runs of exactly 32 alphanumerics
// that end at a dot.
func signedStarts(s string) []int {
	var out []int
	for i := 32; i < len(s); i++ {
		if s[i] != '.' {
			continue
		}
		k := i
		for k > 0 && i-k <= 32 && isAlnum(s[k-1]) {
			k--
		}
		if i-k == 32 {
			out = append(out, k)
		}
	}
	return out
}

// longWordChar makes up the words tokenLike judges: no '/' or '.', so
// paths and host names are never one.
func longWordChar(c byte) bool { return longWordChars[c] }

var longWordChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isAlnum(byte(c)) || strings.IndexByte("_+=%-", byte(c)) >= 0
	}
	return t
}()

// redactLongWords cuts the words of 40 or more characters that read as
// random to their prefix.
func redactLongWords(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if !longWordChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && longWordChar(s[j]) {
			j++
		}
		if w := s[i:j]; tokenLike(w) {
			if last == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(TokenPrefix(w))
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// tokenLike says whether a word of 40 or more characters reads as random
// (a key, a token, a signature) rather than as words (an identifier, a test
// name, BETTER_AUTH_SECRET_ROTATION_NOTE): hex of that length always does;
// otherwise the share of character-class changes decides. Random base64
// changes class at about half of its characters, CamelCase and snake_case
// identifiers at under a fifth ('_' and '-' are not counted, and a capital
// starting a lower-case word is no change). The threshold leaves 0.2 % of
// random 40-character tokens uncut and no identifier of the code base cut.
func tokenLike(w string) bool {
	if len(w) < 40 {
		return false
	}
	if isHex(w) {
		return true
	}
	changes, pairs, prev := 0, 0, -1
	for i := 0; i < len(w); i++ {
		c := charClass(w[i])
		if c < 0 {
			continue
		}
		if prev >= 0 {
			pairs++
			if c != prev && !(prev == classUpper && c == classLower) {
				changes++
			}
		}
		prev = c
	}
	return pairs > 0 && float64(changes)/float64(pairs) >= 0.22
}

const (
	classLower = iota
	classUpper
	classDigit
	classOther
)

func charClass(c byte) int {
	switch {
	case c >= 'a' && c <= 'z':
		return classLower
	case c >= 'A' && c <= 'Z':
		return classUpper
	case c >= '0' && c <= '9':
		return classDigit
	case c == '_' || c == '-':
		return -1
	}
	return classOther
}

func isHex(w string) bool {
	lower, upper := true, true
	for i := 0; i < len(w); i++ {
		c := w[i]
		digit := c >= '0' && c <= '9'
		lower = lower && (digit || c >= 'a' && c <= 'f')
		upper = upper && (digit || c >= 'A' && c <= 'F')
	}
	return lower || upper
}

// asciiLower lowers ASCII letters, copying s only when it has one to lower.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
