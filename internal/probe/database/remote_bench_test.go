package database

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/latproxy"
	"github.com/authtui/authtui/internal/pgtest"
)

// remoteDelay is the one-way latency of the remote benchmarks: a database
// 100 ms away (a hosted database in another region).
const remoteDelay = 50 * time.Millisecond

// proxied starts a latency proxy in front of the database of dsn and
// returns the DSN that goes through it.
func proxied(tb testing.TB, dsn string) (string, *latproxy.Proxy) {
	tb.Helper()
	return viaProxy(tb, dsn, latproxy.Options{Delay: remoteDelay, Handshake: true})
}

// viaProxy starts a latproxy with opts in front of dsn's server and
// returns the DSN that goes through it; it closes when the test ends.
func viaProxy(tb testing.TB, dsn string, opts latproxy.Options) (string, *latproxy.Proxy) {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := latproxy.Start(u.Host, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return u.String(), p
}

// BenchmarkRemoteProbes runs what `authtui check` asks of this package,
// on a database 100 ms away (latproxy, 50 ms each way, TCP handshake
// included): CheckHealth with 3 pings 50 ms apart (connect, latency,
// server facts, schema, orphans), then LookupToken on the same
// connection, as the login flow does.
//
//	go test ./internal/probe/database -run '^$' -bench RemoteProbes -benchtime 5x
//
// It reports the time and round trips of each, and the connections opened;
// -v logs the round trips of one run on a timeline.
func BenchmarkRemoteProbes(b *testing.B) {
	dsn, seed := seededB(b)
	token := seed.Sessions[0].Token
	for _, mode := range []struct{ name, suffix string }{
		{"direct", ""},
		// The transaction-pooler code path (simple protocol, settings
		// per transaction) on the same server.
		{"pooler-path", "&pgbouncer=true"},
	} {
		b.Run(mode.name, func(b *testing.B) {
			remote, p := proxied(b, dsn+mode.suffix)
			benchRemoteProbes(b, remote, p, token)
		})
	}
}

func benchRemoteProbes(b *testing.B, remote string, p *latproxy.Proxy, token string) {
	ctx := context.Background()
	once := func() (health, lookup time.Duration, hs, ls latproxy.Stats) {
		s0 := p.Stats()
		t0 := time.Now()
		h, db := CheckHealth(ctx, Options{URL: remote}, 3, 50*time.Millisecond)
		if db == nil || h.Schema == nil || h.Schema.Session == nil {
			b.Fatalf("health: %+v", h.Error)
		}
		health = time.Since(t0)
		s1 := p.Stats()
		t1 := time.Now()
		r, _, err := db.LookupToken(ctx, h.Schema, token, "bench")
		if err != nil || !r.Found {
			b.Fatalf("lookup: %v %+v", err, r)
		}
		lookup = time.Since(t1)
		s2 := p.Stats()
		db.Close()
		// pgx says goodbye (Terminate) without waiting for an answer:
		// let it pass before the next run's counts start.
		waitClosed(b, p)
		return health, lookup, s1.Since(s0), s2.Since(s1)
	}

	// One run first, on a timeline, so -v shows where the round trips go.
	evBefore, _ := p.Events()
	start := time.Now()
	health, lookup, hs, ls := once()
	events, _ := p.Events()
	b.Logf("one run: CheckHealth %s, %d round trips on %d new connection(s); LookupToken %s, %d round trips",
		health.Round(time.Millisecond), hs.RoundTrips, hs.Conns, lookup.Round(time.Millisecond), ls.RoundTrips)
	b.Log(timeline(events[len(evBefore):], start))

	var sumH, sumL time.Duration
	var rttH, rttL, conns int64
	for b.Loop() {
		health, lookup, hs, ls := once()
		sumH += health
		sumL += lookup
		rttH += hs.RoundTrips
		rttL += ls.RoundTrips
		conns += int64(hs.Conns + ls.Conns)
	}
	n := float64(b.N)
	b.ReportMetric(float64(sumH.Microseconds())/1000/n, "health-ms/op")
	b.ReportMetric(float64(rttH)/n, "health-rtts/op")
	b.ReportMetric(float64(sumL.Microseconds())/1000/n, "lookup-ms/op")
	b.ReportMetric(float64(rttL)/n, "lookup-rtts/op")
	b.ReportMetric(float64(conns)/n, "conns/op")
}

// waitClosed waits (boundedly) until every connection through p is closed.
func waitClosed(b *testing.B, p *latproxy.Proxy) {
	for range 500 {
		open := false
		for _, c := range p.Stats().PerConn {
			open = open || !c.Closed
		}
		if !open {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatal("a connection through the proxy is still open 2.5 s after Close")
}

// seededB is seeded for benchmarks.
func seededB(b *testing.B) (string, pgtest.SeedResult) {
	b.Helper()
	dsn := pgtest.DSN(b)
	return dsn, pgtest.SeedBetterAuth(b, dsn, pgtest.SeedOptions{})
}

// timeline renders proxy events as offsets from start, one line per
// connection.
func timeline(events []latproxy.Event, start time.Time) string {
	lines := map[int]*strings.Builder{}
	var order []int
	for _, e := range events {
		l, ok := lines[e.Conn]
		if !ok {
			l = &strings.Builder{}
			fmt.Fprintf(l, "conn %d:", e.Conn)
			lines[e.Conn] = l
			order = append(order, e.Conn)
		}
		mark := map[string]string{latproxy.EventOpen: "open", latproxy.EventRoundTrip: "rt", latproxy.EventClose: "close"}[e.Kind]
		fmt.Fprintf(l, " %s@%dms", mark, e.At.Sub(start).Milliseconds())
	}
	var out strings.Builder
	for _, c := range order {
		out.WriteString("\n  " + lines[c].String())
	}
	return out.String()
}
