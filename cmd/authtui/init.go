package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/authtui/authtui/internal/probe/project"
)

func runInit(a *app, args []string) (int, error) {
	var yes, force bool
	fs := newFlagSet(a, "init", "init [--yes] [--force]", `
Discover the services under the working directory (auth services that
depend on better-auth, other backends, their env files per environment)
and write what was found to authtui.toml, with comments, for you to
correct and complete: the API endpoint to test, the front end's origin,
the environment to use. Every command then reads it, so that
'authtui check --email … --password-env …' needs no other flag.

The file is shown first and written only when you say yes (--yes for
scripts). An existing authtui.toml is never overwritten without --force.`)
	fs.BoolVar(&yes, "yes", false, "write without asking")
	fs.BoolVar(&force, "force", false, "overwrite an existing authtui.toml")
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	dir := a.dir
	if dir == "" {
		dir = "."
	}
	target := filepath.Join(dir, project.FileName)
	if found, ok := project.Find(dir); ok {
		abs, _ := filepath.Abs(target)
		switch {
		case found != abs:
			// A second file below the first would split one project in two.
			return exitUsage, usagef("this is inside the project of %s; run 'authtui init' there", found)
		case !force:
			return exitUsage, usagef("%s exists; --force overwrites it", project.FileName)
		}
	}
	// Discovery alone: an existing file (being replaced) must not shape
	// what replaces it.
	plan, err := project.Build(project.Options{Dir: dir, NoFile: true})
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	if plan.Empty() {
		return exitUsage, usagef("nothing found to write: no service with env files under %s (looked for package.json, pyproject.toml, requirements.txt, go.mod, wrangler.toml with .env files)", dirLabel(a))
	}
	text := project.Render(plan)
	fmt.Fprintf(a.stdout, "%s\n", text)
	if !yes {
		if a.stdinIsTTY {
			fmt.Fprintf(a.stdout, "Write %s? [y/N] ", target)
			line, _ := bufio.NewReader(a.stdin).ReadString('\n')
			if !strings.EqualFold(strings.TrimSpace(line), "y") && !strings.EqualFold(strings.TrimSpace(line), "yes") {
				fmt.Fprintln(a.stdout, "Not written.")
				return exitOK, nil
			}
		} else {
			return exitUsage, usagef("not written: stdin is not a terminal to ask; pass --yes to write %s", project.FileName)
		}
	}
	if err := os.WriteFile(target, text, 0o644); err != nil {
		return exitFound, fmt.Errorf("writing %s: %v", target, errNoPath(err))
	}
	fmt.Fprintf(a.stdout, "Wrote %s.\n", target)
	return exitOK, nil
}
