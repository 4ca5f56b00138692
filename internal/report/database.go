package report

import (
	"fmt"
	"time"

	"github.com/authtui/authtui/internal/probe/database"
)

// Health is the database health report as one block: the target, then
// either why it is unreachable or what the server is (version, TLS,
// access, connections, latency, clock), then where BetterAuth's tables
// are. The findings are not part of it.
func Health(h *database.Health) []Block {
	b := Block{Title: "Database"}
	if h == nil {
		b.Lines = []Line{L("", S("not checked", Dim))}
		return []Block{b}
	}
	b.Lines = HealthLines(h)
	return []Block{b}
}

// HealthLines are Health's lines, for a caller that adds its own around
// them (the console's live state).
func HealthLines(h *database.Health) []Line {
	target := L("target", P(Clip(h.Target.String(), 200)))
	if h.Target.Pooler {
		why := "pooler"
		if h.Target.PoolerReason != "" {
			why += ": " + Safe(h.Target.PoolerReason, 120)
		}
		target.Spans = append(target.Spans, S("  ("+why+")", Dim))
	}
	out := []Line{target}
	if !h.Connected {
		if e := h.Error; e != nil {
			out = append(out, Line{Label: "status", Prose: true, Spans: []Span{
				S("✗ unreachable ("+Clip(e.Class, 20)+"): ", Bad), P(Safe(e.Message, 600)),
			}})
		}
		return out
	}
	ro := P("yes")
	if !h.ReadOnly {
		ro = S("! no: writes allowed (--allow-writes)", Warn)
	}
	out = append(out,
		L("status", S("✓ connected", Good)),
		L("version", P("PostgreSQL "+Clip(h.ServerVersion, 80))),
		L("TLS", HealthTLS(h)),
		L("read-only", ro),
		L("connections", P(fmt.Sprintf("%d used of %d max", h.Connections, h.MaxConnections))),
	)
	if l := h.Latency; l.Samples > 0 {
		out = append(out, L("latency", P(fmt.Sprintf("p50 %s, p95 %s over %s", Duration(l.P50), Duration(l.P95), plural(l.Samples, "ping")))))
	}
	out = append(out, L("clock skew", P(Signed(h.ClockSkew)), S(" (db − local)", Dim)))
	return append(out, SchemaLines(h.Schema)...)
}

// HealthTLS says what the connection's TLS proves: "on" alone would pass
// an unverified certificate (sslmode prefer or require) for a verified
// one.
func HealthTLS(h *database.Health) Span {
	if !h.TLS {
		if h.Target.Loopback {
			return P("off (loopback)")
		}
		return S("! off", Warn)
	}
	ver := ""
	if h.TLSVersion != "" {
		ver = " (" + Clip(h.TLSVersion, 20) + ")"
	}
	if h.TLSVerify == database.TLSVerifyNone {
		return S("! on, "+h.TLSState()+ver, Warn)
	}
	return S("✓ on, "+h.TLSState()+ver, Good)
}

// SchemaLines say where BetterAuth's tables are and how they look; none
// before the schema was read.
func SchemaLines(s *database.Schema) []Line {
	if s == nil {
		return nil
	}
	out := []Line{L("", S("Schema", Strong))}
	if s.Session == nil {
		out = append(out, L("session table", S("✗ none found", Bad)))
		if s.Searched != "" {
			out = append(out, L("searched", S(Safe(s.Searched, 300), Dim)))
		}
		return out
	}
	out = append(out, L("session table", P(Clip(s.Session.String(), 120))))
	if s.ExpiresType != "" {
		out = append(out, L("expiry type", P(Clip(s.ExpiresType, 60))))
	}
	idx := S("✓ unique", Good)
	if !s.TokenUnique {
		idx = S("! no unique index", Warn)
	}
	out = append(out, L("token index", idx))
	user := S("! none found", Warn)
	if s.User != nil {
		user = P(Clip(s.User.String(), 120))
	}
	out = append(out, L("user table", user))
	orphans := S("✓ none", Good)
	switch {
	case !s.OrphansChecked:
		orphans = S("not checked", Dim)
	case s.Orphans > 0:
		orphans = S("! "+plural(int(s.Orphans), "session")+" whose user is gone", Warn)
	}
	return append(out, L("orphans", orphans))
}

// Signed is a duration that may be negative, with its sign: +12ms,
// -7s, 0s.
func Signed(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < 0:
		return "-" + Duration(-d)
	}
	return "+" + Duration(d)
}
