// Package finding defines the diagnosis record every probe returns and the
// stable catalogue of IDs, documented in docs/findings.md (a test keeps the
// two in step). Scripts and CI match on these IDs, so an ID never changes
// meaning once it is here; a new problem gets a new ID, added to both.
package finding

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Severity orders findings: errors first when sorted.
type Severity int

const (
	Info Severity = iota
	Warn
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warn:
		return "warn"
	default:
		return "info"
	}
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "error":
		*s = Error
	case "warn":
		*s = Warn
	case "info":
		*s = Info
	default:
		return fmt.Errorf("unknown severity %q", b)
	}
	return nil
}

// ID is a stable finding identifier from docs/findings.md.
type ID string

// The catalogue. Severity is part of the catalogue, not of each call site,
// so the same ID always carries the same weight.
const (
	EnvFileUnreadable    ID = "env-file-unreadable"
	SecretMissing        ID = "secret-missing"
	SecretDefault        ID = "secret-default"
	SecretShort          ID = "secret-short"
	SecretLowEntropy     ID = "secret-low-entropy"
	SecretWhitespace     ID = "secret-whitespace"
	SecretMismatch       ID = "secret-mismatch"
	SecretShadowed       ID = "secret-shadowed"
	SecretsMalformed     ID = "secrets-malformed"
	BaseURLMissing       ID = "base-url-missing"
	BaseURLMismatch      ID = "base-url-mismatch"
	SecureCookieOverHTTP ID = "secure-cookie-over-http"

	CookieNone            ID = "cookie-none"
	CookieMalformed       ID = "cookie-malformed"
	CookieSignatureBad    ID = "cookie-signature-invalid"
	CookieSignedByDefault ID = "cookie-signed-by-default"
	CookieSignedByRetired ID = "cookie-signed-by-retired"
	CookieSignerDiffers   ID = "cookie-signer-differs"
	CookieNameMismatch    ID = "cookie-name-mismatch"
	CookieDuplicate       ID = "cookie-duplicate"
	CookieTooLarge        ID = "cookie-too-large"
	CacheInvalid          ID = "cache-invalid"
	CacheExpired          ID = "cache-expired"
	CacheTokenMismatch    ID = "cache-token-mismatch"
	CacheChunkMissing     ID = "cache-chunk-missing"

	SetCookieSameSiteNoneInsecure ID = "setcookie-samesite-none-insecure"
	SetCookieSecureOverHTTP       ID = "setcookie-secure-over-http"
	SetCookieCrossSite            ID = "setcookie-cross-site"
	SetCookieThirdParty           ID = "setcookie-third-party"
	SetCookieDomainInvalid        ID = "setcookie-domain-invalid"
	SetCookiePrefixInvalid        ID = "setcookie-prefix-invalid"
	SetCookieCleared              ID = "setcookie-cleared"

	DBUnreachable       ID = "db-unreachable"
	DBSlow              ID = "db-slow"
	DBNoTLS             ID = "db-no-tls"
	DBSchemaMissing     ID = "db-schema-missing"
	DBSchemaMismatch    ID = "db-schema-mismatch"
	DBOrphanSessions    ID = "db-orphan-sessions"
	DBTokenIndexMissing ID = "db-token-index-missing"
	DBClockSkew         ID = "db-clock-skew"
	DBPooler            ID = "db-pooler"

	SessionNotFound    ID = "session-not-found"
	SessionExpired     ID = "session-expired"
	SessionUserMissing ID = "session-user-missing"
	SessionValid       ID = "session-valid"

	ServerUnreachable        ID = "server-unreachable"
	ServerTimeout            ID = "server-timeout"
	ServerNotBetterAuth      ID = "server-not-betterauth"
	LoginOriginRejected      ID = "login-origin-rejected"
	LoginCredentialsRejected ID = "login-credentials-rejected"
	LoginEmailNotVerified    ID = "login-email-not-verified"
	LoginNoCookie            ID = "login-no-cookie"
	GetSessionNull           ID = "get-session-null"
	GetSessionError          ID = "get-session-error"
	ServerSecretIdentified   ID = "server-secret-identified"
	ServerSecretDefault      ID = "server-secret-default"
	ServerSecretUnknown      ID = "server-secret-unknown"
	BearerNotExposed         ID = "bearer-not-exposed"
	APIRejectsSession        ID = "api-rejects-session"

	// Added with issue 8 (docs/findings.md).
	APINullSession         ID = "api-null-session"
	APICookieRejected      ID = "api-cookie-rejected"
	APIBearerRejected      ID = "api-bearer-rejected"
	LoginUnexpectedStatus  ID = "login-unexpected-status"
	LoginServerError       ID = "login-server-error"
	GetSessionNotSession   ID = "get-session-not-session"
	TrustedOriginsSpace    ID = "trusted-origins-whitespace"
	OriginSchemeMismatch   ID = "origin-scheme-mismatch"
	SecretsOrder           ID = "secrets-order"
	DBURLMismatch          ID = "db-url-mismatch"
	CacheOutlivesSession   ID = "cache-outlives-session"
	DBSessionsIndexMissing ID = "db-sessions-index-missing"
	ServerSecretWhitespace ID = "server-secret-whitespace"
	LoginSignOutFailed     ID = "login-sign-out-failed"
	LoginOverHTTP          ID = "login-over-http"
	InputUnparsable        ID = "input-unparsable"
	DBTLSUnverified        ID = "db-tls-unverified"
	APINotProtected        ID = "api-not-protected"

	// Added with issue 9: discovery compares services per environment.
	EnvironmentMissing ID = "environment-missing"
	EnvironmentCrossed ID = "environment-crossed"

	// Added with issue 10: what Chrome itself says.
	BrowserCookieRefused     ID = "browser-cookie-refused"
	BrowserCookieNotSent     ID = "browser-cookie-not-sent"
	BrowserThirdPartyBlocked ID = "browser-third-party-blocked"
	BrowserCORSRejected      ID = "browser-cors-rejected"
	// Chrome's verdict and authtui's own Set-Cookie analysis differ on
	// the same line: the browser wins, the analysis has a defect.
	BrowserAnalysisDisagrees ID = "browser-analysis-disagrees"
	// The browser run itself failed (Chrome crashed, timed out, the page
	// could not run): no verdict of Chrome's either way.
	BrowserRunFailed ID = "browser-run-failed"
	// Chrome kept the session cookie and sent it, and the page still got
	// no session: the server rejects it, not the browser.
	BrowserNoSession ID = "browser-no-session"

	// Added with issue 11: social sign-in (OAuth).
	OAuthProviderNotFound      ID = "oauth-provider-not-found"
	OAuthRedirectURIUnexpected ID = "oauth-redirect-uri-unexpected"
	OAuthRedirectURIMismatch   ID = "oauth-redirect-uri-mismatch"
	OAuthProviderRefused       ID = "oauth-provider-refused"
	OAuthProviderUnreachable   ID = "oauth-provider-unreachable"
	OAuthProviderDenied        ID = "oauth-provider-denied"
	OAuthStateCookieLost       ID = "oauth-state-cookie-lost"
	OAuthStateMismatch         ID = "oauth-state-mismatch"
	OAuthCallbackError         ID = "oauth-callback-error"

	// Added with issue 12: which credential forms the API accepts.
	APIMethods ID = "api-methods"

	// Added with issue 12: sessions in secondary storage (Redis).
	StoreUnreachable    ID = "store-unreachable"
	StoreSessionMissing ID = "store-session-missing"
	StoreSessionRevoked ID = "store-session-revoked"
	StoreTTLShort       ID = "store-ttl-short"
	StoreDBDisagree     ID = "store-db-disagree"
	StoreOnly           ID = "store-only"
	SessionsElsewhere   ID = "sessions-elsewhere"
	StoreUnsupported    ID = "store-unsupported"

	// Added with issue 12: jwt() plugin tokens verified against the JWKS.
	JWTExpired          ID = "jwt-expired"
	JWTNotYetValid      ID = "jwt-not-yet-valid"
	JWTIssuerMismatch   ID = "jwt-issuer-mismatch"
	JWTAudienceMismatch ID = "jwt-audience-mismatch"
	JWTKeyUnknown       ID = "jwt-key-unknown"
	JWTSignatureInvalid ID = "jwt-signature-invalid"
	JWTMalformed        ID = "jwt-malformed"
	JWTAlgUnsupported   ID = "jwt-alg-unsupported"
)

