package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// style is the few SGR codes text output uses; all empty without colour.
type style struct{ bold, dim, red, yellow, green, cyan, reset string }

func newStyle(color bool) style {
	if !color {
		return style{}
	}
	return style{bold: "\x1b[1m", dim: "\x1b[2m", red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", cyan: "\x1b[36m", reset: "\x1b[0m"}
}

func (s style) sev(sev finding.Severity) string {
	switch sev {
	case finding.Error:
		return s.red + "ERROR" + s.reset
	case finding.Warn:
		return s.yellow + "WARN " + s.reset
	default:
		return s.cyan + "INFO " + s.reset
	}
}

// writeFindings prints findings errors first, one per line, wrapped under
// the ID so the fix stays readable in an 80-column terminal.
func writeFindings(w io.Writer, st style, fs finding.List) {
	if len(fs) == 0 {
		fmt.Fprintf(w, "%sNo findings.%s\n", st.green, st.reset)
		return
	}
	e, wn, in := fs.Count()
	fmt.Fprintf(w, "%sFindings%s: %d error(s), %d warning(s), %d info\n", st.bold, st.reset, e, wn, in)
	for _, f := range fs.Sorted() {
		fmt.Fprintf(w, "  %s %s%s%s\n", st.sev(f.Severity), st.bold, f.ID, st.reset)
		for _, line := range textsafe.Wrap(textsafe.Clean(f.Message), 72) {
			fmt.Fprintf(w, "        %s\n", line)
		}
		if len(f.Evidence) > 1 {
			// One cause seen several times (cookie and bearer): say where.
			var at []string
			for _, e := range f.Evidence {
				at = append(at, e.Step)
			}
			fmt.Fprintf(w, "        %sseen at: %s%s\n", st.dim, textsafe.Clean(strings.Join(at, ", ")), st.reset)
		}
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// exitFor applies the exit-code rule to a command's findings.
func exitFor(fs finding.List) int {
	if fs.HasError() {
		return exitFound
	}
	return exitOK
}
