package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// Shell completion: urfave/cli answers "tcpscope … --generate-bash-completion"
// with the commands or flags that may come next; these scripts ask it. They
// are registered for the name tcpscope whatever the binary's file name, and
// fall back to file names where tcpscope has nothing to offer (a capture
// file is the usual argument).

const bashCompletion = `# bash completion for tcpscope (tcpscope completion bash)
_tcpscope_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" opts
  local words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  if [[ "$cur" == -* ]]; then
    opts=$("${words[@]}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    opts=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "${opts}" -- "$cur"))
}
complete -o bashdefault -o default -F _tcpscope_complete tcpscope
`

const zshCompletion = `#compdef tcpscope
# zsh completion for tcpscope (tcpscope completion zsh)
_tcpscope() {
  local -a opts
  local cur=${words[-1]}
  if [[ "$cur" == -* ]]; then
    opts=("${(@f)$(${words[@]:0:#words[@]-1} ${cur} --generate-bash-completion 2>/dev/null)}")
  else
    opts=("${(@f)$(${words[@]:0:#words[@]-1} --generate-bash-completion 2>/dev/null)}")
  fi
  if [[ "${opts[1]}" != "" ]]; then
    _describe 'values' opts
  else
    _files
  fi
}
compdef _tcpscope tcpscope
`

func completionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Prints a script that completes tcpscope's commands and flags (and file
names) in your shell. make install puts them where the shells look.

Examples:
   source <(tcpscope completion bash)                        # this shell only
   tcpscope completion bash > /etc/bash_completion.d/tcpscope
   tcpscope completion zsh > "${fpath[1]}/_tcpscope"
   tcpscope completion fish > ~/.config/fish/completions/tcpscope.fish`,
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(e.stdout, bashCompletion)
			case "zsh":
				fmt.Fprint(e.stdout, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return runtimeError(err)
				}
				fmt.Fprint(e.stdout, s)
			default:
				return usageError("completion needs a shell: bash, zsh or fish (see 'tcpscope completion --help')")
			}
			return nil
		},
	}
}

// manPage renders the man page from the command definitions (urfave/cli's
// ToMan), so it cannot drift from --help: a test compares it with the
// checked-in docs/tcpscope.1.
func manPage(app *cli.App) (string, error) {
	s, err := app.ToManWithSection(1)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s, "\n") + "\n", nil
}

func manCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the manual page (troff); make install installs it as tcpscope(1)",
		Hidden: true,
		Action: func(c *cli.Context) error {
			s, err := manPage(c.App)
			if err != nil {
				return runtimeError(err)
			}
			fmt.Fprint(e.stdout, s)
			return nil
		},
	}
}
