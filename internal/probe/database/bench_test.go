package database

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authtui/authtui/internal/pgtest"
)

// BenchmarkSessionsPage1M times one sessions page on a table of a million
// sessions (AUTHTUI_BENCH_SESSIONS overrides the count), next to psql
// running the same SQL, and the peak memory of `authtui sessions`:
//
//	go test ./internal/probe/database -run '^$' -bench SessionsPage1M -benchtime 200x
//
// Each sub-benchmark reports psql_ms (median of psql's own \timing for the
// identical statement) beside Go's ns/op, and the CLI's peak RSS as
// cli_maxrss_MB.
func BenchmarkSessionsPage1M(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("AUTHTUI_BENCH_SESSIONS")); err == nil && v > 0 {
		n = v
	}
	dsn := pgtest.DSN(b)
	pgtest.SeedBetterAuth(b, dsn, pgtest.SeedOptions{Users: 1, SessionsPerUser: 1})
	start := time.Now()
	ctx := context.Background()
	fill(b, dsn, n)
	b.Logf("filled %d sessions in %s", n, time.Since(start).Round(time.Millisecond))

	db, err := Open(ctx, Options{URL: dsn})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	bin := buildCLI(b)

	run := func(b *testing.B, q SessionQuery) {
		s, _, err := db.DetectSchema(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sql, args, err := SessionsSQL(s, q)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			p, err := db.Sessions(ctx, s, q)
			if err != nil || len(p.Sessions) == 0 {
				b.Fatalf("page: %v", err)
			}
		}
		b.StopTimer()
		b.ReportMetric(psqlMedian(b, dsn, sql, args), "psql_ms")
	}
	mid := cursorAt(b, db, n/2)
	for _, idx := range []bool{false, true} {
		name := "no-created-index"
		if idx {
			name = "created-index"
			psqlExec(b, dsn, `CREATE INDEX session_created_id_idx ON session ("createdAt" DESC, id DESC)`, `ANALYZE session`)
		}
		b.Run(name+"/first-page", func(b *testing.B) { run(b, SessionQuery{Limit: 50}) })
		b.Run(name+"/middle-page", func(b *testing.B) { run(b, SessionQuery{Limit: 50, After: mid}) })
		b.Run(name+"/active", func(b *testing.B) { run(b, SessionQuery{Limit: 50, ActiveOnly: true}) })
		b.Run(name+"/user", func(b *testing.B) { run(b, SessionQuery{Limit: 50, UserEmail: "bench42@example.com"}) })
		b.Run(name+"/cli", func(b *testing.B) {
			for b.Loop() {
				rss := cliMaxRSS(b, bin, dsn)
				b.ReportMetric(rss, "cli_maxrss_MB")
			}
		})
	}
}

// fill adds n sessions over 10,000 users with SQL, in the shape BetterAuth
// writes them, spread over the last n seconds.
func fill(b *testing.B, dsn string, n int) {
	psqlExec(b, dsn,
		`INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
		 SELECT 'bu' || g, 'Bench ' || g, 'bench' || g || '@example.com', true, now(), now() FROM generate_series(1, 10000) g`,
		fmt.Sprintf(`INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "ipAddress", "userAgent", "userId")
		 SELECT 'bs' || g, now() + interval '7 days' - make_interval(secs => g * 2), md5('t' || g) , now() - make_interval(secs => g),
		        now() - make_interval(secs => g), '203.0.113.' || (g %% 250), 'Mozilla/5.0 bench ' || (g %% 97), 'bu' || (g %% 10000 + 1)
		 FROM generate_series(1, %d) g`, n),
		`ANALYZE`)
}

func psqlExec(b testing.TB, dsn string, sql ...string) {
	b.Helper()
	for _, s := range sql {
		out, err := exec.Command("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", s).CombinedOutput()
		if err != nil {
			b.Fatalf("psql: %v: %s", err, out)
		}
	}
}

func cursorAt(b *testing.B, db *DB, offset int) *Cursor {
	var c Cursor
	err := db.pool.QueryRow(context.Background(),
		`SELECT "createdAt", id FROM session ORDER BY "createdAt" DESC, id DESC OFFSET $1 LIMIT 1`, offset).Scan(&c.CreatedAt, &c.ID)
	if err != nil {
		b.Fatal(err)
	}
	return &c
}

var timingRE = regexp.MustCompile(`Time: ([0-9.]+) ms`)

// psqlMedian runs the statement through psql 15 times with \timing and
// returns the median execution time psql reports, in milliseconds.
func psqlMedian(b *testing.B, dsn, sql string, args []any) float64 {
	b.Helper()
	// Inline the parameters as psql variables would: literals, quoted.
	for i := len(args) - 1; i >= 0; i-- {
		var lit string
		switch v := args[i].(type) {
		case time.Time:
			lit = "'" + v.UTC().Format(time.RFC3339Nano) + "'::timestamptz"
		default:
			lit = "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
		}
		sql = strings.ReplaceAll(sql, fmt.Sprintf("$%d", i+1), lit)
	}
	script := "\\timing on\n\\o /dev/null\n" + strings.Repeat(sql+";\n", 15)
	out, err := exec.Command("psql", "-X", "-q", "-d", dsn, "-c", "SET default_transaction_read_only = on").CombinedOutput()
	if err != nil {
		b.Fatalf("psql: %v %s", err, out)
	}
	cmd := exec.Command("psql", "-X", "-q", "-d", dsn)
	cmd.Stdin = strings.NewReader(script)
	out, err = cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("psql: %v %s", err, out)
	}
	var ms []float64
	for _, m := range timingRE.FindAllStringSubmatch(string(out), -1) {
		f, _ := strconv.ParseFloat(m[1], 64)
		ms = append(ms, f)
	}
	if len(ms) == 0 {
		b.Fatalf("no timings from psql: %s", out)
	}
	slices.Sort(ms)
	return ms[len(ms)/2]
}

func buildCLI(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "authtui")
	out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/authtui").CombinedOutput()
	if err != nil {
		b.Fatalf("build: %v %s", err, out)
	}
	return bin
}

// cliMaxRSS runs `authtui sessions` once and returns its peak resident
// memory in MB, as the kernel accounted it.
func cliMaxRSS(b *testing.B, bin, dsn string) float64 {
	cmd := exec.Command(bin, "sessions", "--database-url", dsn, "--limit", "50", "--json")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Run(); err != nil {
		b.Fatalf("authtui sessions: %v", err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return float64(ru.Maxrss) / 1024
}
