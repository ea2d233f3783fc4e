// Package echo is the classic first TCP program of a networking lecture,
// written on the traced sockets of package sock so that every call shows up
// beside the packets it causes: an iterative echo server and its client.
//
// The server (Listen, then Serve) accepts one client at a time and, for each,
// reads whatever has arrived and writes it back, until the client's FIN makes
// read return 0 (EOF); then it closes that connection and accepts the next.
// The client (RunClient) connects, sends lines and reads until it has as many
// bytes back as it sent — TCP is a byte stream, so a reply may come in
// several reads — prints them and closes.
//
// Options exist to stage what a lecture wants to show on the wire:
//   - ServerConfig.SlowReader with a small ServerConfig.RcvBuf and a large
//     ClientConfig.Bulk: the receiver's window fills, the server advertises a
//     zero window, the client's kernel sends window probes, and a window
//     update follows when the server finally reads.
//   - ServerConfig.Reset / ClientConfig.Reset: end with SO_LINGER {1, 0}, an
//     abortive close that sends RST; the peer's next read fails with
//     ECONNRESET.
//   - IPv6: give an address such as [::1]:0.
//
// Limits: each read takes at most ServerConfig.BufSize bytes, so no line
// length needs bounding; a client idle for ServerConfig.IdleTimeout (30 s by
// default) or connected for ServerConfig.MaxSession (5 min) is closed, so one
// client cannot keep the iterative server from the others for ever.
//
// What it does NOT do: serve several clients at once (a second client waits
// in the listen backlog until the first is done — which is itself worth
// showing), frame messages (a "line" is just bytes; the server never looks
// for newlines), or retry anything.
package echo
