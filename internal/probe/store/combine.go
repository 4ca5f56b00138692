package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Source is the finding source of everything this package raises.
const Source = "secondary-storage"

// Tolerances of the comparisons: BetterAuth writes the store and the row
// from one object and sets the TTL from the same expiresAt, so real
// disagreements are far larger; the slack absorbs the time between the
// reads and a clock difference between the app and this machine.
const (
	ExpiryTolerance = 5 * time.Second
	TTLTolerance    = time.Minute
)

// Row is what the database said about the same token (from the database
// probe's LookupToken; see probe.TokenLookup), kept small so that this
// package needs no database driver.
type Row struct {
	// Checked: a session table was there and was asked.
	Checked   bool
	Found     bool
	ExpiresAt time.Time
	UserID    string
}

// now is time.Now, replaceable in tests of the package.
var now = time.Now

// Combine judges the store's view of one token together with the
// database's. st is nil when the store was not asked; storeErr is the
// error of the Lookup (or Open) that failed. The findings:
//
//   - store-unreachable: storeErr; BetterAuth then answers get-session with
//     500 even when the database holds the row (it does not fall back).
//   - store-session-missing: the token is in neither (the database when
//     checked), its key holds something BetterAuth cannot read, or it is
//     only in the database: the store lost the key (evicted, flushed, TTL).
//   - store-session-revoked: the key is there but a revoke-all marks it.
//   - session-expired: the stored session's expiresAt has passed.
//   - store-ttl-short: the key expires well before the session does.
//   - store-db-disagree: both hold it, with other expiries or users.
//   - store-only: in the store, not in the database (normal without
//     session.storeSessionInDatabase).
func Combine(st *Session, storeErr error, row Row) finding.List {
	var l finding.List
	if storeErr != nil {
		l = append(l, unreachable(storeErr, row))
		return l
	}
	if st == nil {
		return nil
	}
	tok := st.TokenPrefix
	seenStore := finding.Evidence{Step: "store", Seen: storeSeen(st)}
	seenDB := finding.Evidence{Step: "database", Seen: rowSeen(row)}

	if !st.Found {
		var f finding.Finding
		switch {
		case st.Unreadable != "":
			f = finding.New(finding.StoreSessionMissing, Source,
				"The store's key for token %s holds no session BetterAuth can read (%s): BetterAuth answers get-session with null for it. Sign in again; if it happens again, something else writes to the same keys (another app on the same Redis database: give each its own database number or key prefix).",
				tok, st.Unreadable)
		case row.Found:
			f = finding.New(finding.StoreSessionMissing, Source,
				"Token %s has a database row but no key in the store: the store lost it (evicted under maxmemory, flushed, or its TTL ran out before the row's expiry). With session.storeSessionInDatabase on, BetterAuth falls back to the row (and does not write the key back); without it the row is stale and get-session answers null. Check the store's maxmemory-policy (noeviction or volatile-*) and that the app and this check use the same Redis database.",
				tok)
		case row.Checked:
			f = finding.New(finding.StoreSessionMissing, Source,
				"Token %s is neither in the store nor in the database: the session was signed out or revoked, expired, or the app writes to another store (another Redis URL or database number). Sign in again and compare the store URL with the app's.",
				tok)
		default:
			f = finding.New(finding.StoreSessionMissing, Source,
				"Token %s has no key in the store: the session was signed out or revoked, expired, or the app writes to another store (another Redis URL or database number). Sign in again and compare the store URL with the app's.",
				tok)
		}
		ev := []finding.Evidence{seenStore}
		if row.Checked {
			ev = append(ev, seenDB)
		}
		return append(l, f.WithEvidence(ev...))
	}

	if st.Revoked {
		l = append(l, finding.New(finding.StoreSessionRevoked, Source,
			"Token %s is still in the store, but revoked-sessions-before-%s is later than the session's creation: a revoke-all (revokeSessions, a password change with revokeOtherSessions) ended it and BetterAuth answers null. Sign in again.",
			tok, st.UserID).WithEvidence(seenStore))
	}
	t := now()
	if !st.ExpiresAt.IsZero() && st.ExpiresAt.Before(t) {
		l = append(l, finding.New(finding.SessionExpired, Source,
			"The stored session of token %s expired at %s. Sign in again; check session.expiresIn.",
			tok, st.ExpiresAt.UTC().Format(time.RFC3339)).WithEvidence(seenStore))
	} else if !st.NoTTL && !st.ExpiresAt.IsZero() {
		if left := st.ExpiresAt.Sub(t); st.TTL < left-TTLTolerance {
			l = append(l, finding.New(finding.StoreTTLShort, Source,
				"The store's key for token %s expires in %s, but the session only in %s: the user is signed out early. Something shortened the key's TTL (a secondaryStorage.set that ignores or caps the ttl argument, a wrapper with its own expiry, a Redis EXPIRE elsewhere); pass BetterAuth's ttl through unchanged.",
				tok, roundDur(st.TTL), roundDur(left)).WithEvidence(seenStore))
		}
	}

	if !row.Checked {
		return l
	}
	if !row.Found {
		return append(l, finding.New(finding.StoreOnly, Source,
			"Token %s is in the store and not in the database: normal when session.storeSessionInDatabase is off (the default with secondaryStorage). With it on, the database write failed or the row was deleted.",
			tok).WithEvidence(seenStore, seenDB))
	}
	var diffs []string
	if !row.ExpiresAt.IsZero() && !st.ExpiresAt.IsZero() {
		if d := st.ExpiresAt.Sub(row.ExpiresAt); d > ExpiryTolerance || d < -ExpiryTolerance {
			diffs = append(diffs, fmt.Sprintf("the store says it expires at %s, the database at %s",
				st.ExpiresAt.UTC().Format(time.RFC3339), row.ExpiresAt.UTC().Format(time.RFC3339)))
		}
	}
	if row.UserID != "" && st.UserID != "" && row.UserID != st.UserID {
		diffs = append(diffs, fmt.Sprintf("the store names user %s, the database user %s",
			textsafe.Safe(st.UserID), textsafe.Safe(row.UserID)))
	}
	if len(diffs) > 0 {
		l = append(l, finding.New(finding.StoreDBDisagree, Source,
			"Store and database disagree about token %s: %s. BetterAuth reads the store first and uses the row only when the key is gone, so the store's version is what get-session answers. Something updates one without the other (a job or script writing the session table directly, a second app with another store); change sessions through BetterAuth's API.",
			tok, strings.Join(diffs, "; ")).WithEvidence(seenStore, seenDB))
	}
	return l
}

