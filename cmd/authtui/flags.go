package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// common holds the flags every command shares.
type common struct {
	envFiles listFlag
	json     bool
	noColor  bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.envFiles, "env-file", "env file to read as a source, labelled by this path (repeatable; default: .env and .env.local)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of text")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour in text output (also: NO_COLOR)")
}

// loadSources reads the env sources the flags name.
func (c *common) loadSources(a *app) ([]probe.Source, finding.List) {
	return probe.LoadSources(probe.SourceOptions{EnvFiles: c.envFiles, Dir: a.dir, Environ: a.environ})
}

func (c *common) colors(a *app) bool {
	return !c.noColor && !c.json && a.stdoutIsTTY && a.getenv("NO_COLOR") == ""
}

// newFlagSet builds a FlagSet whose --help prints to stdout and exits 0,
// and whose errors become usage errors (exit 2).
func newFlagSet(a *app, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := a.stdout
		fmt.Fprintf(w, "Usage: authtui %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(about))
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

var errHelp = errors.New("help shown")

// parseInterleaved parses flags that may come before or after positional
// arguments, as users of git and kubectl expect.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return nil, errHelp
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
