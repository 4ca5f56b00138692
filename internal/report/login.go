package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/authtui/authtui/internal/probe/login"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

// The login flow's steps, as `authtui login`, `authtui check`, the console's
// login pane and the Markdown report show them.

// StepTitleWidth is the title column of a step row when the other steps
// are not known yet (the CLI prints each step as it ends): the common
// titles fit, the status codes and durations line up.
const StepTitleWidth = 40

// StepMark is a step status as its mark and tone; a running step's mark
// is "…" (the console draws its spinner there instead).
func StepMark(status string) (string, Tone) {
	switch status {
	case login.StatusOK:
		return "✓", Good
	case login.StatusWarn:
		return "!", Warn
	case login.StatusFail:
		return "✗", Bad
	case login.StatusRunning:
		return "…", Dim
	}
	return "-", Dim
}

// Step is one step as its row: mark, title, HTTP status, duration and,
// for a step that passed, was skipped or is running, its detail. The
// detail of a failed or warned step is what to read, so StepLines puts
// it below the row, wrapped, instead of cutting it at the edge.
func Step(e login.Event) Line { return stepRow(e, StepTitleWidth) }

// StepLines is a step as every output shows it: the row, then a failed or
// warned step's detail, then the redirect it answered with (never
// followed).
func StepLines(e login.Event) []Line { return stepLines(e, StepTitleWidth) }

func stepRow(e login.Event, col int) Line {
	mark, tone := StepMark(e.Status)
	title := Clip(e.Title, 60)
	title += strings.Repeat(" ", max(0, col-ansi.StringWidth(title)))
	code := "   "
	if e.HTTPStatus != 0 {
		code = fmt.Sprintf("%3d", e.HTTPStatus)
	}
	// Title, code and duration are spans of their own: what a fact is
	// does not depend on the column width.
	dur := ""
	if e.Duration >= time.Microsecond {
		// Below that the step did not run (skipped at once): "0µs"
		// would read as a measurement.
		dur = Duration(e.Duration)
	}
	l := L("", S(mark, tone), P(" "+title), P(" "+code), S(fmt.Sprintf(" %7s", dur), Dim))
	if e.Detail != "" && !detailBelow(e.Status) {
		l.Spans = append(l.Spans, S("  "+Safe(e.Detail, 300), Dim))
	}
	return l
}

func detailBelow(status string) bool { return status == login.StatusFail || status == login.StatusWarn }

func stepLines(e login.Event, col int) []Line {
	out := []Line{stepRow(e, col)}
	if e.Detail != "" && detailBelow(e.Status) {
		_, tone := StepMark(e.Status)
		out = append(out, Line{Indent: 1, Prose: true, Spans: []Span{S(Safe(e.Detail, 1000), tone)}})
	}
	if e.Redirect != "" {
		out = append(out, Line{Indent: 1, Spans: []Span{S("redirect → "+Clip(textsafe.URL(e.Redirect), 200)+" (not followed)", Dim)}})
	}
	return out
}

// FoldSteps turns a run's events into one event per step, in order: a
// step's end replaces its start. With finished, a step that started and
// never ended (the run was cancelled in the middle of it) reads as
// skipped, "interrupted".
func FoldSteps(events []login.Event, finished bool) []login.Event {
	var out []login.Event
	for _, e := range events {
		if e.Phase == login.PhaseEnd {
			if i := runningStep(out, e.Step); i >= 0 {
				out[i] = e
				continue
			}
		}
		out = append(out, e)
	}
	if finished {
		for i := range out {
			if out[i].Status == login.StatusRunning || out[i].Phase == login.PhaseStart {
				out[i].Status, out[i].Detail, out[i].Phase = login.StatusSkip, "interrupted", login.PhaseEnd
			}
		}
	}
	return out
}

func runningStep(steps []login.Event, step string) int {
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i].Step == step && steps[i].Phase == login.PhaseStart {
			return i
		}
	}
	return -1
}

// StepsLines lays out a sequence of steps with one title column, the
// longest title's (within 20 to 56 cells), so that every row lines up.
func StepsLines(steps []login.Event) []Line {
	col := 20
	for _, e := range steps {
		col = max(col, ansi.StringWidth(Clip(e.Title, 60)))
	}
	col = min(col, 56)
	var out []Line
	for _, e := range steps {
		out = append(out, stepLines(e, col)...)
	}
	return out
}

// Login is a finished login flow (or replay) as a block: every step, and
// a cancel when the run stopped before its end. The verdict is not part
// of it: it is the whole run's (Verdict).
func Login(res *login.Result) Block {
	b := Block{Title: "Login flow"}
	if res == nil {
		b.Lines = []Line{L("", S("not run", Dim))}
		return b
	}
	steps := FoldSteps(res.Events, true)
	b.Meta = StepCounts(steps)
	b.Lines = StepsLines(steps)
	if res.Cancelled {
		b.Lines = append(b.Lines, L("", S("- cancelled: the run stopped before its end", Warn)))
	}
	if len(b.Lines) == 0 {
		b.Lines = []Line{L("", S("no step ran", Dim))}
	}
	return b
}

// StepCounts says how the steps ended, by mark: "6 ✓ 1 ! 2 ✗ 1 -".
func StepCounts(steps []login.Event) string {
	order := []string{login.StatusOK, login.StatusWarn, login.StatusFail, login.StatusSkip}
	n := map[string]int{}
	for _, e := range steps {
		if e.Status == login.StatusRunning {
			continue
		}
		s := e.Status
		if !detailBelow(s) && s != login.StatusOK {
			s = login.StatusSkip
		}
		n[s]++
	}
	var parts []string
	for _, s := range order {
		if n[s] > 0 {
			mark, _ := StepMark(s)
			parts = append(parts, fmt.Sprintf("%d %s", n[s], mark))
		}
	}
	return strings.Join(parts, " ")
}