func unreachable(err error, row Row) finding.Finding {
	what := textsafe.Safe(err.Error())
	var e *Error
	if errors.As(err, &e) {
		what = e.Class + ": " + e.Message
	}
	fallback := ""
	if row.Found {
		fallback = " The database still holds the row, but BetterAuth does not fall back to it when the store fails: get-session answers 500 FAILED_TO_GET_SESSION."
	} else {
		fallback = " While it is, BetterAuth answers get-session with 500 FAILED_TO_GET_SESSION and sign-in fails."
	}
	f := finding.New(finding.StoreUnreachable, Source,
		"The session store cannot be read (%s).%s Check the Redis URL (the app's REDIS_URL), that Redis runs and accepts this client, and its password.",
		what, fallback)
	ev := []finding.Evidence{{Step: "store", Seen: what}}
	if row.Checked {
		ev = append(ev, finding.Evidence{Step: "database", Seen: rowSeen(row)})
	}
	return f.WithEvidence(ev...)
}

func storeSeen(st *Session) string {
	switch {
	case st.Found:
		ttl := "no TTL"
		if !st.NoTTL {
			ttl = "TTL " + roundDur(st.TTL)
		}
		list := "listed"
		if !st.InActiveList {
			list = "not listed"
		}
		return fmt.Sprintf("key %s: session, %s, expires %s, %s in active-sessions", st.TokenPrefix, ttl,
			st.ExpiresAt.UTC().Format(time.RFC3339), list)
	case st.Unreadable != "":
		return fmt.Sprintf("key %s: %s", st.TokenPrefix, st.Unreadable)
	}
	return fmt.Sprintf("key %s: no such key", st.TokenPrefix)
}

