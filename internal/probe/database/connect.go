// Package database probes the PostgreSQL database behind a BetterAuth
// deployment: connection health, where the session and user tables are,
// the sessions themselves, and whether a given token has a valid row. It is
// read-only unless the caller explicitly allows writes.
package database

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults keep a debugging tool from ever weighing on a production
// database: two connections at most, short timeouts.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 5 * time.Second
	maxConns                = 2
)

// Options says how to reach the database.
type Options struct {
	URL              string
	AllowWrites      bool
	ConnectTimeout   time.Duration
	StatementTimeout time.Duration
	SessionTable     string // override detection: "session" or "schema.table"
	UserTable        string
}

// Target describes the database for display; it never holds the password.
type Target struct {
	Host         string `json:"host"`
	Port         uint16 `json:"port"`
	Database     string `json:"database"`
	User         string `json:"user"`
	Pooler       bool   `json:"pooler"`
	PoolerReason string `json:"pooler_reason,omitempty"`
	Loopback     bool   `json:"loopback"`
}

func (t Target) String() string {
	return fmt.Sprintf("%s@%s:%d/%s", t.User, t.Host, t.Port, t.Database)
}

// ConnectError classifies why the database could not be reached, in the
// classes a user acts on differently.
type ConnectError struct {
	Class   string `json:"class"` // dns, refused, auth, tls, timeout, config, server
	Message string `json:"message"`
}

func (e *ConnectError) Error() string { return e.Class + ": " + e.Message }

// DB is an open, probed connection pool.
type DB struct {
	pool    *pgxpool.Pool
	target  Target
	opts    Options
	secrets []string // strings that must never appear in messages (the password)

	// tls and tlsVersion are what the first connection negotiated, seen
	// from this side: the hop that carries the session tokens from here
	// (behind a pooler, pg_stat_ssl describes the pooler's own hop).
	// tlsVerify is what the sslmode made the client check of the
	// certificate.
	tls        bool
	tlsVersion string
	tlsVerify  string

	// rows caches the bounded row count of a session table, per table,
	// for db-sessions-index-missing: taken once per connection.
	rowsMu sync.Mutex
	rows   map[string]int64
}

// Target returns the display form of the connection target.
func (db *DB) Target() Target { return db.target }

// Pooler reports whether the URL points at a transaction pooler.
func (db *DB) Pooler() bool { return db.target.Pooler }

// Close releases the pool.
func (db *DB) Close() { db.pool.Close() }

// ParseTarget reads the display target from a URL without connecting.
func ParseTarget(rawURL string) (Target, error) {
	cfg, err := pgconn.ParseConfig(rawURL)
	if err != nil {
		return Target{}, &ConnectError{Class: "config", Message: scrub(err.Error(), passwordOf(rawURL))}
	}
	t := Target{Host: cfg.Host, Port: cfg.Port, Database: cfg.Database, User: cfg.User}
	t.Pooler, t.PoolerReason = detectPooler(cfg.Host, cfg.Port, rawURL)
	t.Loopback = isLoopback(cfg.Host)
	return t, nil
}

func isLoopback(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// detectPooler recognises transaction poolers (PgBouncer in transaction
// mode, Supabase's Supavisor on 6543, Neon's -pooler hosts), where
// prepared statements and session settings do not survive between
// statements.
func detectPooler(host string, port uint16, rawURL string) (bool, string) {
	switch {
	case strings.Contains(host, "-pooler"):
		return true, "host name contains -pooler"
	case port == 6543:
		return true, "port 6543 is the usual transaction-pooler port"
	case strings.Contains(strings.ToLower(rawURL), "pgbouncer=true"):
		return true, "the URL says pgbouncer=true"
	}
	return false, ""
}

// Open connects, with a timeout, and returns a classified error when it
// cannot. The connection is read-only unless opts.AllowWrites.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	password := passwordOf(opts.URL)
	target, err := ParseTarget(opts.URL)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(stripNonLibpq(opts.URL))
	if err != nil {
		return nil, &ConnectError{Class: "config", Message: scrub(err.Error(), password)}
	}
	if cfg.ConnConfig.Password != "" {
		password = cfg.ConnConfig.Password
	}
	cfg.MaxConns = maxConns
	cfg.MinConns = 0
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "authtui"
	if target.Pooler {
		// Poolers reject unknown startup parameters and share server
		// sessions between clients: no prepared statements, and the
		// read-only and timeout settings go into each transaction instead.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	} else {
		// One round trip per statement, the first time too: a cached
		// prepared statement costs a Parse round trip before its first
		// run, and most of what authtui sends runs once per connection.
		// Parameters go as text of unspecified type, as in the simple
		// protocol, so the server types them from the column.
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeExec
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
		if !opts.AllowWrites {
			cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classify(err, password)
	}
	db := &DB{pool: pool, target: target, opts: opts, secrets: []string{password}, tlsVerify: tlsVerification(cfg.ConnConfig)}
	cctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	if err := db.reach(cctx); err != nil {
		pool.Close()
		if cctx.Err() != nil && ctx.Err() == nil {
			return nil, &ConnectError{Class: "timeout", Message: fmt.Sprintf("no answer from %s:%d within %s", target.Host, target.Port, opts.ConnectTimeout)}
		}
		return nil, classify(err, password)
	}
	return db, nil
}

// reach opens the first connection. A server that completed the startup
// has authenticated the user and is ready for queries, so a direct
// connection needs no ping on top; a pooler answers the startup itself,
// so there a ping checks that it reaches the database behind it.
func (db *DB) reach(ctx context.Context) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	if tc, ok := c.Conn().PgConn().Conn().(*tls.Conn); ok {
		db.tls, db.tlsVersion = true, tlsVersionName(tc.ConnectionState().Version)
	}
	if db.target.Pooler {
		return c.Ping(ctx)
	}
	return nil
}

