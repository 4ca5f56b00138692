// Package store reads the sessions BetterAuth keeps in its secondary
// storage (Redis), to tell a session that is missing from the store apart
// from one missing from the database.
//
// It only reads: GET-like reads (GETRANGE, bounded), PTTL, SCAN and the
// connection handshake (HELLO, PING). Nothing here sends a command that
// changes the store, so it is safe to point at a production Redis; a test
// checks that against the server's own command statistics.
//
// What BetterAuth 1.7.25 keeps there (see BETTERAUTH.md): the session under
// its raw 32-character token as key, the value JSON
// {"session":{…},"user":{…}} with a TTL of the seconds left to expiresAt;
// active-sessions-<userId> (a JSON array of {token, expiresAt}) and, after
// a revoke-all, revoked-sessions-before-<userId> (milliseconds).
package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// DefaultTimeout bounds each command (and each dial): a diagnosis must
// not hang on a store that does not answer.
const DefaultTimeout = 3 * time.Second

// Bounds on what one call reads, so that a huge or hostile store costs a
// known amount of time and memory.
const (
	// maxValue is the most of one value Lookup reads: a BetterAuth
	// session value is well under 4 KiB, even with additional fields.
	maxValue = 1 << 20
	// maxRecentValue is the most of one candidate value Recent reads.
	maxRecentValue = 64 << 10
	// maxList is the most of an active-sessions list read.
	maxList = 1 << 20
	// maxTokenLen rejects what cannot be a session token before asking.
	maxTokenLen = 1024
	// Recent scans at most scanCalls × scanCount keys and reads at most
	// maxCandidates values.
	scanCalls     = 50
	scanCount     = 1000
	maxCandidates = 300
	maxRecent     = 100
	batch         = 100
)

// tokenPattern is a SCAN MATCH pattern for BetterAuth's token keys:
// exactly 32 characters (generateId(32)), filtered to [A-Za-z0-9] here.
var tokenPattern = strings.Repeat("?", 32)

// Options says how to reach the store.
type Options struct {
	// URL is a redis://, rediss:// (TLS) or unix:// URL.
	URL string
	// Timeout bounds each command and each dial; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Error classifies why the store could not be reached or read, in the
// classes a user acts on differently, as the database's errors are. Its
// message never holds the URL's password.
type Error struct {
	Class   string `json:"class"` // config, dns, refused, auth, tls, timeout, server
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Class + ": " + e.Message }

// Store is an open connection to the store.
type Store struct {
	c       *redis.Client
	timeout time.Duration
	target  string
	secrets []string
}

// quietOnce silences go-redis's own logger, which prints dial failures to
// stderr: in the console that would draw over the screen, and every
// failure reaches the caller as an *Error anyway. The logger is global to
// go-redis; authtui uses go-redis only here.
var quietOnce sync.Once

type nopLogger struct{}

func (nopLogger) Printf(context.Context, string, ...any) {}

// Open connects and checks the store with a PING. Errors are *Error.
func Open(ctx context.Context, o Options) (*Store, error) {
	quietOnce.Do(func() { redis.SetLogger(nopLogger{}) })
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	secrets := secretsOf(o.URL)
	opt, target, err := parseURL(o.URL)
	if err != nil {
		return nil, &Error{Class: "config", Message: scrub(err.Error(), secrets)}
	}
	opt.DialTimeout = o.Timeout
	opt.ReadTimeout = o.Timeout
	opt.WriteTimeout = o.Timeout
	opt.ContextTimeoutEnabled = true
	// One try per call: the caller's timeout is the whole budget, and a
	// store that refuses once refuses again a moment later.
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.PoolSize = 2
	opt.MinIdleConns = 0
	opt.PoolTimeout = o.Timeout
	// RESP2 and no CLIENT SETINFO / maintenance notifications: the
	// handshake is HELLO (or AUTH) and nothing else, which every Redis
	// and Redis-compatible service answers, and read-only ACL users allow.
	opt.Protocol = 2
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	s := &Store{c: redis.NewClient(opt), timeout: o.Timeout, target: target, secrets: secrets}
	cctx, cancel := s.cmdCtx(ctx)
	defer cancel()
	if err := s.c.Ping(cctx).Err(); err != nil {
		s.c.Close()
		return nil, s.classify(err)
	}
	return s, nil
}

// Close releases the connections.
func (s *Store) Close() { _ = s.c.Close() }

// Target is where the store is, for display: host:port (or the socket
// path), never the password.
func (s *Store) Target() string { return s.target }

func (s *Store) cmdCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// parseURL checks the URL before go-redis sees it: url.Parse's errors
// quote the whole URL, password included.
func parseURL(raw string) (*redis.Options, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, "", errors.New("no store URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", errors.New("not a valid URL (want redis://host:port or rediss://host:port, with the user and password before the host)")
	}
	switch u.Scheme {
	case "redis", "rediss", "unix":
	case "http", "https":
		return nil, "", fmt.Errorf("%s:// is a REST endpoint (Upstash REST?), not the Redis protocol: use the redis:// or rediss:// URL", u.Scheme)
	default:
		return nil, "", fmt.Errorf("unsupported scheme %q (want redis://, rediss:// or unix://)", textsafe.Clean(textsafe.Truncate(u.Scheme, 20)))
	}
	target := u.Host
	if u.Scheme == "unix" {
		target = u.Path
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, "", err
	}
	if u.Scheme != "unix" {
		target = opt.Addr
	}
	return opt, textsafe.Clean(target), nil
}

// secretsOf lists what must never appear in a message: the URL's password
// (raw and decoded).
func secretsOf(raw string) []string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
	}
	return out
}

