// Package decode turns captured frame bytes into header views: Ethernet
// (with 802.1Q/802.1ad tags), Linux cooked capture v1/v2, BSD NULL/LOOP and
// raw IP link layers; IPv4 with options; IPv6 with extension headers; TCP
// with every option.
//
// Views (IPv4, IPv6, TCP) are byte slices over the frame, validated once by
// their Parse function, with one accessor per field whose doc comment gives
// offset, width and byte order. Every multi-byte field goes through ntohs or
// ntohl in byteorder.go, the one place where network order becomes host
// order. Decoding a frame allocates nothing.
//
// It does not reassemble IP fragments (package defrag does), does not track
// connections (package analysis does), and never prints.
package decode