func rowSeen(row Row) string {
	switch {
	case !row.Checked:
		return "not checked"
	case !row.Found:
		return "no session row for the token"
	case row.ExpiresAt.IsZero():
		return "session row found"
	}
	return "session row found, expires " + row.ExpiresAt.UTC().Format(time.RFC3339)
}

func roundDur(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// Elsewhere is the inference for a deployment checked without a store: a
// database that has users but no session table (or no row for the token:
// pass hasSessionTable false then too) while no store URL was given means
// the sessions most likely live in secondaryStorage. nil when that does
// not follow.
func Elsewhere(hasSessionTable bool, users int, storeConfigured bool) *finding.Finding {
	if hasSessionTable || users <= 0 || storeConfigured {
		return nil
	}
	f := finding.New(finding.SessionsElsewhere, Source,
		"The database has %d user(s) but no session table, or no row for this session: with secondaryStorage configured, BetterAuth keeps sessions there (and creates no session table unless session.storeSessionInDatabase is on). Sessions most likely live in secondaryStorage: pass --redis-url (the app's REDIS_URL) to check them.",
		users).WithEvidence(finding.Evidence{Step: "database", Seen: fmt.Sprintf("%d user(s), no session table or row", users)})
	return &f
}

// The variables URLFromSources reads, in order: the usual Redis URL names,
// Vercel KV's, Heroku's TLS one, Upstash's Redis-protocol one.
var urlVars = []string{"REDIS_URL", "KV_URL", "REDIS_TLS_URL", "UPSTASH_REDIS_URL"}

// restVars are Upstash's REST credentials, which the Redis protocol
// cannot use.
var restVars = []string{"UPSTASH_REDIS_REST_URL", "KV_REST_API_URL"}

// URLFromSources picks the store URL from configuration variables:
// the first of REDIS_URL, KV_URL, REDIS_TLS_URL, UPSTASH_REDIS_URL that is
// a redis:// or rediss:// URL, with the variable's name in from. When none
// is and an Upstash REST URL is set (UPSTASH_REDIS_REST_URL, or Vercel's
// KV_REST_API_URL), unsupported names that variable: go-redis cannot speak
// REST (UnsupportedFinding says so).
func URLFromSources(vars map[string]string) (url, from, unsupported string) {
	for _, k := range urlVars {
		v := strings.TrimSpace(vars[k])
		if isRedisURL(v) {
			return v, k, ""
		}
	}
	for _, k := range restVars {
		if strings.TrimSpace(vars[k]) != "" {
			return "", "", k
		}
	}
	for _, k := range urlVars { // an https:// REST URL under a Redis name
		if v := strings.TrimSpace(vars[k]); v != "" && !isRedisURL(v) {
			return "", "", k
		}
	}
	return "", "", ""
}

func isRedisURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "redis" || u.Scheme == "rediss") && u.Host != ""
}

// UnsupportedFinding is store-unsupported for the variable URLFromSources
// named, found in source (an env file label).
func UnsupportedFinding(variable, source string) finding.Finding {
	return finding.New(finding.StoreUnsupported, source,
		"%s in %s is a REST endpoint (Upstash REST), which authtui cannot read sessions through: it speaks the Redis protocol. Upstash databases accept it too: pass --redis-url rediss://default:<password>@<host>:6379 (the database's Redis URL in the Upstash console).",
		textsafe.Safe(variable), textsafe.Safe(source)).
		WithEvidence(finding.Evidence{Step: textsafe.Safe(source), Seen: textsafe.Safe(variable) + " set, no redis:// URL"})
}