func scrub(msg string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "****")
		}
	}
	return textsafe.Safe(msg)
}

// tokenWord is a session key inside a message: Redis names the key in
// some errors (NOPERM … access the '<key>' key), and a key is a token.
var tokenWord = regexp.MustCompile(`\b[A-Za-z0-9]{32}\b`)

// classify turns a go-redis error into an *Error. keys are the keys the
// command named (tokens), cut from the message as token prefixes.
func (s *Store) classify(err error, keys ...string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	raw := err.Error()
	for _, k := range keys {
		if k != "" {
			raw = strings.ReplaceAll(raw, k, textsafe.TokenPrefix(k))
		}
	}
	raw = tokenWord.ReplaceAllStringFunc(raw, textsafe.TokenPrefix)
	msg := scrub(raw, s.secrets)
	var (
		dnsErr  *net.DNSError
		rerr    redis.Error
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		netErr  net.Error
	)
	switch {
	case errors.As(err, &dnsErr):
		return &Error{Class: "dns", Message: fmt.Sprintf("cannot resolve %s: check the host name", textsafe.Safe(dnsErr.Name))}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Error{Class: "refused", Message: fmt.Sprintf("connection refused at %s: nothing listens there (is Redis running, is the port right?)", s.target)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return &Error{Class: "refused", Message: fmt.Sprintf("%s closed the connection (stopped meanwhile, or a TLS-only server: then use rediss://)", s.target)}
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &verify), errors.As(err, &record),
		strings.Contains(msg, "tls:"):
		return &Error{Class: "tls", Message: msg}
	case errors.Is(err, context.Canceled):
		return &Error{Class: "timeout", Message: "cancelled before " + s.target + " answered"}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return &Error{Class: "timeout", Message: fmt.Sprintf("no answer from %s within %s", s.target, s.timeout)}
	case errors.As(err, &rerr):
		switch code, _, _ := strings.Cut(msg, " "); code {
		case "WRONGPASS", "NOAUTH":
			return &Error{Class: "auth", Message: msg}
		case "NOPERM":
			return &Error{Class: "auth", Message: msg + " (the user's ACL does not allow this read)"}
		case "MOVED", "ASK", "CLUSTERDOWN":
			return &Error{Class: "server", Message: msg + " (a Redis Cluster: point the URL at the node that holds the key)"}
		}
		if strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password") {
			return &Error{Class: "auth", Message: msg}
		}
		return &Error{Class: "server", Message: msg}
	case errors.Is(err, redis.ErrClosed):
		return &Error{Class: "config", Message: "the store connection is closed"}
	}
	return &Error{Class: "server", Message: msg}
}
