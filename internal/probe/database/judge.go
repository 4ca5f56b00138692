package database

import "github.com/authtui/authtui/internal/probe/finding"

// Judge exposes judge for the console, which keeps its own latency window
// across refreshes and re-judges after each one instead of calling
// CheckHealth (which would reconnect every time).
func (db *DB) Judge(h *Health) finding.List { return db.judge(h) }
