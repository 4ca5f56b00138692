package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// DefaultSecret is BetterAuth's built-in fallback. Development and preview
// builds run on it silently when no secret variable reaches the process.
const DefaultSecret = "better-auth-secret-12345678901234567890"

// DefaultLabel labels the built-in default as a candidate secret.
const DefaultLabel = "builtin-default"

// Thresholds BetterAuth itself warns about.
const (
	minSecretLength  = 32
	minEntropyBits   = 120
	fingerprintLabel = "authtui secret fingerprint v1"
)

// Fingerprint identifies a secret without revealing it: a short HMAC keyed
// by the secret over a fixed label. A plain hash would let anyone with a
// wordlist test guesses offline just the same, but a keyed MAC at least
// never puts a digest of the secret alone into logs and screenshots.
func Fingerprint(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(fingerprintLabel))
	return hex.EncodeToString(m.Sum(nil))[:12]
}

// EntropyBits is BetterAuth's estimate: length × log2(distinct characters).
func EntropyBits(secret string) float64 {
	distinct := map[rune]bool{}
	for _, r := range secret {
		distinct[r] = true
	}
	if len(distinct) <= 1 {
		return 0
	}
	return float64(jsLength(secret)) * math.Log2(float64(len(distinct)))
}

// Role says how a server configured from a source uses a candidate secret.
type Role string

const (
	RoleCurrent  Role = "current"  // signs and verifies session_token, dont_remember, compact/jwt caches; encrypts jwe
	RolePrevious Role = "previous" // an older BETTER_AUTH_SECRETS version: only decrypts jwe caches
	RoleLegacy   Role = "legacy"   // BETTER_AUTH_SECRET/AUTH_SECRET beside BETTER_AUTH_SECRETS: only decrypts jwe caches
	RoleIgnored  Role = "ignored"  // AUTH_SECRET shadowed by BETTER_AUTH_SECRET: never used
	RoleTrimmed  Role = "trimmed"  // a whitespace-trimmed variant of a raw value, i.e. what the user meant
	RoleDefault  Role = "default"  // the built-in default
)

// Candidate is one secret a server might sign with. The value is unexported
// so that no encoder or formatter can ever print it.
type Candidate struct {
	Label    string `json:"label"`             // source label, or builtin-default
	Variable string `json:"variable"`          // where it came from
	Version  string `json:"version,omitempty"` // BETTER_AUTH_SECRETS version
	Role     Role   `json:"role"`
	secret   string
}

// Fingerprint of the candidate's secret.
func (c Candidate) Fingerprint() string { return Fingerprint(c.secret) }

// MarshalJSON adds the fingerprint, so JSON consumers can match candidates
// across runs and sources without ever seeing a secret.
func (c Candidate) MarshalJSON() ([]byte, error) {
	type plain Candidate
	return json.Marshal(struct {
		plain
		Fingerprint string `json:"fingerprint"`
	}{plain(c), c.Fingerprint()})
}

// Secret exposes the value to the verification code only.
func (c Candidate) key() []byte { return []byte(c.secret) }

// IsDefault reports whether this candidate is BetterAuth's built-in default.
func (c Candidate) IsDefault() bool { return c.Role == RoleDefault }

// Signs reports whether a server configured from the candidate's source
// signs (and verifies signatures) with it.
func (c Candidate) Signs() bool { return c.Role == RoleCurrent || c.Role == RoleDefault }

// Decrypts reports whether such a server accepts a jwe cache encrypted with
// it (better-auth tries every version and the legacy secret).
func (c Candidate) Decrypts() bool { return c.Role != RoleIgnored && c.Role != RoleTrimmed }

// String never includes the secret.
func (c Candidate) String() string {
	s := c.Label
	if c.Version != "" {
		s += " v" + c.Version
	}
	if c.Role != RoleCurrent && c.Role != RoleDefault {
		s += " (" + c.Variable + ", " + string(c.Role) + ")"
	}
	return s
}

// SecretVersion is one entry of BETTER_AUTH_SECRETS.
type SecretVersion struct {
	Version     string `json:"version"`
	Length      int    `json:"length"`
	Fingerprint string `json:"fingerprint"`
	Current     bool   `json:"current"`
}

