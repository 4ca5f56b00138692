package jwtcheck

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Report.Signature values. "" means not checked: no JWKS was given, or the
// token does not parse (then Findings holds jwt-malformed).
const (
	SignatureValid       = "valid"
	SignatureInvalid     = "invalid"
	SignatureKeyUnknown  = "key-unknown"
	SignatureUnsupported = "unsupported"
)

// Algorithms are the signature algorithms the jwt() plugin can sign with
// (jwks.keyPairConfig.alg of better-auth 1.7: EdDSA with Ed25519 by
// default, ES256, ES512, PS256, RS256). Anything else, HS256 above all, is
// no jwt() token.
var Algorithms = []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256, jose.ES512, jose.PS256, jose.RS256}

// Expected is a value a named party expects in a claim: a source's base
// URL as issuer, what an API checks as audience.
type Expected struct{ Label, Value string }

// Options for Verify.
type Options struct {
	// Now is the time the token is judged at; zero means time.Now().
	Now time.Time
	// Skew is the clock difference tolerated on exp, nbf and iat; zero
	// means DefaultSkew (30 s).
	Skew time.Duration
	// Issuers: each source's base URL, labelled. The token's iss must equal
	// one of them (a token has one iss, so it cannot match sources that
	// disagree); none given means iss is not checked.
	Issuers []Expected
	// Audiences: what each API or source expects in aud. Every one must
	// be in the token's aud, because each party that verifies the token
	// rejects it without its own audience; none given means aud is not
	// checked.
	Audiences []Expected
}

// Report is the verdict on one token.
type Report struct {
	Token Token
	// Signature: SignatureValid, SignatureInvalid, SignatureKeyUnknown,
	// SignatureUnsupported, or "" when not checked.
	Signature string
	// KeyID is the kid of the JWKS key that verified the token, else the
	// token's own kid (cleaned).
	KeyID    string
	Findings finding.List
}

