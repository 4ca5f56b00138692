package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
)

// signatureLen is the length of a padded standard-base64 HMAC-SHA256, the
// only signature BetterAuth (better-call) accepts.
const signatureLen = 44

// SignedValue is a `<token>.<signature>` value split and checked for shape.
type SignedValue struct {
	Token     string
	Signature string
	// Encoding says how the pasted value was encoded: "plain",
	// "url-encoded" or "double-encoded".
	Encoding string
	// Problem is why the value is not a well-formed signed value; empty when
	// it is.
	Problem string
}

// DecodeCookieValue undoes the URL encoding browsers and BetterAuth apply to
// cookie values, and says how many layers there were. PathUnescape, not
// QueryUnescape: a '+' in a signature is a plus, never a space.
func DecodeCookieValue(v string) (decoded, encoding string) {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if !strings.Contains(v, "%") {
		return v, "plain"
	}
	once, err := url.PathUnescape(v)
	if err != nil {
		return v, "plain"
	}
	if strings.Contains(once, "%") {
		if twice, err := url.PathUnescape(once); err == nil && twice != once {
			return twice, "double-encoded"
		}
	}
	return once, "url-encoded"
}

// ParseSigned splits a signed cookie value at its last '.', as better-call
// does, and checks the signature's shape.
func ParseSigned(raw string) SignedValue {
	v, enc := DecodeCookieValue(raw)
	sv := SignedValue{Encoding: enc}
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		sv.Token = v
		sv.Problem = "no signature: the value is a bare token, not <token>.<signature> (was it copied from the database, or sent by a client that strips the signature?)"
		return sv
	}
	sv.Token, sv.Signature = v[:i], v[i+1:]
	switch {
	case sv.Token == "":
		sv.Problem = "empty token before the signature"
	case len(sv.Signature) != signatureLen || !strings.HasSuffix(sv.Signature, "="):
		sv.Problem = fmt.Sprintf("the signature has %d characters; a BetterAuth signature has %d ending in '=' (truncated copy?)", len(sv.Signature), signatureLen)
	case !isStdBase64(sv.Signature):
		sv.Problem = "the signature is not standard base64"
	}
	if enc == "double-encoded" {
		if sv.Problem != "" {
			sv.Problem += "; "
		}
		sv.Problem += "the value is URL-encoded twice (a proxy or client encoded an already encoded cookie)"
	}
	return sv
}

func isStdBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// Sign computes BetterAuth's signature of token with secret.
func Sign(token string, c Candidate) string {
	m := hmac.New(sha256.New, c.key())
	m.Write([]byte(token))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// VerifySigned returns every candidate whose secret produced sv's
// signature. All candidates are tried, not just until the first match:
// which sources agree is the diagnosis.
func VerifySigned(sv SignedValue, cands []Candidate) []Candidate {
	if sv.Signature == "" || sv.Token == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(sv.Signature)
	if err != nil || len(want) != sha256.Size {
		return nil
	}
	var out []Candidate
	for _, c := range cands {
		m := hmac.New(sha256.New, c.key())
		m.Write([]byte(sv.Token))
		if hmac.Equal(m.Sum(nil), want) {
			out = append(out, c)
		}
	}
	return out
}