var severities = map[ID]Severity{
	EnvFileUnreadable: Error, SecretMissing: Error, SecretDefault: Error,
	SecretShort: Warn, SecretLowEntropy: Warn, SecretWhitespace: Error,
	SecretMismatch: Error, SecretShadowed: Warn, SecretsMalformed: Error,
	BaseURLMissing: Warn, BaseURLMismatch: Warn, SecureCookieOverHTTP: Error,

	CookieNone: Error, CookieMalformed: Error, CookieSignatureBad: Error,
	CookieSignedByDefault: Error, CookieSignedByRetired: Warn,
	CookieSignerDiffers: Error, CookieNameMismatch: Warn, CookieDuplicate: Warn,
	CookieTooLarge: Warn, CacheInvalid: Error, CacheExpired: Warn,
	CacheTokenMismatch: Warn, CacheChunkMissing: Error,

	SetCookieSameSiteNoneInsecure: Error, SetCookieSecureOverHTTP: Error,
	SetCookieCrossSite: Error, SetCookieThirdParty: Warn,
	SetCookieDomainInvalid: Error, SetCookiePrefixInvalid: Error,
	SetCookieCleared: Warn,

	DBUnreachable: Error, DBSlow: Warn, DBNoTLS: Warn, DBSchemaMissing: Error,
	DBSchemaMismatch: Warn, DBOrphanSessions: Warn, DBTokenIndexMissing: Warn,
	DBClockSkew: Warn, DBPooler: Info,

	SessionNotFound: Error, SessionExpired: Error, SessionUserMissing: Error,
	SessionValid: Info,

	ServerUnreachable: Error, ServerTimeout: Error, ServerNotBetterAuth: Error,
	LoginOriginRejected: Error, LoginCredentialsRejected: Error,
	LoginEmailNotVerified: Error, LoginNoCookie: Error, GetSessionNull: Error,
	GetSessionError: Error, ServerSecretIdentified: Info,
	ServerSecretDefault: Error, ServerSecretUnknown: Error,
	BearerNotExposed: Warn, APIRejectsSession: Error,

	APINullSession: Error, APICookieRejected: Error, APIBearerRejected: Error,
	LoginUnexpectedStatus: Error, LoginServerError: Error, GetSessionNotSession: Error,
	TrustedOriginsSpace: Error, OriginSchemeMismatch: Error, SecretsOrder: Error,
	DBURLMismatch: Warn, CacheOutlivesSession: Warn, DBSessionsIndexMissing: Warn,
	ServerSecretWhitespace: Error, APINotProtected: Warn,
	LoginSignOutFailed: Warn, LoginOverHTTP: Warn,
	InputUnparsable:    Error,
	DBTLSUnverified:    Warn,
	EnvironmentMissing: Warn, EnvironmentCrossed: Error,
	APIMethods:           Info,
	BrowserCookieRefused: Error, BrowserCookieNotSent: Error, BrowserThirdPartyBlocked: Error, BrowserCORSRejected: Error,
	BrowserAnalysisDisagrees: Warn, BrowserRunFailed: Warn, BrowserNoSession: Error,

	OAuthProviderNotFound: Error, OAuthRedirectURIUnexpected: Warn, OAuthRedirectURIMismatch: Error,
	OAuthProviderRefused: Error, OAuthProviderUnreachable: Error, OAuthProviderDenied: Error,
	OAuthStateCookieLost: Error, OAuthStateMismatch: Error, OAuthCallbackError: Error,

	StoreUnreachable: Error, StoreSessionMissing: Error, StoreSessionRevoked: Error,
	StoreTTLShort: Warn, StoreDBDisagree: Warn, StoreOnly: Info,
	SessionsElsewhere: Warn, StoreUnsupported: Info,

	JWTExpired: Error, JWTNotYetValid: Error, JWTIssuerMismatch: Error,
	JWTAudienceMismatch: Error, JWTKeyUnknown: Error, JWTSignatureInvalid: Error,
	JWTMalformed: Error, JWTAlgUnsupported: Error,
}