// stripNonLibpq removes URL parameters that ORMs add but libpq (and pgx)
// reject, such as Prisma's pgbouncer=true and schema=. Everything else
// stays byte for byte as the user wrote it: libpq, and pgx after it,
// decode %XX but not "+", so re-encoding the query (url.Values.Encode
// writes spaces as "+") would turn options=-c%20search_path%3Dapp into
// "-c+search_path=app", which the server rejects.
func stripNonLibpq(raw string) string {
	rest, ok := strings.CutPrefix(raw, "postgresql://")
	if !ok {
		rest, ok = strings.CutPrefix(raw, "postgres://")
	}
	if !ok {
		return raw // a key=value string: nothing of Prisma's to strip
	}
	// The query starts at the first "?" after the user info, found as
	// libpq finds it: only a "/" ends the search for an "@".
	start := len(raw) - len(rest)
	if i := strings.IndexAny(rest, "@/"); i >= 0 && rest[i] == '@' {
		start += i + 1
	}
	q := strings.IndexByte(raw[start:], '?')
	if q < 0 {
		return raw
	}
	head, query := raw[:start+q], raw[start+q+1:]
	var kept []string
	for _, pair := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if key, err := url.PathUnescape(k); err == nil && ormOnlyParam(key) {
			continue
		}
		kept = append(kept, pair)
	}
	if len(kept) == 0 {
		return head
	}
	return head + "?" + strings.Join(kept, "&")
}

// ormOnlyParam names the URL parameters of ORMs and drivers that libpq
// does not know.
func ormOnlyParam(key string) bool {
	switch key {
	case "pgbouncer", "schema", "connection_limit", "pool_timeout", "socket_timeout":
		return true
	}
	return false
}

// TLS verification levels: what the client checked of the server's
// certificate, as the sslmode (and sslrootcert) of the URL made it.
const (
	TLSVerifyFull = "full" // chain and host name: verify-full, sslrootcert=system
	TLSVerifyCA   = "ca"   // the chain only: verify-ca, require with an sslrootcert
	TLSVerifyNone = "none" // any certificate: prefer, require, allow (libpq's default is prefer)
)

// tlsVerification reads the verification level from the parsed
// configuration, the one pgx connects with. pgx accepts any certificate
// where InsecureSkipVerify is set without a VerifyPeerCertificate of its
// own (which checks the chain, for verify-ca). Every host and fallback of
// one URL shares the sslmode, so the first TLS configuration says it.
func tlsVerification(cc *pgx.ConnConfig) string {
	tc := cc.TLSConfig
	for _, fb := range cc.Fallbacks {
		if tc == nil {
			tc = fb.TLSConfig
		}
	}
	switch {
	case tc == nil:
		return ""
	case !tc.InsecureSkipVerify:
		return TLSVerifyFull
	case tc.VerifyPeerCertificate != nil:
		return TLSVerifyCA
	}
	return TLSVerifyNone
}

// tlsVersionName names a TLS version as pg_stat_ssl does.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return tls.VersionName(v)
}

func passwordOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			return p
		}
	}
	for _, field := range strings.Fields(raw) { // key=value DSN
		if v, ok := strings.CutPrefix(field, "password="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}

// scrub removes every occurrence of the secrets from a message.
func scrub(msg string, secrets ...string) string {
	for _, s := range secrets {
		if len(s) >= 1 {
			msg = strings.ReplaceAll(msg, s, "****")
			if esc := url.QueryEscape(s); esc != s {
				msg = strings.ReplaceAll(msg, esc, "****")
			}
		}
	}
	return msg
}

// classify turns a connection error into a class and a short message.
func classify(err error, password string) *ConnectError {
	msg := scrub(shortError(err), password)
	var (
		dnsErr  *net.DNSError
		pgErr   *pgconn.PgError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &dnsErr):
		return &ConnectError{Class: "dns", Message: fmt.Sprintf("cannot resolve %s: check the host name", dnsErr.Name)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &ConnectError{Class: "refused", Message: "connection refused: nothing listens there (is the database running, is the port right?)"}
	case errors.As(err, &pgErr) && (pgErr.Code == "28P01" || pgErr.Code == "28000"):
		return &ConnectError{Class: "auth", Message: scrub(pgErr.Message, password)}
	case errors.As(err, &pgErr):
		return &ConnectError{Class: "server", Message: scrub(pgErr.Message, password) + " (" + pgErr.Code + ")"}
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &verify), errors.As(err, &record),
		strings.Contains(msg, "tls:"), strings.Contains(msg, "server refused TLS"), strings.Contains(msg, "SSL"):
		return &ConnectError{Class: "tls", Message: msg}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &ConnectError{Class: "timeout", Message: "timed out: " + msg}
	}
	return &ConnectError{Class: "server", Message: msg}
}

