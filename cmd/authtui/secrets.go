package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/authtui/authtui/internal/probe"
	"github.com/authtui/authtui/internal/probe/textsafe"
)

func runSecrets(a *app, args []string) (int, error) {
	var c common
	fs := newFlagSet(a, "secrets", "secrets [--env-file PATH]... [--json]", `
Resolve BETTER_AUTH_SECRETS / BETTER_AUTH_SECRET / AUTH_SECRET in every env
source the way BetterAuth does, and compare the results by fingerprint (a
short HMAC keyed by the secret; the secret itself is never printed).

Example:
  authtui secrets --env-file auth-service/.env --env-file api/.env`)
	c.register(fs)
	if code, err := parseNoArgs(fs, args); err != nil || code >= 0 {
		return max(code, 0), err
	}
	sources, loadFindings := c.loadSources(a)
	rep := probe.CheckSecrets(sources)
	rep.Findings = append(loadFindings, rep.Findings...)
	if c.json {
		return exitFor(rep.Findings), writeJSON(a.stdout, rep)
	}
	writeSecretsText(a.stdout, newStyle(c.colors(a)), rep, true)
	return exitFor(rep.Findings), nil
}

func writeSecretsText(w io.Writer, st style, rep probe.SecretsReport, withFindings bool) {
	if len(rep.Sources) == 0 {
		fmt.Fprintf(w, "No env sources: no --env-file given, no .env or .env.local here, and no BetterAuth variable in the environment.\n\n")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "%sSOURCE\tVARIABLE\tLENGTH\tENTROPY\tFINGERPRINT\tBASE URL%s\n", st.bold, st.reset)
		for _, s := range rep.Sources {
			if !s.Loaded {
				fmt.Fprintf(tw, "%s\t%s(unreadable: %s)%s\t\t\t\t\n", textsafe.Safe(s.Label), st.red, textsafe.Safe(s.Error), st.reset)
				continue
			}
			variable := s.Variable
			if s.Default {
				variable = st.red + "none → builtin-default" + st.reset
			}
			length, entropy := "-", "-"
			if s.Present {
				length = fmt.Sprint(s.Length)
				entropy = fmt.Sprintf("%.0f bits", s.EntropyBits)
			}
			// BETTER_AUTH_URL may carry userinfo or a query: shown as a
			// location only, as every URL is.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", textsafe.Safe(s.Label), variable, length, entropy, s.Fingerprint, textsafe.Truncate(textsafe.URL(s.BaseURL), 40))
			for _, v := range s.Versions {
				cur := ""
				if v.Current {
					cur = " (current)"
				}
				fmt.Fprintf(tw, "%s  └ version %s%s\t\t%d\t\t%s\t\n", st.dim, textsafe.Clean(v.Version), cur, v.Length, v.Fingerprint+st.reset)
			}
			for _, v := range s.Variables {
				if v.Used || v.Name == "BETTER_AUTH_SECRETS" {
					continue
				}
				fmt.Fprintf(tw, "%s  └ also %s (not used)\t\t%d\t\t%s\t%s\n", st.dim, v.Name, v.Length, v.Fingerprint, st.reset)
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
		groups := map[string][]string{}
		for _, s := range rep.Sources {
			if s.Present {
				groups[s.Fingerprint] = append(groups[s.Fingerprint], s.Label)
			}
		}
		if len(groups) == 1 {
			for fp, labels := range groups {
				if len(labels) > 1 {
					fmt.Fprintf(w, "%sAll %d sources with a secret agree (fingerprint %s).%s\n\n", st.green, len(labels), fp, st.reset)
				}
			}
		} else if len(groups) > 1 {
			fmt.Fprintf(w, "%s%d different secrets:%s %s\n\n", st.red, len(groups), st.reset, describeGroups(groups))
		}
	}
	if withFindings {
		writeFindings(w, st, rep.Findings)
	}
}

func describeGroups(groups map[string][]string) string {
	var parts []string
	for fp, labels := range groups {
		parts = append(parts, fmt.Sprintf("%s = %s", fp, textsafe.Safe(strings.Join(labels, ", "))))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
