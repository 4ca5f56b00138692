package probe

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/textsafe"

	jose "github.com/go-jose/go-jose/v4"
)

// Cache strategies of session.cookieCache.
const (
	StrategyCompact = "compact"
	StrategyJWT     = "jwt"
	StrategyJWE     = "jwe"
)

// jweSalt and jweInfo are better-auth's HKDF parameters for the session
// cache (crypto/jwt.mjs: deriveEncryptionSecret).
const (
	jweSalt = "better-auth-session"
	jweInfo = "BetterAuth.js Generated Encryption Key"
)

// maxCacheValue bounds what we try to decode: BetterAuth gives up beyond 100
// chunks of ~4 KB, so anything larger is not a real cache.
const maxCacheValue = 512 << 10

// CacheMatch is a candidate that verifies or decrypts the cache.
type CacheMatch struct {
	Label    string `json:"label"`
	Variable string `json:"variable"`
	Version  string `json:"version,omitempty"`
	Role     Role   `json:"role"`
}

// CacheContents is what a verified (or merely decoded) cache says. Only
// non-secret identifying fields are kept: the token appears as a prefix.
type CacheContents struct {
	SessionID   string    `json:"session_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
	Email       string    `json:"email,omitempty"`
	TokenPrefix string    `json:"token_prefix,omitempty"`
	SessionExp  time.Time `json:"session_expires_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at,omitzero"`
	Version     string    `json:"version,omitempty"`
	token       string
}

// CacheReport is the decoded session_data cookie.
type CacheReport struct {
	Strategy   string         `json:"strategy"`
	Chunks     int            `json:"chunks,omitempty"`
	ExpiresAt  time.Time      `json:"expires_at,omitzero"`
	Expired    bool           `json:"expired"`
	KeyID      string         `json:"kid,omitempty"`
	KeyIDLabel string         `json:"kid_matches,omitempty"` // candidate whose derived key has this kid
	Matches    []CacheMatch   `json:"matches"`
	Contents   *CacheContents `json:"contents,omitempty"`
	// Readable is false when nothing could be decoded (for jwe: no
	// candidate decrypts it).
	Readable bool   `json:"readable"`
	Problem  string `json:"problem,omitempty"`
}

// DecodeCache decodes and verifies a session_data value (already joined
// from its chunks and URL-decoded) against every candidate.
func DecodeCache(value string, cands []Candidate, now time.Time) CacheReport {
	value = strings.TrimSpace(value)
	if len(value) > maxCacheValue {
		return CacheReport{Strategy: "unknown", Problem: fmt.Sprintf("value of %d bytes is larger than any cache BetterAuth writes", len(value))}
	}
	switch strings.Count(value, ".") {
	case 4:
		return decodeJWE(value, cands, now)
	case 2:
		return decodeJWT(value, cands, now)
	default:
		return decodeCompact(value, cands, now)
	}
}

// cachePayload is the part of the cache payload authtui reads. Field
// names follow better-auth's session and user models.
type cachePayload struct {
	Session struct {
		ID        string `json:"id"`
		Token     string `json:"token"`
		UserID    string `json:"userId"`
		ExpiresAt string `json:"expiresAt"`
	} `json:"session"`
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	UpdatedAt json.Number `json:"updatedAt"`
	Version   string      `json:"version"`
	Exp       json.Number `json:"exp"`
}

func (p cachePayload) contents() *CacheContents {
	// The fields are the cache's own, which anyone can forge: clipped like
	// the names of the paste.
	c := &CacheContents{
		SessionID: clipName(p.Session.ID), UserID: clipName(p.Session.UserID), Email: clipName(p.User.Email),
		TokenPrefix: textsafe.TokenPrefix(p.Session.Token), Version: clipName(p.Version), token: p.Session.Token,
	}
	if c.UserID == "" {
		c.UserID = clipName(p.User.ID)
	}
	if t, err := time.Parse(time.RFC3339Nano, p.Session.ExpiresAt); err == nil {
		c.SessionExp = t
	}
	if ms, err := p.UpdatedAt.Int64(); err == nil && ms > 0 {
		c.UpdatedAt = jsonTime(time.UnixMilli(ms).UTC())
	}
	return c
}

// jsonTime clamps t to the years 0–9999 that encoding/json can write, so
// that a garbage or forged timestamp cannot make --json output fail. Any
// comparison with the present gives the same answer after clamping.
func jsonTime(t time.Time) time.Time {
	switch {
	case t.Year() > 9999:
		return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	case t.Year() < 0:
		return time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}

func decodeCompact(value string, cands []Candidate, now time.Time) CacheReport {
	rep := CacheReport{Strategy: StrategyCompact, Matches: []CacheMatch{}}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(value, "="))
	if err != nil {
		rep.Strategy = "unknown"
		rep.Problem = "not a JWT, a JWE, nor base64url JSON: not a BetterAuth cookie cache"
		return rep
	}
	// Keep the raw bytes of "session": the signature covers exactly
	// JSON.stringify({...session, expiresAt}), and re-serialising in Go
	// would not reproduce JavaScript's key order and number format.
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&outer); err != nil || len(outer.Session) == 0 || outer.Signature == "" {
		rep.Strategy = "unknown"
		rep.Problem = "decodes to something that is not a compact cache ({session, expiresAt, signature})"
		return rep
	}
	rep.Readable = true
	var p cachePayload
	if err := json.Unmarshal(outer.Session, &p); err == nil {
		rep.Contents = p.contents()
	}
	if ms, err := outer.ExpiresAt.Int64(); err == nil {
		rep.ExpiresAt = jsonTime(time.UnixMilli(ms).UTC())
		rep.Expired = !now.Before(rep.ExpiresAt)
	}
	session := bytes.TrimSpace(outer.Session)
	if len(session) < 2 || session[len(session)-1] != '}' {
		rep.Problem = "the session part is not a JSON object"
		return rep
	}
	msg := make([]byte, 0, len(session)+32)
	msg = append(msg, session[:len(session)-1]...)
	if len(session) > 2 { // not "{}"
		msg = append(msg, ',')
	}
	msg = append(msg, `"expiresAt":`...)
	msg = append(msg, outer.ExpiresAt.String()...)
	msg = append(msg, '}')
	want, err := base64.RawURLEncoding.DecodeString(outer.Signature)
	if err != nil {
		rep.Problem = "the signature is not base64url"
		return rep
	}
	for _, c := range cands {
		m := hmac.New(sha256.New, c.key())
		m.Write(msg)
		if hmac.Equal(m.Sum(nil), want) {
			rep.Matches = append(rep.Matches, matchOf(c))
		}
	}
	return rep
}

func matchOf(c Candidate) CacheMatch {
	return CacheMatch{Label: c.Label, Variable: c.Variable, Version: c.Version, Role: c.Role}
}

func decodeJWT(value string, cands []Candidate, now time.Time) CacheReport {
	rep := CacheReport{Strategy: StrategyJWT, Matches: []CacheMatch{}}
	obj, err := jose.ParseSignedCompact(value, []jose.SignatureAlgorithm{jose.HS256, jose.HS384, jose.HS512, jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		rep.Problem = "not a valid JWS: " + joseProblem(err)
		return rep
	}
	if len(obj.Signatures) == 1 && obj.Signatures[0].Header.Algorithm != string(jose.HS256) {
		rep.Problem = fmt.Sprintf("signed with %s, not BetterAuth's HS256 (a custom cookieCacheSigner or JWKS?)", obj.Signatures[0].Header.Algorithm)
	}
	payload := obj.UnsafePayloadWithoutVerification()
	rep.Readable = true
	fillFromJWTPayload(&rep, payload, now)
	for _, c := range cands {
		if _, err := obj.Verify(c.key()); err == nil {
			rep.Matches = append(rep.Matches, matchOf(c))
		}
	}
	return rep
}

func fillFromJWTPayload(rep *CacheReport, payload []byte, now time.Time) {
	var p cachePayload
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		rep.Problem = "the payload is not JSON"
		return
	}
	rep.Contents = p.contents()
	if exp, err := p.Exp.Int64(); err == nil && exp > 0 {
		rep.ExpiresAt = jsonTime(time.Unix(exp, 0).UTC())
		rep.Expired = !now.Before(rep.ExpiresAt)
	}
}

// JWEKey derives the key better-auth encrypts the jwe cache with.
func JWEKey(c Candidate) []byte {
	key, err := hkdf.Key(sha256.New, c.key(), []byte(jweSalt), jweInfo, 64)
	if err != nil {
		// Only possible for absurd lengths; 64 bytes of SHA-256 HKDF is fine.
		panic(err)
	}
	return key
}

// JWEKeyID is the RFC 7638 thumbprint of the derived key that better-auth
// puts in the JWE header's kid, so the kid alone names the encrypting
// secret. go-jose's Thumbprint does not handle raw []byte keys, so the
// canonical JSON is hashed here; its members are fixed and sorted.
func JWEKeyID(key []byte) string {
	sum := sha256.Sum256([]byte(`{"k":"` + base64.RawURLEncoding.EncodeToString(key) + `","kty":"oct"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func decodeJWE(value string, cands []Candidate, now time.Time) CacheReport {
	rep := CacheReport{Strategy: StrategyJWE, Matches: []CacheMatch{}}
	obj, err := jose.ParseEncryptedCompact(value,
		[]jose.KeyAlgorithm{jose.DIRECT},
		[]jose.ContentEncryption{jose.A256CBC_HS512, jose.A256GCM})
	if err != nil {
		rep.Problem = "not a JWE BetterAuth could have written: " + joseProblem(err)
		return rep
	}
	rep.KeyID = clipName(obj.Header.KeyID)
	var payload []byte
	for _, c := range cands {
		key := JWEKey(c)
		if rep.KeyID != "" && rep.KeyIDLabel == "" && JWEKeyID(key) == rep.KeyID {
			rep.KeyIDLabel = c.String()
		}
		if pt, err := obj.Decrypt(key); err == nil {
			rep.Matches = append(rep.Matches, matchOf(c))
			if payload == nil {
				payload = pt
			}
		}
	}
	if payload == nil {
		rep.Problem = "no candidate secret decrypts it; its contents stay unknown"
		return rep
	}
	rep.Readable = true
	fillFromJWTPayload(&rep, payload, now)
	return rep
}

// joseProblem shortens go-jose's errors, which never contain key material.
func joseProblem(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "go-jose/go-jose: ")
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}

// parseChunkIndex reads the N of a "<name>.N" chunk cookie.
func parseChunkIndex(s string) (int, error) {
	if s == "" || len(s) > 3 {
		return 0, errors.New("not a chunk index")
	}
	return strconv.Atoi(s)
}