// shortError drops pgconn's "failed to connect to `user=… database=…`:"
// preamble, which repeats what the target already says.
func shortError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 && strings.HasPrefix(msg, "failed to connect") {
		msg = msg[i+3:]
	}
	return msg
}

// query runs fn read-only (unless write) and under the statement timeout.
// On a direct connection both are session defaults (startup parameters)
// and fn runs on the pool. Through a transaction pooler every statement
// carries them itself (see guarded), in the same round trip. Writes run
// in an explicit read-write transaction.
func (db *DB) query(ctx context.Context, write bool, fn func(q querier) error) error {
	if !write {
		if db.target.Pooler {
			return fn(guarded{db})
		}
		return fn(db.pool)
	}
	if !db.opts.AllowWrites {
		return errors.New("the database is open read-only; pass --allow-writes to change it")
	}
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadWrite})
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", db.opts.StatementTimeout.Milliseconds())); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// guardSQL are the statements a read through a transaction pooler starts
// with. A simple-protocol message of several statements runs as one
// implicit transaction, so SET LOCAL holds for the statements after it
// and ends with them: the server session the pooler lends goes back
// unchanged, and an error leaves no transaction open.
func (db *DB) guardSQL() []string {
	return []string{
		fmt.Sprintf("SET LOCAL statement_timeout = %d", db.opts.StatementTimeout.Milliseconds()),
		"SET LOCAL transaction_read_only = on",
	}
}

// roundTrip sends the batch in one round trip and runs its callbacks: on
// a direct connection as one pipeline of extended-protocol statements
// (one implicit transaction), through a pooler as one simple-protocol
// message that starts with guardSQL.
func (db *DB) roundTrip(ctx context.Context, b *pgx.Batch) error {
	if db.target.Pooler {
		g := &pgx.Batch{}
		for _, s := range db.guardSQL() {
			g.Queue(s)
		}
		g.QueuedQueries = append(g.QueuedQueries, b.QueuedQueries...)
		b = g
	}
	return db.pool.SendBatch(ctx, b).Close()
}

// guarded is the querier of reads through a transaction pooler: each
// statement goes in one message behind guardSQL, one round trip, where an
// explicit transaction would cost three more (BEGIN, SET LOCAL, COMMIT).
type guarded struct{ db *DB }

// send starts sql behind the guard statements and returns with its
// results next; the caller closes br and releases c.
func (g guarded) send(ctx context.Context, sql string, args []any) (*pgxpool.Conn, pgx.BatchResults, error) {
	c, err := g.db.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	b := &pgx.Batch{}
	guards := g.db.guardSQL()
	for _, s := range guards {
		b.Queue(s)
	}
	b.Queue(sql, args...)
	br := c.SendBatch(ctx, b)
	for range guards {
		if _, err := br.Exec(); err != nil {
			br.Close()
			c.Release()
			return nil, nil, err
		}
	}
	return c, br, nil
}

func (g guarded) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c, br, err := g.send(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	r := &guardedRows{Rows: rows, br: br, c: c}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (g guarded) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return guardedRow{g: g, ctx: ctx, sql: sql, args: args}
}

func (g guarded) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c, br, err := g.send(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer c.Release()
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// guardedRows are a statement's rows; closing them ends the message and
// gives the connection back.
type guardedRows struct {
	pgx.Rows
	br     pgx.BatchResults
	c      *pgxpool.Conn
	closed bool
}

func (r *guardedRows) Close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.Rows != nil {
		r.Rows.Close()
	}
	r.br.Close()
	r.c.Release()
}

// guardedRow is QueryRow's answer, read when scanned, as pgx's own.
type guardedRow struct {
	g    guarded
	ctx  context.Context
	sql  string
	args []any
}

func (r guardedRow) Scan(dest ...any) error {
	rows, err := r.g.Query(r.ctx, r.sql, r.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// querier is what a pool, a transaction and guarded offer.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// errMessage scrubs a query error for display.
func (db *DB) errMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if pgErr.Code == "57014" {
			return fmt.Sprintf("cancelled by statement_timeout (%s)", db.opts.StatementTimeout)
		}
		return scrub(pgErr.Message, db.secrets...)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return scrub(err.Error(), db.secrets...)
}
