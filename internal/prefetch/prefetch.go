// Package prefetch asks the CPU to bring memory into its caches before it
// is read, for a reader whose next bytes the hardware cannot guess.
//
// Why by hand: Go has no prefetch in its language or standard library (the
// runtime's is internal), and replay's reader is the one place that needs
// it. Reading every byte of a capture through its memory map (replay
// --json, -v: the exact TCP checksum verdicts), one core is held up by each
// page of the page cache: the pages of a file are scattered in physical
// memory, so the hardware prefetcher, which follows a run of lines within a
// page, starts again at each one. Asking for the lines a few pages ahead
// while summing the current ones took a walk over every byte of
// bench/bulk.pcap from 0.32 to 0.29 s of CPU (with MAP_POPULATE; 0.34
// without either).
package prefetch

// Bytes asks for b's cache lines, one 64-byte line at a time. It never
// faults (a prefetch of memory that is not mapped is dropped) and changes
// nothing a program can see but time. On architectures without an
// implementation here it does nothing.
func Bytes(b []byte) {
	if len(b) > 0 {
		lines(&b[0], len(b))
	}
}