// VarStatus is one secret variable as a source sets it.
type VarStatus struct {
	Name        string  `json:"name"`
	Length      int     `json:"length"`
	Fingerprint string  `json:"fingerprint,omitempty"`
	EntropyBits float64 `json:"entropy_bits"`
	Whitespace  string  `json:"whitespace,omitempty"`
	Used        bool    `json:"used"`
}

// SecretStatus is what one source resolves to, the way BetterAuth resolves
// it: the row of the secrets table.
type SecretStatus struct {
	Label       string          `json:"label"`
	Loaded      bool            `json:"loaded"`
	Error       string          `json:"error,omitempty"`
	Variable    string          `json:"variable"` // the winning variable, or builtin-default
	Present     bool            `json:"present"`
	Length      int             `json:"length"`
	Fingerprint string          `json:"fingerprint,omitempty"`
	EntropyBits float64         `json:"entropy_bits"`
	Default     bool            `json:"default"`
	Whitespace  string          `json:"whitespace,omitempty"`
	Versions    []SecretVersion `json:"versions,omitempty"`
	Variables   []VarStatus     `json:"variables"`
	BaseURL     string          `json:"base_url,omitempty"`
	NodeEnv     string          `json:"node_env,omitempty"`
}

// SecretsReport is the result of the secrets probe.
type SecretsReport struct {
	Sources    []SecretStatus `json:"sources"`
	Candidates []Candidate    `json:"candidates"`
	Findings   finding.List   `json:"findings"`
}

// resolved is a source's secret configuration after BetterAuth's rules.
type resolved struct {
	variable  string
	current   string
	versions  []versionedSecret // non-empty only for BETTER_AUTH_SECRETS
	malformed string            // why BETTER_AUTH_SECRETS is unusable
}

type versionedSecret struct{ version, secret string }

// resolveSecret follows BetterAuth: BETTER_AUTH_SECRETS first (first entry
// current), then BETTER_AUTH_SECRET, then AUTH_SECRET, else the default.
func resolveSecret(src Source) resolved {
	if raw, ok := src.Vars["BETTER_AUTH_SECRETS"]; ok && strings.TrimSpace(raw) != "" {
		versions, why := parseSecretsList(raw)
		r := resolved{variable: "BETTER_AUTH_SECRETS", versions: versions, malformed: why}
		if why == "" && len(versions) > 0 {
			r.current = versions[0].secret
		}
		return r
	}
	for _, name := range []string{"BETTER_AUTH_SECRET", "AUTH_SECRET"} {
		if v, ok := src.Vars[name]; ok && v != "" {
			return resolved{variable: name, current: v}
		}
	}
	return resolved{}
}

// parseSecretsList mirrors better-auth's parseSecretsEnv and
// validateSecretsArray (context/secret-utils): entries split on ',', each
// trimmed, version = parseInt of what precedes the first ':' (non-negative,
// unique), value trimmed and non-empty. The reason never quotes a value.
func parseSecretsList(raw string) ([]versionedSecret, string) {
	var out []versionedSecret
	seen := map[int]bool{}
	for i, entry := range strings.Split(raw, ",") {
		entry = strings.TrimSpace(entry)
		colon := strings.IndexByte(entry, ':')
		if colon < 0 {
			return nil, fmt.Sprintf("entry %d is not <version>:<secret>", i+1)
		}
		version, ok := jsParseInt(entry[:colon])
		if !ok || version < 0 {
			return nil, fmt.Sprintf("entry %d has no non-negative integer version", i+1)
		}
		secret := strings.TrimSpace(entry[colon+1:])
		if secret == "" {
			return nil, fmt.Sprintf("version %d has an empty secret", version)
		}
		if seen[version] {
			return nil, fmt.Sprintf("version %d appears twice", version)
		}
		seen[version] = true
		out = append(out, versionedSecret{version: strconv.Itoa(version), secret: secret})
	}
	return out, ""
}

