package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authtui/authtui/internal/probe/textsafe"
)

// Session is what the store holds for one token.
type Session struct {
	// Found: the key exists and its value is a session BetterAuth can read.
	Found bool `json:"found"`
	// Unreadable says why a key that exists is not such a session (not
	// JSON, no session object, too large, not a string); "" otherwise.
	// BetterAuth answers null for it, as for a missing key.
	Unreadable string `json:"unreadable,omitempty"`

	SessionID string    `json:"session_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Email     string    `json:"email,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	// TTL is what is left of the key's time to live; NoTTL when the key
	// never expires (then TTL is 0).
	TTL   time.Duration `json:"ttl"`
	NoTTL bool          `json:"no_ttl,omitempty"`

	// TokenPrefix names the token for display (textsafe.TokenPrefix).
	TokenPrefix string `json:"token_prefix"`
	// InActiveList: the token is listed in active-sessions-<userId>, the
	// list BetterAuth's listSessions and revoke-all work from.
	InActiveList bool `json:"in_active_list"`
	// Revoked: revoked-sessions-before-<userId> is later than the
	// session's creation, so BetterAuth treats it as revoked (null).
	Revoked bool `json:"revoked,omitempty"`
}

// Lookup finds a session by its raw token as BetterAuth keys it. A token
// that is not there is Session{Found: false} and no error; errors (the
// store unreachable, a command refused) are *Error.
func (s *Store) Lookup(ctx context.Context, token string) (Session, error) {
	out := Session{TokenPrefix: textsafe.TokenPrefix(token)}
	if token == "" || len(token) > maxTokenLen {
		return out, &Error{Class: "config", Message: fmt.Sprintf("not a session token (%d bytes)", len(token))}
	}
	cctx, cancel := s.cmdCtx(ctx)
	defer cancel()
	var ttl *redis.DurationCmd
	var val *redis.StringCmd
	_, err := s.c.Pipelined(cctx, func(p redis.Pipeliner) error {
		// PTTL first: GETRANGE answers "" for a missing key, so
		// existence comes from PTTL (-2).
		ttl = p.PTTL(cctx, token)
		val = p.GetRange(cctx, token, 0, maxValue-1)
		return nil
	})
	if err != nil && !isWrongType(err) {
		return out, s.classify(err, token)
	}
	if !s.fill(&out, ttl, val, maxValue) {
		return out, nil
	}
	if err := s.lists(ctx, []*Session{&out}, map[*Session]string{&out: token}); err != nil {
		return out, err
	}
	return out, nil
}

// fill reads one key's PTTL and value into out; it reports whether the
// key holds a session.
func (s *Store) fill(out *Session, ttl *redis.DurationCmd, val *redis.StringCmd, limit int) bool {
	d, err := ttl.Result()
	if err != nil || d == -2 {
		return false
	}
	if d == -1 {
		out.NoTTL = true
	} else if d > 0 {
		out.TTL = d
	}
	raw, err := val.Result()
	if err != nil {
		if isWrongType(err) {
			out.Unreadable = "the key is not a string (BetterAuth stores sessions as JSON strings)"
		} else {
			out.Unreadable = "could not be read: " + s.classify(err).Message
		}
		return false
	}
	dec, err := decodeSession([]byte(raw))
	if err != nil {
		if len(raw) >= limit {
			out.Unreadable = fmt.Sprintf("the value is larger than %d KiB and not a session", limit>>10)
		} else {
			out.Unreadable = err.Error()
		}
		return false
	}
	out.Found = true
	out.SessionID, out.UserID, out.Email = dec.SessionID, dec.UserID, dec.Email
	out.ExpiresAt, out.CreatedAt = dec.ExpiresAt, dec.CreatedAt
	return true
}

// lists fills InActiveList and Revoked for found sessions, one pipeline
// for all their users.
func (s *Store) lists(ctx context.Context, found []*Session, tokens map[*Session]string) error {
	users := map[string]bool{}
	for _, f := range found {
		if f.Found && f.UserID != "" {
			users[f.UserID] = true
		}
	}
	if len(users) == 0 {
		return nil
	}
	type reads struct{ active, revoked *redis.StringCmd }
	byUser := map[string]reads{}
	cctx, cancel := s.cmdCtx(ctx)
	defer cancel()
	_, err := s.c.Pipelined(cctx, func(p redis.Pipeliner) error {
		for u := range users {
			byUser[u] = reads{
				active:  p.GetRange(cctx, "active-sessions-"+u, 0, maxList-1),
				revoked: p.GetRange(cctx, "revoked-sessions-before-"+u, 0, 63),
			}
		}
		return nil
	})
	if err != nil && !isWrongType(err) {
		return s.classify(err)
	}
	for _, f := range found {
		r, ok := byUser[f.UserID]
		if !ok {
			continue
		}
		if raw, err := r.active.Result(); err == nil {
			f.InActiveList = activeListHas([]byte(raw), tokens[f])
		}
		if raw, err := r.revoked.Result(); err == nil && raw != "" {
			// BetterAuth compares with Number(value): a millisecond count.
			if ms, err := strconv.ParseFloat(strings.TrimSpace(raw), 64); err == nil && !f.CreatedAt.IsZero() &&
				float64(f.CreatedAt.UnixMilli()) < ms {
				f.Revoked = true
			}
		}
	}
	return nil
}

