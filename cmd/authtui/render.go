package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/textsafe"
	"github.com/authtui/authtui/internal/report"
)

// style is the few SGR codes text output uses; all empty without colour.
type style struct{ bold, dim, red, yellow, green, cyan, reset string }

func newStyle(color bool) style {
	if !color {
		return style{}
	}
	return style{bold: "\x1b[1m", dim: "\x1b[2m", red: "\x1b[31m", yellow: "\x1b[33m", green: "\x1b[32m", cyan: "\x1b[36m", reset: "\x1b[0m"}
}

// reportText is how report.Text prints with this style: colours only when the
// style has them.
func (s style) reportText() report.TextOptions { return report.TextOptions{Color: s.reset != ""} }

// reportPaint is report.Painter with this style's colours (none without).
func (s style) reportPaint(text string, t report.Tone) string {
	return report.Paint(text, t, s.reset != "")
}

// Text output prints every untrusted string through textsafe.Safe
// (credentials cut, then control characters escaped) and every URL through
// textsafe.URL; JSON does the same to every string (safeJSON), so the two
// never disagree about what may be shown.

// writeJSON prints v as indented JSON, every string in it made as safe as
// the text output makes it (safeJSON).
func writeJSON(w io.Writer, v any) error {
	raw, err := safeJSON(v)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = w.Write(out.Bytes())
	return err
}

// writeJSONLine prints v as one line of JSON (a stream of events, as
// `login --json` writes), as safe as writeJSON's.
func writeJSONLine(w io.Writer, v any) error {
	raw, err := safeJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(raw, '\n'))
	return err
}

// safeJSON encodes v and passes every string of the encoding, keys and
// values, through the rules of the text output: a value through
// textsafe.SafeValue (credentials cut, a URL shown without userinfo and
// query, control characters escaped), a key through textsafe.Clean. So
// `jq -r` of any field prints what the text output prints: no C1 control
// (U+0080–U+009F), bidi override or isolate, DEL or ESC reaches a
// terminal, and no credential a server, the database or a paste carried.
// Working on the encoding, once, covers every command's JSON and every
// field, including ones added later.
func safeJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(raw)+len(raw)/8)
	for i := 0; i < len(raw); {
		if raw[i] != '"' {
			j := i
			for j < len(raw) && raw[j] != '"' {
				j++
			}
			out = append(out, raw[i:j]...)
			i = j
			continue
		}
		end := i + 1
		for end < len(raw) && raw[end] != '"' {
			if raw[end] == '\\' {
				end++
			}
			end++
		}
		end++ // past the closing quote
		lit := raw[i:end]
		var s string
		if bytes.IndexByte(lit, '\\') < 0 {
			s = string(lit[1 : len(lit)-1]) // no escape: the bytes are the string
		} else if err := json.Unmarshal(lit, &s); err != nil {
			return nil, fmt.Errorf("re-reading JSON string: %w", err)
		}
		isKey := end < len(raw) && raw[end] == ':'
		safe := textsafe.Clean(s)
		if !isKey {
			safe = textsafe.SafeValue(s)
		}
		if safe == s && plainJSON(lit) {
			out = append(out, lit...)
		} else {
			enc, err := json.Marshal(safe)
			if err != nil {
				return nil, err
			}
			out = append(out, enc...)
		}
		i = end
	}
	return out, nil
}

// plainJSON says whether a string literal needs no re-encoding: printable
// ASCII only (json.Marshal wrote any escape it needed, and none of them
// stands for a control character Clean would have escaped).
func plainJSON(lit []byte) bool {
	for _, c := range lit {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// errorText is how an error reaches stderr: an error can quote a flag's
// value or a server's answer, so it gets the redaction of every output.
func errorText(err error) string { return textsafe.Safe(err.Error()) }

// exitFor applies the exit-code rule to a command's findings.
func exitFor(fs finding.List) int {
	if fs.HasError() {
		return exitFound
	}
	return exitOK
}
