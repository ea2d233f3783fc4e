// Package sock is a thin, explicit layer over the Berkeley sockets API, made
// for teaching: every call a program makes (socket, setsockopt, bind, listen,
// accept, connect, getsockname, getpeername, read, write, shutdown, close, and
// the getaddrinfo step) is one Go method, made with golang.org/x/sys/unix on a
// plain file descriptor, and reported to an injected Tracer as an Event that
// renders as strace prints the call, the notation of a lecture's slides:
//
//	client socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5
//	client connect(5, {sa_family=AF_INET, sin_port=htons(7000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
//	server accept(3, {sa_family=AF_INET, sin_port=htons(51234), sin_addr=inet_addr("127.0.0.1")}, [16]) = 6
//	client write(5, "hello, world", 12) = 12
//	server read(6, "hello, world", 4096) = 12
//	server close(6) = 0
//
// An Event keeps the call's arguments as values (a sockaddr as a
// netip.AddrPort, the bytes of a read or write), so that a tracer watching
// another program can fill in the same struct.
//
// It exists so that tcpscope can show each socket call beside the packets it
// caused; the net package hides exactly the calls we want students to see.
//
// What it does:
//   - Caller names who makes the calls ("client", "server") and where the
//     trace goes; Caller.Resolve, Caller.Socket, Caller.DialTCP and
//     Caller.ListenTCP start things, *Socket methods do the rest.
//   - Socket.Write is a write-all loop: it repeats the write(2) call after a
//     short write and reports every call, so students see short writes.
//   - DescribeSockaddr spells out the byte order of a sockaddr's port and
//     address (htons/htonl) for the CPU it runs on; Event.Details gives
//     those lines for an event with a sockaddr, for a verbose rendering.
//   - Errors are *Error values that name the call and the address in one
//     line ("connect 127.0.0.1:7000: connection refused") and unwrap to the
//     errno, so errors.Is(err, unix.ECONNRESET) works.
//
// What it does NOT do, on purpose:
//   - No non-blocking I/O model, no epoll/kqueue event loop, no goroutine
//     scheduling tricks: descriptors stay in blocking mode as in lecture code.
//     To make blocking calls stoppable (Ctrl-C must end a server) each one
//     first waits in poll(2) in slices of 100 ms and gives up when Close is
//     called from another goroutine or the socket's timeout passes. Those
//     poll calls are housekeeping and are not traced.
//   - Also untraced housekeeping: FD_CLOEXEC on every descriptor, a 100 ms
//     SO_SNDTIMEO (so a write stuck on a full send buffer comes back with a
//     real short count and can be cancelled), and the moment in Connect where
//     the socket is non-blocking so that a connect can time out.
//   - No UDP, no Unix-domain sockets, no TLS, no socket options beyond the
//     few the demos need (SO_REUSEADDR, SO_RCVBUF, SO_SNDBUF, SO_LINGER,
//     TCP_NODELAY).
//   - Only Linux and macOS (anything golang.org/x/sys/unix covers with poll).
package sock
