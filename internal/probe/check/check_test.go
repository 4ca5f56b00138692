package check

import (
	"testing"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/finding"
	"github.com/authtui/authtui/internal/probe/login"
)

// One root cause is one finding: the cookie and the bearer token failing
// the same way are one finding with two pieces of evidence.
func TestMergeOneCauseOneFinding(t *testing.T) {
	var fs finding.List
	fs.Add(finding.APIRejectsSession, login.StepAPICookie, "the API answered 401 for the cookie")
	fs.Add(finding.APIRejectsSession, login.StepAPIBearer, "the API answered 401 for the bearer token")
	fs.Add(finding.CookieSignerDiffers, "better-auth.session_token", "signed with a")
	fs.Add(finding.CookieSignerDiffers, "set-auth-token header", "signed with a")
	fs.Add(finding.SecretWhitespace, "a.env", "a has a newline")
	fs.Add(finding.SecretWhitespace, "b.env", "b has a newline") // another source: another cause
	fs.Add(finding.SessionValid, login.StepDatabase, "valid")
	fs.Add(finding.SessionValid, login.StepDatabase, "valid") // a plain repeat

	got := Merge(fs)
	want := []struct {
		id       finding.ID
		evidence int
	}{
		{finding.APIRejectsSession, 2}, {finding.CookieSignerDiffers, 2},
		{finding.SecretWhitespace, 0}, {finding.SecretWhitespace, 0}, {finding.SessionValid, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("merged into %d findings, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].ID != w.id || len(got[i].Evidence) != w.evidence {
			t.Errorf("finding %d: %s with %d evidence, want %s with %d", i, got[i].ID, len(got[i].Evidence), w.id, w.evidence)
		}
	}
	if e, _, _ := got.Count(); e != 4 {
		t.Errorf("%d errors after merging, want 4", e)
	}
}

// With nothing run and nothing wrong the verdict is healthy and says what
// would test more; an error finding that no rule names still makes the
// run unhealthy.
func TestDecideWithoutLogin(t *testing.T) {
	rep := Decide(probe.Config{}, probe.SecretsReport{}, nil, nil, nil)
	if !rep.Healthy || rep.Verdict.ID != "" || rep.Verdict.Message == "" {
		t.Errorf("empty run: %+v", rep.Verdict)
	}
	var fs finding.List
	fs.Add(finding.CookieDuplicate, "x", "a warning only")
	rep = Decide(probe.Config{}, probe.SecretsReport{Findings: fs}, nil, nil, nil)
	if !rep.Healthy {
		t.Errorf("a warning made the run unhealthy: %+v", rep.Verdict)
	}
	fs = nil
	fs.Add(finding.CookieTooLarge, "x", "warn")
	fs.Add(finding.DBNoTLS, "db", "warn")
	fs.Add(finding.SessionUserMissing, "db", "an error no config rule lists first")
	rep = Decide(probe.Config{}, probe.SecretsReport{Findings: fs}, nil, nil, nil)
	if rep.Healthy || rep.Verdict.ID != finding.SessionUserMissing {
		t.Errorf("an error finding: healthy %v, verdict %+v", rep.Healthy, rep.Verdict)
	}
}

// A failed step without an error finding is not healthy either.
func TestDecideFailedStepIsNotHealthy(t *testing.T) {
	res := &login.Result{Events: []login.Event{{Step: login.StepOK, Phase: "end", Status: login.StatusFail}}}
	rep := Decide(probe.Config{}, probe.SecretsReport{}, nil, res, nil)
	if rep.Healthy || rep.Verdict.Healthy {
		t.Errorf("a failed step: %+v", rep.Verdict)
	}
}
