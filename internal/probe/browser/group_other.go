//go:build !linux

package browser

import "os/exec"

// processGroup elsewhere: chromedp's own teardown only.
type processGroup struct{}

func (g *processGroup) setup(cmd *exec.Cmd) {}
func (g *processGroup) kill(profile string) {}
func running(dir string) int                { return 0 }
