package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/batest"
	"github.com/authtui/authtui/internal/latproxy"
	"github.com/authtui/authtui/internal/pgtest"
)

// The remote benchmark's own fake credentials, so that it does not depend
// on other tests' constants.
const (
	remoteSecret   = "authtui-remote-bench-secret-0123456789abcdef"
	remoteEmail    = "remote@example.com"
	remotePassword = "remote bench password, not a secret"
	remoteDelay    = 50 * time.Millisecond // one way: 100 ms round trips
)

// remoteTarget is one service authtui talks to, behind its own latency
// proxy so that its round trips are counted apart.
type remoteTarget struct {
	name  string
	proxy *latproxy.Proxy
}

// BenchmarkCheckRemote runs `authtui check` end to end, in process, with
// every connection authtui makes (PostgreSQL, BetterAuth, the API) 100 ms
// away: a latency proxy adds 50 ms each way and one round trip per TCP
// connect. BetterAuth's own connection to its database is not delayed, as
// when the auth service sits next to its database.
//
//	go test ./cmd/authtui -run '^$' -bench CheckRemote -benchtime 5x -v
//
// Besides ns/op it reports ms/op, the round trips per run (rtts/op, and
// per target) and the connections each target saw per run; -v logs one
// run's breakdown: each login step's duration and each target's round
// trips on a timeline.
func BenchmarkCheckRemote(b *testing.B) {
	dsn := pgtest.DSN(b)
	srv := batest.Start(b, batest.Options{Secret: remoteSecret, DatabaseURL: dsn, Bearer: true})
	batest.SignUp(b, srv.URL, remoteEmail, remotePassword)

	du, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	au, err := url.Parse(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	pg := startRemote(b, "pg", du.Host)
	auth := startRemote(b, "auth", au.Host)
	api := startRemote(b, "api", au.Host) // the same server's /api/me, counted on its own
	targets := []remoteTarget{pg, auth, api}

	remoteDSN := *du
	remoteDSN.Host = pg.proxy.Addr()
	// BETTER_AUTH_URL stays the server's own; --base-url sends authtui
	// through the proxy and --origin keeps BetterAuth's origin check happy.
	envFile := filepath.Join(b.TempDir(), "auth.env")
	env := "BETTER_AUTH_SECRET=" + remoteSecret + "\nBETTER_AUTH_URL=" + srv.URL + "\nDATABASE_URL=" + remoteDSN.String() + "\n"
	if err := os.WriteFile(envFile, []byte(env), 0o600); err != nil {
		b.Fatal(err)
	}
	args := []string{"check", "--env-file", envFile, "--database-url", remoteDSN.String(),
		"--base-url", "http://" + auth.proxy.Addr(), "--origin", srv.URL,
		"--api-url", "http://" + api.proxy.Addr() + "/api/me",
		"--email", remoteEmail, "--password-env", "TEST_PW"}
	jsonArgs := append(append([]string{}, args...), "--json")

	// A first run warms BetterAuth up (its first sign-in compiles code
	// paths) and must be a clean bill of health, or the timings below
	// would measure an error path.
	runRemote(b, jsonArgs)

	// One run in detail.
	before := snapshot(targets)
	start := time.Now()
	out, elapsed := runRemote(b, jsonArgs)
	b.Logf("one run: %s, exit 0", elapsed.Round(time.Millisecond))
	steps := loginSteps(out)
	if len(steps) == 0 {
		// check --json does not carry the steps' durations (yet): the
		// text form prints them.
		text, _ := runRemote(b, args)
		steps = textSteps(text)
	}
	for _, s := range steps {
		b.Log("  step " + s)
	}
	for i, t := range targets {
		d := t.proxy.Stats().Since(before[i])
		events, _ := t.proxy.Events()
		b.Logf("  %-4s %d round trips on %d new connection(s):%s", t.name, d.RoundTrips, d.Conns, remoteTimeline(events, start, start.Add(elapsed)))
	}

	b.ResetTimer()
	first := snapshot(targets)
	var total time.Duration
	for b.Loop() {
		_, d := runRemote(b, jsonArgs)
		total += d
	}
	b.StopTimer()
	n := float64(b.N)
	var rtts int64
	for i, t := range targets {
		d := t.proxy.Stats().Since(first[i])
		rtts += d.RoundTrips
		b.ReportMetric(float64(d.RoundTrips)/n, t.name+"-rtts/op")
		b.ReportMetric(float64(d.Conns)/n, t.name+"-conns/op")
	}
	b.ReportMetric(float64(rtts)/n, "rtts/op")
	b.ReportMetric(float64(total.Microseconds())/1000/n, "ms/op")
}

func startRemote(b *testing.B, name, addr string) remoteTarget {
	b.Helper()
	p, err := latproxy.Start(addr, latproxy.Options{Delay: remoteDelay, Handshake: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return remoteTarget{name: name, proxy: p}
}

func snapshot(ts []remoteTarget) []latproxy.Stats {
	out := make([]latproxy.Stats, len(ts))
	for i, t := range ts {
		out[i] = t.proxy.Stats()
	}
	return out
}

// runRemote runs the CLI in process and fails the benchmark unless it
// exits 0 without printing the secret or the password.
func runRemote(b *testing.B, args []string) (string, time.Duration) {
	b.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errb, dir: b.TempDir(),
		getenv: func(k string) string {
			if k == "TEST_PW" {
				return remotePassword
			}
			return ""
		},
	}
	start := time.Now()
	code := a.main(args)
	elapsed := time.Since(start)
	all := out.String() + errb.String()
	if strings.Contains(all, remoteSecret) || strings.Contains(all, remotePassword) {
		b.Fatal("check printed the secret or the password")
	}
	if code != exitOK {
		b.Fatalf("check exited %d:\n%s\n%s", code, textTail(out.String()), errb.String())
	}
	return out.String(), elapsed
}

func textTail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// loginSteps finds the finished login steps in check's JSON, wherever
// they are: any object with a step name and a duration.
func loginSteps(out string) []string {
	var v any
	if json.Unmarshal([]byte(out), &v) != nil {
		return nil
	}
	var steps []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			step, ok1 := x["step"].(string)
			ns, ok2 := x["duration_ns"].(float64)
			if ok1 && ok2 && (x["phase"] == nil || x["phase"] == "end") {
				steps = append(steps, fmt.Sprintf("%-20s %8s  %v", step, time.Duration(ns).Round(100*time.Microsecond), x["status"]))
				return
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return steps
}

// textSteps keeps the step lines of check's text output (mark, title,
// status code, duration), without their detail.
func textSteps(out string) []string {
	var steps []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "== Login flow"):
			in = true
		case in && line == "":
			return steps
		case in:
			if r := []rune(line); len(r) > 60 {
				line = string(r[:60])
			}
			steps = append(steps, strings.TrimRight(line, " "))
		}
	}
	return steps
}

// remoteTimeline renders a target's events within [from, to] as offsets
// from from.
func remoteTimeline(events []latproxy.Event, from, to time.Time) string {
	var b strings.Builder
	for _, e := range events {
		if e.At.Before(from) || e.At.After(to) {
			continue
		}
		kind := map[string]string{latproxy.EventOpen: "open", latproxy.EventRoundTrip: "rt", latproxy.EventClose: "close"}[e.Kind]
		fmt.Fprintf(&b, " c%d:%s@%d", e.Conn, kind, e.At.Sub(from).Milliseconds())
	}
	return b.String()
}