// Recent lists up to n sessions (at most 100) of the store, newest first
// (by creation, else expiry). The work is bounded whatever the store
// holds: it scans at most 50,000 keys (and for at most one Timeout) for
// 32-character token keys and reads at most 300 of them, so in a big
// store it lists the newest of those it saw, not of all.
func (s *Store) Recent(ctx context.Context, n int) ([]Session, error) {
	if n <= 0 {
		return nil, nil
	}
	n = min(n, maxRecent)
	var candidates []string
	seen := map[string]bool{}
	var cursor uint64
	// A slow store ends the scan early too: past one command timeout in
	// all, Recent reads what it has.
	deadline := time.Now().Add(s.timeout)
	for call := 0; call < scanCalls && len(candidates) < maxCandidates && (call == 0 || time.Now().Before(deadline)); call++ {
		cctx, cancel := s.cmdCtx(ctx)
		keys, next, err := s.c.Scan(cctx, cursor, tokenPattern, scanCount).Result()
		cancel()
		if err != nil {
			return nil, s.classify(err)
		}
		for _, k := range keys {
			if isToken(k) && !seen[k] && len(candidates) < maxCandidates {
				seen[k] = true
				candidates = append(candidates, k)
			}
		}
		cursor = next
		if cursor == 0 {
			break
		}
	}

	var found []*Session
	tokens := map[*Session]string{}
	for start := 0; start < len(candidates); start += batch {
		part := candidates[start:min(start+batch, len(candidates))]
		ttls := make([]*redis.DurationCmd, len(part))
		vals := make([]*redis.StringCmd, len(part))
		cctx, cancel := s.cmdCtx(ctx)
		_, err := s.c.Pipelined(cctx, func(p redis.Pipeliner) error {
			for i, k := range part {
				ttls[i] = p.PTTL(cctx, k)
				vals[i] = p.GetRange(cctx, k, 0, maxRecentValue-1)
			}
			return nil
		})
		cancel()
		if err != nil && !isWrongType(err) {
			return nil, s.classify(err)
		}
		for i, k := range part {
			sess := &Session{TokenPrefix: textsafe.TokenPrefix(k)}
			if s.fill(sess, ttls[i], vals[i], maxRecentValue) {
				found = append(found, sess)
				tokens[sess] = k
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i], found[j]
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.After(b.CreatedAt)
		}
		return a.ExpiresAt.After(b.ExpiresAt)
	})
	if len(found) > n {
		found = found[:n]
	}
	if err := s.lists(ctx, found, tokens); err != nil {
		return nil, err
	}
	out := make([]Session, len(found))
	for i, f := range found {
		out[i] = *f
	}
	return out, nil
}

// isToken: what BetterAuth's generateId(32) makes.
func isToken(k string) bool {
	if len(k) != 32 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isWrongType(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(err.Error(), "WRONGTYPE")
}

// decoded is the part of a stored value the diagnosis uses.
type decoded struct {
	SessionID, UserID, Email string
	ExpiresAt, CreatedAt     time.Time
}

// decodeSession reads a value the way BetterAuth's findSession does: JSON
// with a session object (expiresAt a date) and a user object. What
// BetterAuth cannot use is an error saying why, in words fit for display.
func decodeSession(b []byte) (decoded, error) {
	var v struct {
		Session *struct {
			ID        any      `json:"id"`
			UserID    any      `json:"userId"`
			ExpiresAt jsonTime `json:"expiresAt"`
			CreatedAt jsonTime `json:"createdAt"`
		} `json:"session"`
		User *struct {
			ID    any `json:"id"`
			Email any `json:"email"`
		} `json:"user"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return decoded{}, errors.New("the value is not JSON")
	}
	if v.Session == nil {
		return decoded{}, errors.New("the value has no session object")
	}
	// findSession reads s.user.createdAt: without a user object it throws,
	// and get-session answers 500.
	if v.User == nil {
		return decoded{}, errors.New("the value has no user object")
	}
	if !v.Session.ExpiresAt.ok {
		return decoded{}, errors.New("the session has no readable expiresAt")
	}
	d := decoded{
		SessionID: idString(v.Session.ID),
		UserID:    idString(v.Session.UserID),
		Email:     textsafe.Safe(textsafe.Truncate(idString(v.User.Email), 200)),
		ExpiresAt: v.Session.ExpiresAt.t,
		CreatedAt: v.Session.CreatedAt.t,
	}
	if d.UserID == "" {
		d.UserID = idString(v.User.ID)
	}
	return d, nil
}

// idString shows a JSON id (string or number) as text, cleaned and
// bounded: it comes from the store and goes to a screen.
func idString(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return ""
	}
	return textsafe.Clean(textsafe.Truncate(s, 100))
}

// jsonTime is a JavaScript Date as JSON.stringify writes it (an ISO
// string), or a millisecond count, which new Date() also takes.
type jsonTime struct {
	t  time.Time
	ok bool
}

func (j *jsonTime) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil // an unreadable date is "not ok", not a decoding failure
	}
	switch x := v.(type) {
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999Z07:00", "2006-01-02 15:04:05.999Z07:00"} {
			if t, err := time.Parse(layout, x); err == nil {
				j.t, j.ok = t, true
				return nil
			}
		}
	case float64:
		// new Date(ms) is valid within ±8.64e15 ms.
		if !math.IsNaN(x) && math.Abs(x) <= 8.64e15 {
			j.t, j.ok = time.UnixMilli(int64(x)).UTC(), true
		}
	}
	return nil
}

// activeListHas reports whether an active-sessions-<userId> value lists
// token.
func activeListHas(b []byte, token string) bool {
	var list []struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(b, &list) != nil {
		return false
	}
	for _, e := range list {
		if e.Token == token {
			return true
		}
	}
	return false
}