// jsParseInt is JavaScript's parseInt(s, 10): optional sign and leading
// digits after leading whitespace, the rest ignored.
func jsParseInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for ; digits < len(s) && s[digits] >= '0' && s[digits] <= '9'; digits++ {
		if n > 1<<30 {
			return 0, false
		}
		n = n*10 + int(s[digits]-'0')
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// whitespaceIssue describes leading/trailing whitespace or stray quotes
// that a hosting dashboard or a dotenv quirk left in a value.
func whitespaceIssue(v string) string {
	var parts []string
	lead := v[:len(v)-len(strings.TrimLeft(v, " \t\r\n"))]
	trail := v[len(strings.TrimRight(v, " \t\r\n")):]
	if lead != "" {
		parts = append(parts, "leading "+describeWS(lead))
	}
	if trail != "" {
		parts = append(parts, "trailing "+describeWS(trail))
	}
	inner := strings.TrimSpace(v)
	if strings.ContainsAny(inner, "\r\n") {
		parts = append(parts, "a line break inside")
	}
	if inner != "" && (strings.ContainsRune(`"'`, rune(inner[0])) || strings.ContainsRune(`"'`, rune(inner[len(inner)-1]))) {
		parts = append(parts, "quote characters")
	}
	return strings.Join(parts, ", ")
}

func describeWS(ws string) string {
	switch {
	case strings.Contains(ws, "\r\n"):
		return "CRLF"
	case strings.Contains(ws, "\n"):
		return "newline"
	case strings.Contains(ws, "\r"):
		return "carriage return"
	case strings.Contains(ws, "\t"):
		return "tab"
	default:
		return "space"
	}
}

func cleanValue(v string) string { return strings.Trim(strings.TrimSpace(v), `"'`) }

// CheckSecrets builds the secrets table and its findings from sources.
func CheckSecrets(sources []Source) SecretsReport {
	var rep SecretsReport
	type current struct{ label, fp string }
	var currents []current
	currentOf := map[string]string{} // fingerprint -> first label, for whitespace hints
	resolvedBy := make([]resolved, len(sources))

	for i, src := range sources {
		r := resolveSecret(src)
		resolvedBy[i] = r
		if r.current != "" {
			fp := Fingerprint(r.current)
			currents = append(currents, current{src.Label, fp})
			if _, ok := currentOf[fp]; !ok {
				currentOf[fp] = src.Label
			}
		}
	}

	for i, src := range sources {
		st := SecretStatus{Label: src.Label, Loaded: src.Loaded(), Error: src.Err}
		if !src.Loaded() {
			rep.Sources = append(rep.Sources, st)
			continue
		}
		r := resolvedBy[i]
		st.Variable = r.variable
		st.NodeEnv = src.Vars["NODE_ENV"]
		if _, u, ok := src.FirstSet(BaseURLVars); ok {
			st.BaseURL = u
		}
		for _, name := range SecretVars {
			v, ok := src.Vars[name]
			if !ok {
				continue
			}
			vs := VarStatus{Name: name, Length: jsLength(v), Used: name == r.variable}
			if v != "" && name != "BETTER_AUTH_SECRETS" {
				vs.Fingerprint = Fingerprint(v)
				vs.EntropyBits = round1(EntropyBits(v))
				vs.Whitespace = whitespaceIssue(v)
			}
			st.Variables = append(st.Variables, vs)
		}
		for j, v := range r.versions {
			st.Versions = append(st.Versions, SecretVersion{
				Version: v.version, Length: jsLength(v.secret),
				Fingerprint: Fingerprint(v.secret), Current: j == 0,
			})
		}
		switch {
		case r.malformed != "":
			rep.Findings.Add(finding.SecretsMalformed, src.Label,
				"BETTER_AUTH_SECRETS in %s is malformed (%s); BetterAuth refuses to start with it. Use \"<version>:<secret>,<version>:<secret>\", newest first.",
				src.Label, r.malformed)
		case r.current == "":
			st.Variable = DefaultLabel
			st.Default = true
			st.Fingerprint = Fingerprint(DefaultSecret)
			rep.Findings.Add(finding.SecretMissing, src.Label,
				"%s sets none of BETTER_AUTH_SECRETS, BETTER_AUTH_SECRET, AUTH_SECRET: a server started from it signs with the built-in default (production refuses to start). Set BETTER_AUTH_SECRET.",
				src.Label)
		default:
			st.Present = true
			st.Length = jsLength(r.current)
			st.Fingerprint = Fingerprint(r.current)
			st.EntropyBits = round1(EntropyBits(r.current))
			st.Whitespace = whitespaceIssue(r.current)
			checkCurrent(&rep.Findings, src.Label, r, st)
			checkSecretsOrder(&rep.Findings, src.Label, r)
		}
		checkShadowed(&rep.Findings, src, r)
		for _, vs := range st.Variables {
			if vs.Whitespace == "" {
				continue
			}
			v := src.Vars[vs.Name]
			hint := ""
			trimmedFP := Fingerprint(cleanValue(v))
			if other, ok := currentOf[trimmedFP]; ok && other != src.Label {
				hint = fmt.Sprintf(" Trimmed, it equals the secret of %s (fingerprint %s).", other, trimmedFP)
			} else {
				hint = " Trimmed, it matches no other source's secret."
			}
			rep.Findings.Add(finding.SecretWhitespace, src.Label,
				"%s in %s has %s; servers sign with the value as is, so it differs from the same secret typed cleanly. Remove them.%s",
				vs.Name, src.Label, vs.Whitespace, hint)
		}
		rep.Sources = append(rep.Sources, st)
	}

	// secret-mismatch: group sources by the fingerprint of their current secret.
	groups := map[string][]string{}
	var order []string
	for _, c := range currents {
		if _, ok := groups[c.fp]; !ok {
			order = append(order, c.fp)
		}
		groups[c.fp] = append(groups[c.fp], c.label)
	}
	if len(order) > 1 {
		var parts []string
		for _, fp := range order {
			parts = append(parts, fmt.Sprintf("%s (fingerprint %s)", strings.Join(groups[fp], ", "), fp))
		}
		rep.Findings.Add(finding.SecretMismatch, "",
			"sources resolve to %d different secrets: %s. Every service that reads BetterAuth sessions needs the same secret.",
			len(order), strings.Join(parts, " vs "))
	}

	checkBaseURLs(&rep.Findings, sources)
	checkTrustedOrigins(&rep.Findings, sources)
	checkDatabaseURLs(&rep.Findings, sources)
	rep.Candidates = Candidates(sources)
	return rep
}

func checkCurrent(fs *finding.List, label string, r resolved, st SecretStatus) {
	if r.current == DefaultSecret {
		fs.Add(finding.SecretDefault, label,
			"%s in %s is BetterAuth's published built-in default; anyone can forge sessions with it. Generate a new secret (openssl rand -base64 32).",
			r.variable, label)
		return
	}
	if st.Length < minSecretLength {
		fs.Add(finding.SecretShort, label,
			"the current secret in %s has %d characters; BetterAuth warns below %d. Use a longer random secret.",
			label, st.Length, minSecretLength)
	}
	if st.EntropyBits < minEntropyBits {
		fs.Add(finding.SecretLowEntropy, label,
			"the current secret in %s has an estimated %.0f bits of entropy; BetterAuth warns below %d. Use a random secret (openssl rand -base64 32).",
			label, st.EntropyBits, minEntropyBits)
	}
}

// checkSecretsOrder flags a BETTER_AUTH_SECRETS list whose first entry has
// a lower version than a later one. better-auth's buildSecretConfig
// (dist/context/secret-utils.mjs) takes `currentVersion` from
// `secrets[0]`, whatever the numbers say, and only the current secret signs
// and verifies session cookies; whoever appended "3:new" after "2:old"
// meant 3 to be current, and every service that reads sessions with the
// new secret rejects what this one signs.
func checkSecretsOrder(fs *finding.List, label string, r resolved) {
	if len(r.versions) < 2 {
		return
	}
	// Versions were validated by parseSecretsList: non-negative integers.
	first, _ := strconv.Atoi(r.versions[0].version)
	newest, high := r.versions[0], first
	for _, v := range r.versions[1:] {
		if n, _ := strconv.Atoi(v.version); n > high {
			newest, high = v, n
		}
	}
	if high == first {
		return
	}
	cur := r.versions[0]
	f := finding.New(finding.SecretsOrder, label,
		"BETTER_AUTH_SECRETS in %s lists version %s (fingerprint %s) first, yet version %s (fingerprint %s) comes later; BetterAuth signs and verifies sessions with the first entry only, whatever its number, so a server on this list signs with version %s and rejects what a server on version %s signs. If version %s is the new secret, put it first.",
		label, cur.version, Fingerprint(cur.secret), newest.version, Fingerprint(newest.secret), cur.version, newest.version, newest.version)
	*fs = append(*fs, f.WithEvidence(finding.Evidence{Step: label,
		Seen: fmt.Sprintf("BETTER_AUTH_SECRETS versions in order: %s", versionOrder(r.versions))}))
}

// versionOrder is "2, 3" for the list "2:…,3:…": numbers only.
func versionOrder(vs []versionedSecret) string {
	var out []string
	for _, v := range vs {
		out = append(out, v.version)
	}
	return strings.Join(out, ", ")
}

// checkShadowed warns when a source sets several secret variables and one
// that BetterAuth ignores differs from the one it uses: a teammate who reads
// the ignored one gets the wrong secret.
func checkShadowed(fs *finding.List, src Source, r resolved) {
	if r.current == "" {
		return
	}
	for _, name := range []string{"BETTER_AUTH_SECRET", "AUTH_SECRET"} {
		if name == r.variable {
			continue
		}
		v, ok := src.Vars[name]
		if !ok || v == "" || v == r.current {
			continue
		}
		fs.Add(finding.SecretShadowed, src.Label,
			"%s in %s (fingerprint %s) is ignored because %s (fingerprint %s) takes priority; remove one so they cannot drift.",
			name, src.Label, Fingerprint(v), r.variable, Fingerprint(r.current))
	}
}

func checkBaseURLs(fs *finding.List, sources []Source) {
	type seen struct{ label, url string }
	var urls []seen
	for _, src := range sources {
		if !src.Loaded() {
			continue
		}
		name, u, ok := src.FirstSet(BaseURLVars)
		if !ok {
			fs.Add(finding.BaseURLMissing, src.Label,
				"%s sets no BETTER_AUTH_URL: BetterAuth then guesses the base URL from each request, which breaks callbacks and the __Secure- cookie prefix behind proxies. Set it.",
				src.Label)
			continue
		}
		urls = append(urls, seen{src.Label, normalizeBaseURL(u)})
		pu, err := url.Parse(strings.TrimSpace(u))
		if err != nil || pu.Host == "" {
			continue
		}
		prod := strings.TrimSpace(src.Vars["NODE_ENV"]) == "production"
		if pu.Scheme == "http" && !IsLoopbackHost(pu.Hostname()) && prod {
			fs.Add(finding.SecureCookieOverHTTP, src.Label,
				"%s runs in production mode with %s=%s over http://: browsers refuse Secure cookies from http on a non-loopback host. Serve the auth service over https.",
				src.Label, name, pu.Scheme+"://"+pu.Host)
		}
	}
	for _, s := range urls[min(1, len(urls)):] {
		if s.url != urls[0].url {
			fs.Add(finding.BaseURLMismatch, s.label,
				"%s says the base URL is %s, %s says %s; cookies are scoped to the host that sets them, so services must agree.",
				urls[0].label, urls[0].url, s.label, s.url)
		}
	}
}

func normalizeBaseURL(u string) string {
	u = strings.TrimSpace(u)
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return strings.TrimRight(u, "/")
	}
	return strings.ToLower(pu.Scheme) + "://" + strings.ToLower(pu.Host) + strings.TrimRight(pu.Path, "/")
}

