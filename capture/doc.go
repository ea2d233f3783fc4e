// Package capture reads live traffic from a network interface with libpcap
// (through gopacket/pcap) and hands it out as frames, and writes frames to
// pcap or pcapng files.
//
// Loopback needs care: Linux "lo" carries Ethernet frames with zero MACs and
// GSO segments up to 64 KiB (so the snaplen defaults to 262144), macOS "lo0"
// uses the NULL link type; and without immediate mode libpcap may hold
// loopback packets in its buffer until it fills, so immediate mode is on.
//
// It does not decode or analyze frames.
package capture
