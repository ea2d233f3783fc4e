package render

import "github.com/fatih/color"

// Theme colours text. Whether colour is on is decided once, by the command
// (terminal or not, --color, NO_COLOR), and never by this package: it does
// not touch fatih/color's global NoColor.
type Theme struct {
	Enabled bool
	addr    *color.Color
	flags   *color.Color
	dim     *color.Color
	chat    *color.Color
	note    *color.Color
	warn    *color.Color
	err     *color.Color
	bold    *color.Color
	client  *color.Color
	server  *color.Color
}

// NewTheme returns a theme with colour on or off.
func NewTheme(enabled bool) Theme {
	t := Theme{
		Enabled: enabled,
		addr:    color.New(color.FgCyan),
		flags:   color.New(color.FgMagenta, color.Bold),
		dim:     color.New(color.Faint),
		chat:    color.New(color.FgGreen),
		note:    color.New(color.FgYellow),
		warn:    color.New(color.FgRed),
		err:     color.New(color.FgRed, color.Bold),
		bold:    color.New(color.Bold),
		client:  color.New(color.FgBlue),
		server:  color.New(color.FgGreen),
	}
	for _, c := range []*color.Color{t.addr, t.flags, t.dim, t.chat, t.note, t.warn, t.err, t.bold, t.client, t.server} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return t
}

func (t Theme) paint(c *color.Color, s string) string {
	if !t.Enabled || c == nil {
		return s
	}
	return c.Sprint(s)
}

// Addr, Flags, Dim, Bold, Warn, Error, Client and Server colour a string
// for its role; with colour off they return it unchanged.
func (t Theme) Addr(s string) string   { return t.paint(t.addr, s) }
func (t Theme) Flags(s string) string  { return t.paint(t.flags, s) }
func (t Theme) Dim(s string) string    { return t.paint(t.dim, s) }
func (t Theme) Bold(s string) string   { return t.paint(t.bold, s) }
func (t Theme) Warn(s string) string   { return t.paint(t.warn, s) }
func (t Theme) Error(s string) string  { return t.paint(t.err, s) }
func (t Theme) Client(s string) string { return t.paint(t.client, s) }
func (t Theme) Server(s string) string { return t.paint(t.server, s) }
func (t Theme) Chat(s string) string   { return t.paint(t.chat, s) }
func (t Theme) Note(s string) string   { return t.paint(t.note, s) }