// Verify checks a jwt() token: its signature with the JWKS key its kid
// names (every key when it has no kid), exp, nbf and iat against
// Options.Now with Options.Skew, iss and aud against Options. set nil
// skips the signature (Signature ""), for when the JWKS could not be
// fetched; the claims are still checked. It never returns an error: a
// token that does not parse is a jwt-malformed finding.
func Verify(raw string, set *jose.JSONWebKeySet, o Options) Report {
	raw = normalize(raw)
	p, err := parse(raw)
	if err != nil {
		var rep Report
		rep.Token.Prefix = prefixOf(raw)
		rep.Findings.Add(finding.JWTMalformed, Source,
			"The JWT %s does not parse: %s. Paste the whole token as GET /api/auth/token or the set-auth-jwt header gave it (three base64url parts separated by dots, nothing added).",
			rep.Token.Prefix, err)
		return rep
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	skew := o.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	rep := Report{Token: p.tok, KeyID: p.tok.Kid}
	if set != nil {
		rep.Signature, rep.KeyID = checkSignature(raw, p, set, &rep.Findings)
	}
	checkTimes(p, now, skew, &rep.Findings)
	checkIssuer(p, o.Issuers, &rep.Findings)
	checkAudience(p, o.Audiences, &rep.Findings)
	return rep
}

func supported(alg string) bool {
	for _, a := range Algorithms {
		if string(a) == alg {
			return true
		}
	}
	return false
}

func checkSignature(raw string, p *parsed, set *jose.JSONWebKeySet, fs *finding.List) (sig, keyID string) {
	keyID = p.tok.Kid
	if !supported(p.alg) {
		hint := ""
		switch {
		case strings.HasPrefix(p.alg, "HS"):
			hint = " An HS* token is signed with a shared secret: BetterAuth's cookie cache with strategy jwt (the session_data cookie) looks like this; check it as a cookie, not against the JWKS."
		case strings.EqualFold(p.alg, "none"):
			hint = ` An unsigned token (alg "none") proves nothing and every verifier must reject it.`
		}
		fs.Add(finding.JWTAlgUnsupported, Source,
			"The JWT %s is signed with alg %s, which the jwt() plugin never uses (it signs with %s), so no JWKS key can verify it.%s Send the token from GET /api/auth/token or the set-auth-jwt header instead.",
			p.tok.Prefix, p.tok.Alg, algList(), hint)
		return SignatureUnsupported, keyID
	}
	jws, err := jose.ParseSignedCompact(raw, Algorithms)
	if err != nil || len(jws.Signatures) != 1 {
		// parse accepted it, so this is go-jose being stricter (a header
		// member it rejects, say): still a token no verifier takes.
		problem := "it has no single signature"
		if err != nil {
			problem = joseProblem(err)
		}
		fs.Add(finding.JWTMalformed, Source,
			"The JWT %s does not parse as a JWS: %s. Paste the whole token as the server issued it.", p.tok.Prefix, problem)
		return SignatureInvalid, keyID
	}
	var cands []jose.JSONWebKey
	if p.kid != "" {
		cands = set.Key(p.kid)
	} else {
		cands = set.Keys
	}
	if len(cands) == 0 {
		fs.Add(finding.JWTKeyUnknown, Source, "%s", keyUnknownMessage(p, set))
		return SignatureKeyUnknown, keyID
	}
	var wrongType []string
	for _, k := range cands {
		if k.Algorithm != "" && k.Algorithm != p.alg {
			wrongType = append(wrongType, textsafe.Truncate(k.Algorithm, 40))
			continue
		}
		if _, err := jws.Verify(k); err == nil {
			return SignatureValid, textsafe.Truncate(k.KeyID, 100)
		}
	}
	if p.kid == "" {
		// Without a kid there is no telling a foreign key from a forgery.
		fs.Add(finding.JWTKeyUnknown, Source, "%s", keyUnknownMessage(p, set))
		return SignatureKeyUnknown, keyID
	}
	if len(wrongType) == len(cands) {
		fs.Add(finding.JWTSignatureInvalid, Source,
			"The JWT %s says alg %s, but the JWKS key %s is for %s: the header was edited, or another server minted a key with the same kid. Use the token exactly as the server issued it.",
			p.tok.Prefix, p.tok.Alg, p.tok.Kid, strings.Join(wrongType, ", "))
		return SignatureInvalid, keyID
	}
	fs.Add(finding.JWTSignatureInvalid, Source,
		"The signature of JWT %s does not verify with the JWKS key %s it names: the token was altered (edited, or cut or joined when copied), or another server signed it with a key that has the same kid. Use the token exactly as the server issued it; if it is, the JWKS URL belongs to another server than the one that issued the token.",
		p.tok.Prefix, p.tok.Kid)
	return SignatureInvalid, keyID
}

func keyUnknownMessage(p *parsed, set *jose.JSONWebKeySet) string {
	var kids []string
	for i, k := range set.Keys {
		if i == 5 {
			kids = append(kids, fmt.Sprintf("… %d more", len(set.Keys)-i))
			break
		}
		kids = append(kids, textsafe.Truncate(k.KeyID, 100))
	}
	has := "the JWKS has no keys at all"
	if len(kids) > 0 {
		has = "the JWKS lists " + strings.Join(kids, ", ")
	}
	if p.kid == "" {
		return fmt.Sprintf("The JWT %s names no key (no kid) and none of the JWKS's keys verifies it (%s): it comes from another server, or the key that signed it is gone. Verify it against the JWKS of the server that issued it.", p.tok.Prefix, has)
	}
	return fmt.Sprintf("The JWKS has no key %s, the kid of JWT %s (%s). Rotated: the JWKS no longer has the key this token was signed with; the jwks table lost or replaced its key (rows deleted, the database reset or swapped), or the token comes from another server (another database, another BETTER_AUTH_URL). Get a new token (GET /api/auth/token or get-session's set-auth-jwt) and keep the jwks table's rows; point the API at the JWKS of the server that issues its tokens.",
		p.tok.Kid, p.tok.Prefix, has)
}

func algList() string {
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// when shows a time and how far it is from now, in whole seconds.
func when(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("%s (in %s)", t.UTC().Format(time.RFC3339), d)
	case d < 0:
		return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), -d)
	}
	return t.UTC().Format(time.RFC3339) + " (now)"
}

func checkTimes(p *parsed, now time.Time, skew time.Duration, fs *finding.List) {
	t := p.tok
	if !t.Expires.IsZero() && now.After(t.Expires.Add(skew)) {
		life := ""
		if !t.IssuedAt.IsZero() && t.Expires.After(t.IssuedAt) {
			life = fmt.Sprintf(" It lived %s from iat.", t.Expires.Sub(t.IssuedAt).Round(time.Second))
		}
		fs.Add(finding.JWTExpired, Source,
			"The JWT %s expired at %s, beyond the %s allowed clock skew.%s jwt() tokens live 15 minutes unless jwt.expirationTime says otherwise, and APIs reject them after exp. The client must fetch a fresh token (GET /api/auth/token, or the set-auth-jwt header of get-session) before exp instead of keeping the first one; if the token is fresh, this machine's clock or the server's is wrong.",
			t.Prefix, when(t.Expires, now), skew, life)
	}
	var ahead []string
	if !t.NotBefore.IsZero() && t.NotBefore.After(now.Add(skew)) {
		ahead = append(ahead, "nbf "+when(t.NotBefore, now))
	}
	if !t.IssuedAt.IsZero() && t.IssuedAt.After(now.Add(skew)) {
		ahead = append(ahead, "iat "+when(t.IssuedAt, now))
	}
	if len(ahead) > 0 {
		fs.Add(finding.JWTNotYetValid, Source,
			"The JWT %s is from the future: %s, beyond the %s allowed clock skew. The clock of the server that minted it runs ahead, or this machine's is behind; APIs whose clocks agree with this one reject the token until then. Sync the clocks (NTP) of the auth service and the API.",
			t.Prefix, strings.Join(ahead, ", "), skew)
	}
}