// IsLoopbackHost reports whether host is localhost or a loopback address.
// Browsers treat those as secure contexts, so Secure cookies work over http.
func IsLoopbackHost(host string) bool {
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Candidates lists every secret worth trying, in a stable order: each
// source's current secret, its other versions and legacy secret, the
// variables it ignores, whitespace-trimmed variants, and the built-in
// default last.
func Candidates(sources []Source) []Candidate {
	var out []Candidate
	seen := map[string]bool{}
	add := func(c Candidate) {
		key := c.Label + "\x00" + c.Version + "\x00" + c.secret
		if c.secret == "" || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, c)
	}
	for _, src := range sources {
		if !src.Loaded() {
			continue
		}
		r := resolveSecret(src)
		if r.malformed != "" {
			continue
		}
		for i, v := range r.versions {
			role := RolePrevious
			if i == 0 {
				role = RoleCurrent
			}
			add(Candidate{Label: src.Label, Variable: r.variable, Version: v.version, Role: role, secret: v.secret})
		}
		if len(r.versions) == 0 && r.current != "" {
			add(Candidate{Label: src.Label, Variable: r.variable, Role: RoleCurrent, secret: r.current})
		}
		for _, name := range SecretVars[1:] {
			v := src.Vars[name]
			if v == "" {
				continue
			}
			switch {
			case name == r.variable:
			case r.variable == "BETTER_AUTH_SECRETS" && v != DefaultSecret:
				add(Candidate{Label: src.Label, Variable: name, Role: RoleLegacy, secret: v})
			default:
				add(Candidate{Label: src.Label, Variable: name, Role: RoleIgnored, secret: v})
			}
			if t := cleanValue(v); t != v {
				add(Candidate{Label: src.Label, Variable: name, Role: RoleTrimmed, secret: t})
			}
		}
	}
	add(Candidate{Label: DefaultLabel, Variable: DefaultLabel, Role: RoleDefault, secret: DefaultSecret})
	return out
}