// Severity returns the catalogue severity of id; unknown IDs are errors so
// that a typo can never hide a problem.
func (id ID) Severity() Severity {
	if s, ok := severities[id]; ok {
		return s
	}
	return Error
}

// Known reports whether id is in the catalogue.
func (id ID) Known() bool { _, ok := severities[id]; return ok }

// Catalogue returns every known ID, sorted.
func Catalogue() []ID {
	ids := make([]ID, 0, len(severities))
	for id := range severities {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Finding is one diagnosis. Message is plain words that name the fix; it
// must never contain a secret value (fingerprints only).
type Finding struct {
	ID       ID       `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Source   string   `json:"source"`
	// Evidence lists what was observed that raised the finding. It is
	// omitted when empty so that the JSON of findings without evidence
	// stays exactly what scripts already parse.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Evidence is one observation behind a finding: the step (or source) it
// was made at, and what was seen there, in a few words ("403
// INVALID_ORIGIN", "entry 2 is \" https://b.example\""). Like a message, it
// never holds a secret value; server output in it must be sanitised by the
// caller.
type Evidence struct {
	Step string `json:"step,omitempty"`
	Seen string `json:"seen"`
}

// New builds a finding with the catalogue severity.
func New(id ID, source, format string, args ...any) Finding {
	return Finding{ID: id, Severity: id.Severity(), Source: source, Message: fmt.Sprintf(format, args...)}
}

// WithEvidence returns a copy of f with ev appended to its evidence. The
// slice is copied, so findings built from one base never share (and
// overwrite) each other's evidence.
func (f Finding) WithEvidence(ev ...Evidence) Finding {
	if len(ev) == 0 {
		return f
	}
	out := make([]Evidence, 0, len(f.Evidence)+len(ev))
	f.Evidence = append(append(out, f.Evidence...), ev...)
	return f
}

// List is an ordered set of findings.
type List []Finding

// Add appends a finding built with New.
func (l *List) Add(id ID, source, format string, args ...any) {
	*l = append(*l, New(id, source, format, args...))
}

// HasError reports whether any finding is an error: the exit-code rule.
func (l List) HasError() bool {
	for _, f := range l {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Has reports whether a finding with id is present.
func (l List) Has(id ID) bool {
	for _, f := range l {
		if f.ID == id {
			return true
		}
	}
	return false
}

// Count returns the number of findings per severity.
func (l List) Count() (errors, warns, infos int) {
	for _, f := range l {
		switch f.Severity {
		case Error:
			errors++
		case Warn:
			warns++
		default:
			infos++
		}
	}
	return
}

// Sorted returns a copy ordered by severity (errors first), keeping the
// probes' own order within a severity: that order is the order of evidence.
func (l List) Sorted() List {
	out := append(List(nil), l...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity > out[j].Severity })
	return out
}

// MarshalJSON keeps an empty list as [] rather than null, so consumers can
// iterate without a nil check.
func (l List) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Finding(l))
}
