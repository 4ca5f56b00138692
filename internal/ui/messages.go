package ui

import (
	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/database"
)

// Messages every pane may care about are broadcast by the root; each pane
// ignores the ones it does not use. Pane-private results are defined in the
// pane's own file.

// SecretsLoadedMsg carries a fresh read of the env sources. Panes that
// verify cookies take their candidates from it.
type SecretsLoadedMsg struct {
	Sources []probe.Source
	Report  probe.SecretsReport
	// Config is the one resolved configuration for these sources.
	Config  probe.Config
	BaseURL string // the base URL of the sources (empty when --base-url gave it)
	DBURL   string // the database URL of the sources or the environment (empty when --database-url gave it)
}

// DBReadyMsg says the database is connected and its schema known; the
// sessions, inspector and login panes use DB from then on. A nil DB means
// it went away.
type DBReadyMsg struct {
	DB     *database.DB
	Schema *database.Schema
}

// StatusMsg shows a transient line in the hint bar (copied, revoked, …).
type StatusMsg struct {
	Text  string
	Error bool
}
