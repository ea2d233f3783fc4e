// Package explain takes one decoded TCP packet apart field by field, for
// teaching network byte order and the IPv4, IPv6 and TCP headers. For every
// header field it gives where the field sits in the frame (byte offset and
// width), its raw bytes in network order, the host-order value together
// with the conversion that produced it ("ntohs(1f 90) = 8080"), what a
// program that forgot the conversion would read on this host, and what the
// value means (flag bits spelled out, lengths ×4, option by option).
//
// It also draws the RFC-style header diagrams filled with the packet's
// values and dumps the payload as hex and ASCII.
//
// The work is split in two so that every output agrees: Build turns a
// packet into an Explanation (plain data), and WriteText and WriteJSON
// render that one value. Write is the one-call form other commands use
// (tcpscope decode, and later replay --explain).
//
// The package is a library: it never exits, keeps no global state and
// writes only to the io.Writer it is given.
package explain
