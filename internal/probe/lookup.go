package probe

import (
	"context"
	"time"

	"github.com/authtui/authtui/internal/probe/finding"
)

// TokenLookup is what the database says about one session token. It has
// the fields (and JSON) of database.TokenLookup, so that a caller converts
// one into the other, and package probe needs no database driver.
type TokenLookup struct {
	Found       bool      `json:"found"`
	SessionID   string    `json:"session_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
	Email       string    `json:"email,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	Expired     bool      `json:"expired"`
	UserExists  bool      `json:"user_exists"`
	TokenPrefix string    `json:"token_prefix"`
}

// TokenLooker finds the session row of an unsigned session token; source
// names where the token came from, for the findings.
type TokenLooker interface {
	LookupToken(ctx context.Context, token, source string) (TokenLookup, finding.List, error)
}

// TokenLookerFunc adapts a function to a TokenLooker.
type TokenLookerFunc func(ctx context.Context, token, source string) (TokenLookup, finding.List, error)

// LookupToken calls f.
func (f TokenLookerFunc) LookupToken(ctx context.Context, token, source string) (TokenLookup, finding.List, error) {
	return f(ctx, token, source)
}
