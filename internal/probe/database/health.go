package database

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Thresholds for the health findings.
const (
	slowP95       = 250 * time.Millisecond
	maxClockSkew  = 5 * time.Second
	latencyWindow = 64
)

// Latency keeps the most recent round-trip times, for p50/p95 and a
// sparkline. The zero value is ready to use.
type Latency struct {
	samples []time.Duration
}

// Add records one round trip, dropping the oldest beyond the window.
func (l *Latency) Add(d time.Duration) {
	l.samples = append(l.samples, d)
	if len(l.samples) > latencyWindow {
		l.samples = l.samples[len(l.samples)-latencyWindow:]
	}
}

// Samples returns the window, oldest first.
func (l *Latency) Samples() []time.Duration { return slices.Clone(l.samples) }

// Stats summarises the window.
func (l *Latency) Stats() LatencyStats {
	if len(l.samples) == 0 {
		return LatencyStats{}
	}
	s := slices.Clone(l.samples)
	slices.Sort(s)
	return LatencyStats{
		Samples: len(s),
		P50:     percentile(s, 0.50),
		P95:     percentile(s, 0.95),
		Max:     s[len(s)-1],
	}
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// LatencyStats is a summary of round-trip times.
type LatencyStats struct {
	Samples int           `json:"samples"`
	P50     time.Duration `json:"p50_ns"`
	P95     time.Duration `json:"p95_ns"`
	Max     time.Duration `json:"max_ns"`
}

// Health is the database pane's and `authtui db`'s report.
type Health struct {
	Target         Target        `json:"target"`
	Connected      bool          `json:"connected"`
	Error          *ConnectError `json:"error,omitempty"`
	ServerVersion  string        `json:"server_version,omitempty"`
	TLS            bool          `json:"tls"`
	TLSVersion     string        `json:"tls_version,omitempty"`
	ReadOnly       bool          `json:"read_only"`
	Connections    int           `json:"connections"`
	MaxConnections int           `json:"max_connections"`
	Latency        LatencyStats  `json:"latency"`
	ClockSkew      time.Duration `json:"clock_skew_ns"`
	Schema         *Schema       `json:"schema,omitempty"`
	Findings       finding.List  `json:"findings"`
	CheckedAt      time.Time     `json:"checked_at"`
}

// Ping measures one round trip.
func (db *DB) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := db.query(ctx, false, func(q querier) error {
		var one int
		return q.QueryRow(ctx, "SELECT 1").Scan(&one)
	})
	return time.Since(start), err
}

// ServerInfo fills the static facts of h: version, TLS, connections,
// clock skew, and whether writes are refused.
func (db *DB) ServerInfo(ctx context.Context, h *Health) error {
	return db.query(ctx, false, func(q querier) error {
		var (
			dbNow   time.Time
			ro      string
			tls     *bool
			tlsVer  *string
			maxConn string
		)
		before := time.Now()
		err := q.QueryRow(ctx, `
SELECT current_setting('server_version'), clock_timestamp(), current_setting('transaction_read_only'),
       (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
       (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       current_setting('max_connections')`).
			Scan(&h.ServerVersion, &dbNow, &ro, &tls, &tlsVer, &h.Connections, &maxConn)
		after := time.Now()
		if err != nil {
			return err
		}
		// Compare with the local clock at the middle of the round trip.
		mid := before.Add(after.Sub(before) / 2)
		h.ClockSkew = dbNow.Sub(mid)
		h.ReadOnly = ro == "on"
		h.TLS = tls != nil && *tls
		if tlsVer != nil {
			h.TLSVersion = *tlsVer
		}
		fmt.Sscan(maxConn, &h.MaxConnections)
		return nil
	})
}

// CheckHealth connects (or reuses db), pings `pings` times spaced by gap,
// reads the server facts and the schema, and raises the db-* findings.
// A nil db means the connection failed with connErr.
func CheckHealth(ctx context.Context, opts Options, pings int, gap time.Duration) (*Health, *DB) {
	h := &Health{CheckedAt: time.Now()}
	t, err := ParseTarget(opts.URL)
	if err != nil {
		h.Error = err.(*ConnectError)
		h.Findings.Add(finding.DBUnreachable, "", "cannot use the database URL: %s", h.Error.Message)
		return h, nil
	}
	h.Target = t
	db, err := Open(ctx, opts)
	if err != nil {
		ce, ok := err.(*ConnectError)
		if !ok {
			ce = &ConnectError{Class: "server", Message: err.Error()}
		}
		h.Error = ce
		h.Findings.Add(finding.DBUnreachable, t.String(), "cannot connect to %s (%s): %s", t, ce.Class, ce.Message)
		return h, nil
	}
	h.Connected = true
	var lat Latency
	for i := 0; i < max(1, pings); i++ {
		if i > 0 && gap > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(gap):
			}
		}
		d, err := db.Ping(ctx)
		if err != nil {
			break
		}
		lat.Add(d)
	}
	h.Latency = lat.Stats()
	if err := db.ServerInfo(ctx, h); err != nil {
		h.Findings.Add(finding.DBUnreachable, t.String(), "connected to %s but a query failed: %s", t, db.errMessage(err))
		return h, db
	}
	h.Findings = append(h.Findings, db.judge(h)...)
	schema, fs, err := db.DetectSchema(ctx)
	h.Schema = schema
	h.Findings = append(h.Findings, fs...)
	if err == nil && schema != nil && schema.Session != nil {
		ofs, oerr := db.CheckOrphans(ctx, schema)
		if oerr == nil {
			h.Findings = append(h.Findings, ofs...)
		}
	}
	return h, db
}

// Judge raises the findings that depend on live measurements; the TUI
// calls it after each refresh.
func (db *DB) judge(h *Health) finding.List {
	var fs finding.List
	t := h.Target
	if h.Latency.Samples > 0 && h.Latency.P95 > slowP95 {
		fs.Add(finding.DBSlow, t.String(),
			"round trips to %s take %s at p95 (p50 %s) over %d pings: every get-session that misses the cookie cache pays this. Move the database closer or enable the cookie cache.",
			t.Host, h.Latency.P95.Round(time.Millisecond), h.Latency.P50.Round(time.Millisecond), h.Latency.Samples)
	}
	if !h.TLS && !t.Loopback {
		fs.Add(finding.DBNoTLS, t.String(),
			"the connection to %s is not encrypted: session tokens cross the network in clear. Add sslmode=require (or verify-full).", t.Host)
	}
	if skew := h.ClockSkew; skew > maxClockSkew || skew < -maxClockSkew {
		fs.Add(finding.DBClockSkew, t.String(),
			"the database clock is %s off this machine's: expiry times written by one and checked by the other disagree by that much.", skew.Round(time.Second))
	}
	if t.Pooler {
		fs.Add(finding.DBPooler, t.String(),
			"%s looks like a transaction pooler (%s): authtui uses the simple protocol and sets read-only and statement_timeout per transaction. BetterAuth through it needs prepared statements off too.",
			t.Host, t.PoolerReason)
	}
	return fs
}