func checkIssuer(p *parsed, want []Expected, fs *finding.List) {
	if len(want) == 0 {
		return
	}
	got := ""
	if p.iss != nil {
		got = *p.iss
		for _, w := range want {
			if w.Value == got {
				return
			}
		}
	}
	seen := "has no iss claim"
	if p.iss != nil {
		seen = "has iss " + quote(got)
	}
	fs.Add(finding.JWTIssuerMismatch, Source,
		"The JWT %s %s, which none of the sources expects: %s.%s An API that checks iss (jose's jwtVerify with issuer) rejects it. The jwt() plugin's iss is the server's base URL (BETTER_AUTH_URL) unless jwt.issuer is set: make that the URL the API expects, or make the API expect this one.",
		p.tok.Prefix, seen, expectations(want), nearMiss(got, want))
}

func checkAudience(p *parsed, want []Expected, fs *finding.List) {
	if len(want) == 0 {
		return
	}
	var missing []Expected
	for _, w := range want {
		found := false
		for _, a := range p.aud {
			if a == w.Value {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	if len(missing) == 0 {
		return
	}
	seen := "has no aud claim"
	if p.audSet {
		shown := make([]string, len(p.tok.Audience))
		for i, a := range p.tok.Audience {
			shown[i] = `"` + a + `"`
		}
		seen = "has aud [" + strings.Join(shown, ", ") + "]"
	}
	near := ""
	if len(p.aud) == 1 {
		near = nearMiss(p.aud[0], missing)
	}
	fs.Add(finding.JWTAudienceMismatch, Source,
		"The JWT %s %s, without what %s.%s An API that checks aud (jose's jwtVerify with audience) rejects a token without its own audience. The jwt() plugin's aud is the server's base URL unless jwt.audience is set: set jwt.audience to the audiences the APIs check, or make the APIs expect this one.",
		p.tok.Prefix, seen, expectations(missing), near)
}

// expectations lists who expects what: `api expects "https://…"`.
func expectations(want []Expected) string {
	parts := make([]string, 0, len(want))
	for i, w := range want {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… %d more", len(want)-i))
			break
		}
		label := textsafe.Truncate(w.Label, 60)
		if label == "" {
			label = "one"
		}
		parts = append(parts, label+" expects "+quote(w.Value))
	}
	return strings.Join(parts, ", ")
}

// nearMiss names the differences people do not see: a trailing slash,
// letter case, surrounding whitespace. Verifiers compare byte for byte.
func nearMiss(got string, want []Expected) string {
	if got == "" {
		return ""
	}
	for _, w := range want {
		switch {
		case strings.TrimRight(w.Value, "/") == strings.TrimRight(got, "/"):
			return " They differ only by a trailing slash, and verifiers compare byte for byte."
		case strings.EqualFold(w.Value, got):
			return " They differ only in letter case, and verifiers compare byte for byte."
		case strings.TrimSpace(w.Value) == strings.TrimSpace(got):
			return " They differ only by whitespace around them (a stray newline in an env value?), and verifiers compare byte for byte."
		}
	}
	return ""
}

func quote(s string) string { return `"` + display(s) + `"` }

// Check fetches the JWKS at jwksURL (none when it is "") and verifies raw
// against it: the one path decode, the console's inspector and the login
// flow take. A JWKS that cannot be read is a server-unreachable finding;
// the claims are still checked.
func Check(ctx context.Context, client *http.Client, raw, jwksURL string, timeout time.Duration, o Options) Report {
	var (
		set *jose.JSONWebKeySet
		fs  finding.List
	)
	if jwksURL != "" {
		var err error
		if set, err = FetchJWKS(ctx, client, jwksURL, timeout); err != nil {
			fs.Add(finding.ServerUnreachable, Source, "the JWKS %s could not be read, so the signature was not checked: %v", textsafe.URL(jwksURL), err)
		}
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	rep := Verify(raw, set, o)
	rep.Findings = append(fs, rep.Findings...)
	return rep
}
