package report

import (
	"strings"

	"github.com/authtui/authtui/internal/probe/jwtcheck"
)

// JWT is a jwt() plugin token as a block: its signature against the
// server's JWKS, its claims, and its times.
func JWT(r jwtcheck.Report, jwksFrom string) Block {
	t := r.Token
	b := Block{Title: "JWT", Meta: Clip(t.Alg, 12) + " · kid " + Clip(t.Kid, 40)}
	b.Lines = append(b.Lines, L("token", P(Clip(t.Prefix, 16))))
	switch r.Signature {
	case jwtcheck.SignatureValid:
		b.Lines = append(b.Lines, L("signature", S("✓ valid", Good), P(", key "+Clip(r.KeyID, 40)+" of "+Safe(jwksFrom, 120))))
	case jwtcheck.SignatureInvalid:
		b.Lines = append(b.Lines, L("signature", S("✗ invalid", Bad), P(" for key "+Clip(r.KeyID, 40)+" of "+Safe(jwksFrom, 120))))
	case jwtcheck.SignatureKeyUnknown:
		b.Lines = append(b.Lines, L("signature", S("✗ key "+Clip(t.Kid, 40)+" is not in the JWKS", Bad), P(" of "+Safe(jwksFrom, 120))))
	case jwtcheck.SignatureUnsupported:
		b.Lines = append(b.Lines, L("signature", S("! not checked: "+Clip(t.Alg, 12)+" is not a JWKS algorithm", Warn)))
	default:
		why := "no JWKS (pass --base-url, or set BETTER_AUTH_URL)"
		if jwksFrom != "" {
			why = "the JWKS of " + Safe(jwksFrom, 120) + " could not be read"
		}
		b.Lines = append(b.Lines, L("signature", S("! not checked: "+why, Warn)))
	}
	if t.Issuer != "" {
		b.Lines = append(b.Lines, L("issuer", P(Safe(t.Issuer, 120))))
	}
	if len(t.Audience) > 0 {
		b.Lines = append(b.Lines, L("audience", P(Safe(strings.Join(t.Audience, ", "), 200))))
	}
	if t.Subject != "" || t.Email != "" {
		b.Lines = append(b.Lines, L("subject", P(Clip(t.Subject, 60)), S("  "+Clip(t.Email, 80), Dim)))
	}
	if !t.IssuedAt.IsZero() {
		b.Lines = append(b.Lines, L("issued", P(Time(t.IssuedAt))))
	}
	if !t.Expires.IsZero() {
		b.Lines = append(b.Lines, L("expires", P(Time(t.Expires))))
	}
	return b
}
