package sock

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// On Windows the reference peers are not available: they make each socket
// call through the Unix system-call interface, one at a time, to show it
// (Winsock's calls are others). The API is here so that the packages that
// use it build; every call fails with ErrNoPeers.

// ErrNoPeers is every call's error on Windows.
var ErrNoPeers = errors.New("the reference peers need Linux or macOS (they make Unix socket calls one by one)")

// Socket is a socket the reference peers would use.
type Socket struct{}

func (c Caller) Socket(f Family) (*Socket, error) { return nil, ErrNoPeers }
func (c Caller) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	return nil, ErrNoPeers
}
func (c Caller) DialTCP(ctx context.Context, host string, port uint16) (*Socket, error) {
	return nil, ErrNoPeers
}
func (c Caller) DialTCPWith(ctx context.Context, host string, port uint16, prepare func(*Socket) error) (*Socket, error) {
	return nil, ErrNoPeers
}
func (c Caller) ListenTCP(addr netip.AddrPort, cfg ListenConfig) (*Socket, netip.AddrPort, error) {
	return nil, netip.AddrPort{}, ErrNoPeers
}

func (s *Socket) FD() int                                  { return -1 }
func (s *Socket) Family() Family                           { return 0 }
func (s *Socket) Peer() netip.AddrPort                     { return netip.AddrPort{} }
func (s *Socket) SetTimeout(d time.Duration)               {}
func (s *Socket) Bind(ap netip.AddrPort) error             { return ErrNoPeers }
func (s *Socket) Listen(backlog int) error                 { return ErrNoPeers }
func (s *Socket) Accept() (*Socket, netip.AddrPort, error) { return nil, netip.AddrPort{}, ErrNoPeers }
func (s *Socket) Connect(ap netip.AddrPort) error          { return ErrNoPeers }
func (s *Socket) Getsockname() (netip.AddrPort, error)     { return netip.AddrPort{}, ErrNoPeers }
func (s *Socket) Getpeername() (netip.AddrPort, error)     { return netip.AddrPort{}, ErrNoPeers }
func (s *Socket) Read(p []byte) (int, error)               { return 0, ErrNoPeers }
func (s *Socket) Write(p []byte) (int, error)              { return 0, ErrNoPeers }
func (s *Socket) Shutdown(how How) error                   { return ErrNoPeers }
func (s *Socket) Close() error                             { return ErrNoPeers }
func (s *Socket) SetReuseAddr(on bool) error               { return ErrNoPeers }
func (s *Socket) SetRcvBuf(n int) error                    { return ErrNoPeers }
func (s *Socket) SetSndBuf(n int) error                    { return ErrNoPeers }
func (s *Socket) SetNoDelay(on bool) error                 { return ErrNoPeers }
func (s *Socket) SetLingerReset() error                    { return ErrNoPeers }
func (s *Socket) RcvBuf() (int, error)                     { return 0, ErrNoPeers }
func (s *Socket) SetMaxSeg(n int) error                    { return ErrNoPeers }