// NewCandidate builds a candidate from a raw secret, for secrets that come
// from somewhere other than a source (tests, a future --secret-env flag).
func NewCandidate(label, variable, secret string) Candidate {
	return Candidate{Label: label, Variable: variable, Role: RoleCurrent, secret: secret}
}

// jsLength is JavaScript's String.length (UTF-16 code units), which
// better-auth compares with 32.
func jsLength(s string) int { return len(utf16.Encode([]rune(s))) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// dbTarget is which database a DATABASE_URL names: what decides whether
// two services see the same session rows. A parsed value keeps no
// password; an unparsable one is kept whole only to be compared, never
// shown.
type dbTarget struct {
	scheme, host, port, db, user string
	// A value that is neither a URL nor a key=value DSN is compared whole
	// (opaque) and shown as opaqueShown, which omits anything that could
	// be a credential.
	opaque, opaqueShown string
}

// key compares targets: loopback names are one host (localhost and
// 127.0.0.1 reach the same server), and an unparsable value is compared
// whole.
func (t dbTarget) key() string {
	host := t.host
	if IsLoopbackHost(host) {
		host = "localhost"
	}
	return strings.Join([]string{t.scheme, host, t.port, t.db, t.user, t.opaque}, "\x00")
}

// display is host:port/db, with user@ in front when withUser; never the
// password.
func (t dbTarget) display(withUser bool) string {
	if t.opaque != "" {
		return t.opaqueShown
	}
	host := t.host
	if host == "" {
		host = "(default host)"
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	s := host
	if t.port != "" {
		s += ":" + t.port
	}
	s += "/" + t.db
	if withUser && t.user != "" {
		s = t.user + "@" + s
	}
	return textsafe.Clean(s)
}

var defaultDBPorts = map[string]string{"postgres": "5432", "mysql": "3306", "mariadb": "3306", "sqlserver": "1433", "mongodb": "27017"}

// parseDatabaseURL reads a database URL (postgres://, postgresql://,
// mysql://, …) or a libpq key=value DSN into its target. PostgreSQL's
// defaults are filled in the way libpq applies them, so
// postgres://app@db/app and postgres://app@db:5432/app are one database.
func parseDatabaseURL(raw string) dbTarget {
	raw = strings.TrimSpace(raw)
	if strings.Contains(raw, "://") {
		if u, err := url.Parse(raw); err == nil {
			t := dbTarget{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Hostname()), port: u.Port(),
				db: strings.TrimPrefix(u.Path, "/"), user: u.User.Username()}
			if t.scheme == "postgresql" {
				t.scheme = "postgres"
			}
			if t.scheme == "postgres" {
				// libpq takes these from the query too (host=/var/run/postgresql).
				q := u.Query()
				for name, field := range map[string]*string{"host": &t.host, "port": &t.port, "dbname": &t.db, "user": &t.user} {
					if v := q.Get(name); v != "" {
						*field = v
					}
				}
			}
			return t.withDefaults()
		}
	} else if kv, ok := parseKeywordDSN(raw); ok {
		return dbTarget{scheme: "postgres", host: strings.ToLower(kv["host"]), port: kv["port"], db: kv["dbname"], user: kv["user"]}.withDefaults()
	}
	// Neither (a SQLite path, file:./dev.db, something mangled): compare it
	// whole, show it only when it cannot hold credentials.
	shown := "a value authtui cannot parse"
	if !strings.ContainsAny(raw, "@=") && !strings.Contains(strings.ToLower(raw), "pass") {
		shown = textsafe.Truncate(raw, 80)
	}
	return dbTarget{opaque: raw, opaqueShown: shown}
}

func (t dbTarget) withDefaults() dbTarget {
	if t.port == "" {
		t.port = defaultDBPorts[t.scheme]
	}
	if t.scheme == "postgres" && t.db == "" {
		t.db = t.user // libpq: dbname defaults to the user name
	}
	return t
}

// parseKeywordDSN reads libpq's `host=db port=5432 dbname=app` form,
// single-quoted values included. ok is false unless every word is a
// key=value pair.
func parseKeywordDSN(s string) (map[string]string, bool) {
	kv := map[string]string{}
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimLeft(s, " \t\r\n") {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], " \t") {
			return nil, false
		}
		key := s[:eq]
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			i := 1
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				val.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			s = s[i+1:]
		} else {
			end := strings.IndexAny(s, " \t\r\n")
			if end < 0 {
				end = len(s)
			}
			val.WriteString(s[:end])
			s = s[end:]
		}
		kv[key] = val.String()
	}
	return kv, len(kv) > 0
}

