package follow

import "slices"

// appendPrintable appends printable(b) to dst, growing it once, sixteen
// bytes at a time with SSE2 (printableBlocks), which every amd64 CPU has.
// Why assembly: follow turns a whole stream into text, and the eight-byte
// version (appendPrintableSWAR, the one other architectures use) spends
// about three instructions a byte on it: on bench/bulk.pcap's 414 MB
// stream it was a fifth of follow's CPU, most of what follow does beyond
// the analysis every command does. A block holding a CR, which is dropped
// only before a LF, and the last bytes go through the word and byte
// versions. TestAppendPrintableWords and FuzzAppendPrintable hold both
// versions to the plain rule.
func appendPrintable(dst, b []byte) []byte {
	dst = slices.Grow(dst, len(b))
	j := len(dst)
	dst = dst[:j+len(b)]
	i := 0
	for {
		k := printableBlocks(dst[j:], b[i:])
		i, j = i+k, j+k
		if len(b)-i < 16 {
			break
		}
		j = appendWords(dst, j, b, i, i+16) // a block with a CR
		i += 16
	}
	end := i + (len(b)-i)&^7
	j = appendWords(dst, j, b, i, end)
	j = len(appendPrintableBytes(dst[:j], b[end:], nil))
	return dst[:j]
}

// printableBlocks writes printable's text of src's 16-byte blocks to dst,
// one for one, and returns how many bytes it did (a multiple of 16): it
// stops before the first block that holds a CR and when fewer than 16
// bytes are left. dst has room for src. In printable_amd64.s.
//
//go:noescape
func printableBlocks(dst, src []byte) int
