package database

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authtui/authtui/internal/probe/finding"
)

// Thresholds for the health findings.
const (
	slowP95       = 250 * time.Millisecond
	maxClockSkew  = 5 * time.Second
	latencyWindow = 64
)

// MaxPings bounds the latency samples one CheckHealth takes: the window
// keeps no more, so further pings would measure nothing.
const MaxPings = latencyWindow

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
	TLSVerify      string        `json:"tls_verify,omitempty"` // with TLS on: TLSVerifyFull, TLSVerifyCA or TLSVerifyNone
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

// serverInfoSQL reads the static facts of Health; clock_timestamp() is
// the server's clock when it ran the statement.
const serverInfoSQL = `
SELECT current_setting('server_version'), clock_timestamp(), current_setting('transaction_read_only'),
       (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
       (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
       current_setting('max_connections')`

// serverInfo is serverInfoSQL's answer.
type serverInfo struct {
	version        string
	now            time.Time
	readOnly       string
	tls            *bool
	tlsVersion     *string
	connections    int
	maxConnections string
}

func (si *serverInfo) scan(row pgx.Row) error {
	return row.Scan(&si.version, &si.now, &si.readOnly, &si.tls, &si.tlsVersion, &si.connections, &si.maxConnections)
}

// fill copies the facts into h. The clock skew compares the server's
// clock with the local one at the moment the statement ran: the middle of
// the round trip once the server's own time (serverTime, from the
// statement's start to the end of the message) is taken out.
func (si *serverInfo) fill(h *Health, before, after time.Time, serverTime time.Duration) {
	h.ServerVersion = si.version
	h.Connections = si.connections
	network := max(0, after.Sub(before)-serverTime)
	h.ClockSkew = si.now.Sub(before.Add(network / 2))
	h.ReadOnly = si.readOnly == "on"
	h.TLS = si.tls != nil && *si.tls
	h.TLSVersion = ""
	if si.tlsVersion != nil {
		h.TLSVersion = *si.tlsVersion
	}
	fmt.Sscan(si.maxConnections, &h.MaxConnections)
}

// ServerInfo fills the static facts of h: version, TLS, connections,
// clock skew, and whether writes are refused.
func (db *DB) ServerInfo(ctx context.Context, h *Health) error {
	return db.query(ctx, false, func(q querier) error {
		var si serverInfo
		before := time.Now()
		err := si.scan(q.QueryRow(ctx, serverInfoSQL))
		after := time.Now()
		if err != nil {
			return err
		}
		si.fill(h, before, after, 0)
		db.tlsInto(h)
		return nil
	})
}

// tlsInto puts what this side negotiated in place of the server's view
// (pg_stat_ssl): the two agree on a direct connection, and through a
// pooler only ours describes the hop the session tokens take from here.
func (db *DB) tlsInto(h *Health) {
	h.TLS, h.TLSVersion, h.TLSVerify = db.tls, "", ""
	if db.tls {
		h.TLSVersion, h.TLSVerify = db.tlsVersion, db.tlsVerify
	}
}

// TLSState says in words what the connection's TLS proves: "off",
// "certificate verified", "certificate chain verified, not the host
// name", or "certificate not verified" (encrypted, but to whoever
// answered).
func (h *Health) TLSState() string {
	switch {
	case !h.TLS:
		return "off"
	case h.TLSVerify == TLSVerifyFull:
		return "certificate verified"
	case h.TLSVerify == TLSVerifyCA:
		return "certificate chain verified, not the host name"
	}
	return "certificate not verified"
}

// CheckHealth connects (or reuses db), takes `pings` latency samples
// spaced by at least gap, reads the server facts and the schema, and
// raises the db-* findings. A nil db means the connection failed with
// connErr.
//
// Every round trip costs the network's latency, so it makes few: the
// server facts and the whole catalogue go in one, the orphan count in
// another, and each of those is also a latency sample (its round trip
// less the server's own time, read from clock_timestamp() around the
// work). Only the samples still missing are pings, and they wait for gap
// only when the round trips before did not take that long already.
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
	want := max(1, min(pings, MaxPings))
	var (
		lat       Latency
		lastStart time.Time // of the latest round trip that gave a sample
	)
	sample := func(started time.Time, d time.Duration) {
		if lat.Stats().Samples < want {
			lat.Add(d)
		}
		lastStart = started
	}

	var (
		schema *Schema
		fs     finding.List
	)
	si, cat, before, after, serverTime, err := db.infoAndCatalogue(ctx)
	if err == nil {
		si.fill(h, before, after, serverTime)
		db.tlsInto(h)
		sample(before, max(0, after.Sub(before)-serverTime))
		schema, fs = db.pickTables(cat)
	} else {
		// One of them failed: ask again apart, so that a failing server
		// query is reported and a failing catalogue only leaves the schema
		// out, as when they always went separately.
		before := time.Now()
		if err := db.ServerInfo(ctx, h); err != nil {
			h.Findings.Add(finding.DBUnreachable, t.String(), "connected to %s but a query failed: %s", t, db.errMessage(err))
			return h, db
		}
		sample(before, time.Since(before))
		schema, fs, _ = db.DetectSchema(ctx)
	}
	h.Schema = schema
	if schema != nil && schema.Session != nil {
		ofs, d, started, oerr := db.checkOrphans(ctx, schema)
		if oerr == nil {
			fs = append(fs, ofs...)
			sample(started, d)
		}
	}

	for lat.Stats().Samples < want {
		if wait := time.Until(lastStart.Add(gap)); wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
		started := time.Now()
		d, err := db.Ping(ctx)
		if err != nil {
			break
		}
		sample(started, d)
	}
	h.Latency = lat.Stats()
	// The same order of findings as ever: the live ones, then the schema's.
	h.Findings = append(h.Findings, db.judge(h)...)
	h.Findings = append(h.Findings, fs...)
	return h, db
}

// infoAndCatalogue reads the server facts and the catalogue in one round
// trip; serverTime is what the server spent from the facts to the end.
func (db *DB) infoAndCatalogue(ctx context.Context) (si serverInfo, cat catalogue, before, after time.Time, serverTime time.Duration, err error) {
	var end time.Time
	b := &pgx.Batch{}
	b.Queue(serverInfoSQL).QueryRow(si.scan)
	cat.queue(b, db.opts)
	b.Queue(`SELECT clock_timestamp()`).QueryRow(func(r pgx.Row) error { return r.Scan(&end) })
	before = time.Now()
	err = db.roundTrip(ctx, b)
	after = time.Now()
	return si, cat, before, after, end.Sub(si.now), err
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
	if h.TLS && h.TLSVerify == TLSVerifyNone && !t.Loopback {
		fs.Add(finding.DBTLSUnverified, t.String(),
			"the connection to %s is encrypted, but its certificate was not verified (sslmode prefer or require accepts any certificate): whoever answers in between can pose as the database and read the session tokens. Use sslmode=verify-full with the server's CA (sslrootcert=PATH, or sslrootcert=system for a public CA).", t.Host)
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
