package ui

import (
	"os"
	"testing"

	"github.com/authtui/authtui/internal/pgtest"
)

// The database and sessions panes are tested against a real PostgreSQL.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
