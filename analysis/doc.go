// Package analysis reproduces Wireshark's TCP sequence analysis
// (tcp.analysis.*, as tshark 4.0.17 computes it on its first pass) as a pure
// state machine, and explains each segment in plain words.
//
// Feed it segments in capture order with Analyzer.Add; each call returns a
// Result with the stream number, relative seq/ack, scaled window, the
// analysis flags (retransmission, duplicate ACK, zero window, …), the ACKed
// frame and RTT, bytes in flight, a Wireshark expert severity and a note
// such as "handshake 1/3: client asks to connect (ISN …)". Summaries gives a
// per-connection table at any time.
//
// What it does:
//   - follows connections by address/port pair, numbering them like
//     tcp.stream, and starts a new one when a SYN reuses the ports with a
//     new ISN (tcp.analysis.reused_ports);
//   - applies Wireshark's checks in Wireshark's order with Wireshark's
//     thresholds (20 ms for fast retransmission, the handshake RTT or 3 ms
//     for out-of-order, window scaling from the SYNs clamped to 14);
//   - with Options.Focus, analyses one stream only and just numbers the
//     others (what follow, graph and ladder need), with the same numbers
//     and the same results for that stream;
//   - bounds memory: at most Options.MaxUnacked (10 000, Wireshark's limit)
//     unacknowledged segments per direction, and segment lists of finished
//     connections are freed; DroppedSegments and Result.StateDropped say
//     when this happened.
//
// What it does not do:
//   - no I/O, no clock, no goroutines, no package-level state: it never
//     reads a capture or the time of day; the caller decodes frames into
//     Segment values (see package decode) and owns the timestamps;
//   - no reassembly of payloads and no application protocols;
//   - no IP defragmentation: pass the reassembled segment, or nothing;
//   - not Wireshark's later passes or preferences: the defaults are fixed
//     (relative sequence numbers, bytes in flight by payload, fast
//     retransmission checked before out-of-order, no MPTCP, no SACK-based
//     fast retransmission, no D-SACK);
//   - not safe for concurrent use; one Analyzer per capture.
//
// Deliberate differences from tshark 4.0.17:
//   - Result.Ack is 0 when the ACK flag is clear, as packet-json.md says;
//     tshark shows the raw header value there (it only makes the field
//     relative when ACK is set). Students reading "ack 2911450023" on a SYN
//     would be misled; the raw value stays available to the caller.
//
// Where Wireshark 4.0 differs from the newer rules written up in the
// project's notes, this package follows 4.0 (it is what tshark here runs)
// and says so in a comment at that spot.
package analysis
