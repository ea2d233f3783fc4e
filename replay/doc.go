// Package replay reads saved captures — classic pcap (micro- or nanosecond,
// either byte order), pcapng (several sections and interfaces, each with its
// own link type and timestamp resolution), optionally gzip-compressed, from a
// file or a pipe — and hands them out as frames.
//
// The readers are written here rather than taken from gopacket's pcapgo so
// that a corrupt or hostile file cannot make them allocate gigabytes or
// panic: every length is checked against the limits libpcap itself uses, and
// errors name the frame and byte offset where the file went wrong.
//
// It does not decode frames (package decode does) and does not print.
package replay
