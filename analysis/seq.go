package analysis

// TCP sequence numbers live on a 32-bit circle (RFC 9293 §3.4, "serial number
// arithmetic" of RFC 1982): after 4294967295 comes 0. A plain "a < b" is wrong
// near the wrap, so "a is before b" is decided by the sign of the 32-bit
// difference. These are Wireshark's GT_SEQ/LT_SEQ/GE_SEQ/LE_SEQ macros from
// epan/dissectors/packet-tcp.h, written as functions. Where Wireshark uses a
// plain == or an unsigned >= instead, the analyzer does the same on purpose.

// seqLT reports whether a comes before b (LT_SEQ).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// seqLE reports whether a comes before b or equals it (LE_SEQ).
func seqLE(a, b uint32) bool { return int32(a-b) <= 0 }

// seqGT reports whether a comes after b (GT_SEQ).
func seqGT(a, b uint32) bool { return int32(b-a) < 0 }

// seqGE reports whether a comes after b or equals it (GE_SEQ).
func seqGE(a, b uint32) bool { return int32(b-a) <= 0 }
