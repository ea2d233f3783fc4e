// Package pipebuf enlarges the kernel's buffer of a pipe that tcpscope
// writes its output into ("tcpscope replay big.pcap | less").
//
// Why: Linux gives a pipe 64 KiB. tcpscope writes its lines 64 KiB at a
// time, so with the default buffer each write fills the pipe, and the
// writer sleeps until the reader has drained it and wakes it again: every
// write is a round trip between the two processes. With 1 MiB the writer
// runs ahead by sixteen writes. Measured (medians of 9 alternating runs,
// into cat): replay of bench/big.pcap 3 % less wall time, replay --json of
// bench/bulk.pcap 5 %. Nothing changes for a reader but when it is woken:
// what is written is there to read at once, as before. Only a pipe with
// Linux's default buffer is grown: one sized on purpose is left alone.
package pipebuf

// Size is the buffer asked for: Linux's default /proc/sys/fs/pipe-max-size,
// the most an unprivileged process may ask.
const Size = 1 << 20
