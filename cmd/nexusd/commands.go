package main

import (
	"sort"

	"github.com/urfave/cli/v2"
)

// extraCommands are top-level commands that other files of this program
// add from init, so each area (users, clients, keys, audit, billing)
// keeps its command in its own file.
var extraCommands []func() *cli.Command

// keySubcommands are the subcommands of `nexusd keys`, added from init by
// the files that own each kind of key (token signing keys, data keys).
var keySubcommands []func() *cli.Command

func registerCommand(f func() *cli.Command) { extraCommands = append(extraCommands, f) }

func registerKeySubcommand(f func() *cli.Command) { keySubcommands = append(keySubcommands, f) }

// registeredCommands builds the added commands, with `keys` when any key
// subcommand exists, sorted by name for a stable help listing.
func registeredCommands() []*cli.Command {
	var out []*cli.Command
	for _, f := range extraCommands {
		out = append(out, f())
	}
	if len(keySubcommands) > 0 {
		keys := &cli.Command{Name: "keys", Usage: "rotate, rewrap and retire signing and encryption keys"}
		for _, f := range keySubcommands {
			keys.Subcommands = append(keys.Subcommands, f())
		}
		sort.Slice(keys.Subcommands, func(i, j int) bool { return keys.Subcommands[i].Name < keys.Subcommands[j].Name })
		out = append(out, keys)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
