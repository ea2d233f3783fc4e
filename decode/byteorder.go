package decode

// Network byte order is big-endian: the most significant byte comes first on
// the wire (RFC 1700, "Data Notations"). Every multi-byte header field in
// this package is read through one of these two functions, so a reader can
// see exactly where wire bytes become host integers.
//
// They are written out byte by byte instead of calling encoding/binary so the
// conversion is visible: b[0] is shifted into the high bits whatever the CPU's
// own byte order is, which is what C's ntohs/ntohl do on a little-endian host
// (swap) and on a big-endian host (no-op).

// ntohs converts the 2 bytes at b[0:2] from network to host order.
func ntohs(b []byte) uint16 {
	_ = b[1] // bounds check hint to the compiler
	return uint16(b[0])<<8 | uint16(b[1])
}

// ntohl converts the 4 bytes at b[0:4] from network to host order.
func ntohl(b []byte) uint32 {
	_ = b[3] // bounds check hint to the compiler
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Ntohs is ntohs for callers outside the package (the decode explainer and
// tests); it converts b[0:2] from network to host order.
func Ntohs(b []byte) uint16 { return ntohs(b) }

// Ntohl is ntohl for callers outside the package; it converts b[0:4] from
// network to host order.
func Ntohl(b []byte) uint32 { return ntohl(b) }
