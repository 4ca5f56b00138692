// Package jwtcheck decodes and verifies the JWTs of BetterAuth's jwt()
// plugin (GET /api/auth/token, the set-auth-jwt header of get-session)
// against the JWKS the server publishes (GET /api/auth/jwks).
//
// An API that accepts these tokens verifies them itself, usually with
// jose's jwtVerify and the JWKS URL: signature by kid, exp, iss and aud.
// When that API answers 401 while the session is fine, one of those checks
// failed, and this package says which, in the terms of the fix.
//
// Nothing here prints a token: a Token carries its Prefix (TokenPrefix)
// only, and every string taken from a token or a JWKS is cleaned before it
// reaches a Token, a Report or an error.
//
// It imports only finding and textsafe so that the probe package (decode,
// login) can import it.
package jwtcheck

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Limits and defaults.
const (
	// MaxTokenBytes bounds what Parse reads: a jwt() token with a user in
	// its payload is well under 2 KiB; 16 KiB is also the most a server
	// reads of a header line, so anything larger never worked as a bearer.
	MaxTokenBytes = 16 << 10
	// DefaultSkew is the clock difference Verify tolerates on exp, nbf and
	// iat when Options.Skew is zero.
	DefaultSkew = 30 * time.Second
	// Source is the Source of every finding of this package.
	Source = "jwt"
)

// Token is a decoded JWT. It never holds the raw token: Prefix only. Every
// string in it comes from the token and is already cleaned for display
// (control characters escaped, URLs without userinfo or query, long values
// cut).
type Token struct {
	Prefix                       string
	Alg, Kid, Typ                string
	Issuer                       string
	Audience                     []string
	Subject                      string
	IssuedAt, NotBefore, Expires time.Time // zero when the claim is absent
	Email                        string    // from the payload's user, if any
}

// parsed is a Token plus the raw claim values the checks compare: the
// cleaned ones in Token may differ from what an API compares byte by byte.
type parsed struct {
	tok Token
	alg string
	kid string
	iss *string // nil: no iss claim
	aud []string
	// audSet: the token has an aud claim (possibly an empty list).
	audSet bool
}

// Parse decodes a compact JWS (header.payload.signature) without verifying
// it. Surrounding whitespace and a leading "Bearer " are ignored. It rejects
// input over MaxTokenBytes, parts that are not unpadded base64url, a header
// without alg, a payload that is not a JSON object, and registered claims
// of the wrong type (iss, sub not strings; aud not a string or a list of
// strings; exp, nbf, iat not numbers). Errors never quote the token.
func Parse(raw string) (*Token, error) {
	p, err := parse(normalize(raw))
	if err != nil {
		return nil, err
	}
	return &p.tok, nil
}

// Looks reports whether s looks like a JWT: three base64url parts (the
// signature may be empty, as for alg "none") whose header is a JSON object
// with a non-empty alg. It says nothing about the payload, so that a
// damaged token still counts as one and Verify can say what is wrong
// (jwt-malformed). Note that BetterAuth's cookie cache with strategy "jwt"
// (the session_data cookie, HS256) looks like one too.
func Looks(s string) bool {
	s = normalize(s)
	if len(s) > MaxTokenBytes {
		return false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		if !isBase64URL(p) {
			return false
		}
	}
	_, err := parseHeader(parts[0])
	return err == nil
}

// normalize drops what surrounds a token when it is copied from a header.
func normalize(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

func parseHeader(part string) (header, error) {
	var h header
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return h, errors.New("its header is not base64url")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return h, errors.New("its header is not a JSON object")
	}
	for name, dst := range map[string]*string{"alg": &h.Alg, "kid": &h.Kid, "typ": &h.Typ} {
		v, ok := fields[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return h, fmt.Errorf("its header's %s is not a string", name)
		}
	}
	if h.Alg == "" {
		return h, errors.New("its header has no alg")
	}
	return h, nil
}