// checkDatabaseURLs warns when sources point DATABASE_URL at different
// databases: a session created through one service is then not found by
// another, which answers null. Sources without DATABASE_URL are not
// compared (an API may not need the database at all).
func checkDatabaseURLs(fs *finding.List, sources []Source) {
	type group struct {
		target dbTarget
		labels []string
	}
	var groups []*group
	byKey := map[string]*group{}
	users := map[string]bool{}
	for _, src := range sources {
		raw, ok := src.Get("DATABASE_URL")
		if !src.Loaded() || !ok || strings.TrimSpace(raw) == "" {
			continue
		}
		t := parseDatabaseURL(raw)
		g, ok := byKey[t.key()]
		if !ok {
			g = &group{target: t}
			byKey[t.key()] = g
			groups = append(groups, g)
		}
		g.labels = append(g.labels, src.Label)
		users[t.user] = true
	}
	if len(groups) < 2 {
		return
	}
	// The user name is shown only when it is part of the difference.
	withUser := len(users) > 1
	var parts []string
	var ev []finding.Evidence
	for _, g := range groups {
		shown := g.target.display(withUser)
		parts = append(parts, fmt.Sprintf("%s → %s", strings.Join(g.labels, ", "), shown))
		for _, l := range g.labels {
			ev = append(ev, finding.Evidence{Step: l, Seen: "DATABASE_URL → " + shown})
		}
	}
	f := finding.New(finding.DBURLMismatch, "",
		"sources set DATABASE_URL to %d different databases: %s. A session created through one service is not found by a service on another database, which answers null. Point every service that reads sessions at the same database (authtui reads the first, %s, unless --database-url is given).",
		len(groups), strings.Join(parts, "; "), groups[0].labels[0])
	*fs = append(*fs, f.WithEvidence(ev...))
}
