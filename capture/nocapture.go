//go:build !cgo && !linux && !darwin

package capture

import (
	"errors"
	"runtime"

	"github.com/tcpscope/tcpscope/frame"
)

// errNoCapture: a build without cgo has no libpcap to capture with, and
// only Linux has a capture path of its own (AF_PACKET). Reading, decoding
// and analysing saved captures works everywhere.
var errNoCapture = errors.New("this build of tcpscope cannot capture live traffic on " + runtime.GOOS +
	" (it was built without cgo, so without libpcap): capture with tcpdump or Wireshark and use tcpscope replay on the file, or build tcpscope with CGO_ENABLED=1 where libpcap is installed")

// Handle is never opened in this build.
type Handle struct{}

// Open always fails here, with one line saying what to do instead.
func Open(Options) (*Handle, error) { return nil, errNoCapture }

func (c *Handle) Interface() string          { return "" }
func (c *Handle) LinkType() frame.LinkType   { return 0 }
func (c *Handle) Stop()                      {}
func (c *Handle) Next() (frame.Frame, error) { return frame.Frame{}, errNoCapture }
func (c *Handle) Stats() (Stats, error)      { return Stats{}, errNoCapture }
func (c *Handle) Close()                     {}

// Interfaces fails as Open does.
func Interfaces() ([]string, error) { return nil, errNoCapture }