func parse(raw string) (*parsed, error) {
	if len(raw) > MaxTokenBytes {
		return nil, fmt.Errorf("it is %d bytes, more than the %d a JWT can reasonably have", len(raw), MaxTokenBytes)
	}
	parts := strings.Split(raw, ".")
	switch {
	case len(parts) == 5:
		return nil, errors.New("it has five parts: that is an encrypted JWE (BetterAuth's cookie cache with strategy jwe), not a signed JWT")
	case len(parts) != 3:
		return nil, fmt.Errorf("it has %d dot-separated parts, not the three of header.payload.signature", len(parts))
	}
	for i, name := range []string{"header", "payload", "signature"} {
		if !isBase64URL(parts[i]) {
			return nil, fmt.Errorf("its %s has characters outside base64url (A-Z a-z 0-9 - _, no padding): was it cut or wrapped when copied?", name)
		}
	}
	h, err := parseHeader(parts[0])
	if err != nil {
		return nil, err
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, errors.New("its signature is not base64url: was it cut when copied?")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("its payload is not base64url: was it cut when copied?")
	}
	p := &parsed{alg: h.Alg, kid: h.Kid}
	p.tok = Token{
		Prefix: prefixOf(raw),
		Alg:    textsafe.Truncate(h.Alg, 40),
		Kid:    textsafe.Truncate(h.Kid, 100),
		Typ:    textsafe.Truncate(h.Typ, 40),
	}
	if err := p.claims(body); err != nil {
		return nil, err
	}
	return p, nil
}

// claims reads the payload's registered claims and the user's email.
func (p *parsed) claims(body []byte) error {
	var c map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&c); err != nil || c == nil || dec.More() {
		return errors.New("its payload is not a JSON object")
	}
	if v, ok := c["iss"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errors.New("its iss claim is not a string")
		}
		p.iss = &s
		p.tok.Issuer = display(s)
	}
	if v, ok := c["sub"]; ok {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return errors.New("its sub claim is not a string")
		}
		p.tok.Subject = textsafe.Truncate(s, 100)
	}
	if v, ok := c["aud"]; ok {
		// RFC 7519 4.1.3: one string or a list of strings.
		var one string
		if err := json.Unmarshal(v, &one); err == nil {
			p.aud = []string{one}
		} else if err := json.Unmarshal(v, &p.aud); err != nil {
			return errors.New("its aud claim is neither a string nor a list of strings")
		}
		p.audSet = true
		for i, a := range p.aud {
			if i == 20 {
				p.tok.Audience = append(p.tok.Audience, fmt.Sprintf("… %d more", len(p.aud)-i))
				break
			}
			p.tok.Audience = append(p.tok.Audience, display(a))
		}
	}
	for name, dst := range map[string]*time.Time{"iat": &p.tok.IssuedAt, "nbf": &p.tok.NotBefore, "exp": &p.tok.Expires} {
		v, ok := c[name]
		if !ok {
			continue
		}
		t, err := numericDate(v)
		if err != nil {
			return fmt.Errorf("its %s claim %v", name, err)
		}
		*dst = t
	}
	p.tok.Email = email(c)
	return nil
}

// maxSeconds is year 10000: later dates are no real expiry, and keeping
// below it keeps the float-to-int conversion exact and defined.
const maxSeconds = 253402300800

// numericDate reads an RFC 7519 NumericDate: seconds since the epoch,
// possibly with a fraction.
func numericDate(v json.RawMessage) (time.Time, error) {
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return time.Time{}, errors.New("is not a number of seconds")
	}
	if math.IsNaN(f) || f < -maxSeconds || f > maxSeconds {
		return time.Time{}, errors.New("is out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// email is the user's email: top level for the jwt() plugin's default
// payload (the user object itself), or under "user" for a definePayload
// that nests it.
func email(c map[string]json.RawMessage) string {
	var s string
	if v, ok := c["email"]; ok && json.Unmarshal(v, &s) == nil {
		return textsafe.Truncate(s, 200)
	}
	var u struct {
		Email string `json:"email"`
	}
	if v, ok := c["user"]; ok && json.Unmarshal(v, &u) == nil {
		return textsafe.Truncate(u.Email, 200)
	}
	return ""
}

// display is how a claim value from outside is shown: a URL without
// userinfo or query, credentials cut, control characters escaped, and
// short enough for one line.
func display(s string) string {
	return textsafe.Truncate(textsafe.SafeValue(s), 200)
}

// prefixOf is how a token is named in output: TokenPrefix, cleaned,
// because pasted input that is no token may have anything in its first
// bytes.
func prefixOf(raw string) string { return textsafe.Clean(textsafe.TokenPrefix(raw)) }
