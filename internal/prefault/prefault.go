// Package prefault writes each page of a freshly made array once, before
// anything reads it.
//
// Why: Linux maps a page of fresh memory that is read before it is written
// to its shared zero page; the first write then copies that page and, with
// the process's other threads running on the other core, flushes that
// core's TLB with an interrupt, tens of microseconds on a VM. A page that
// is written first is simply given a zeroed page of its own. The pipeline's
// batches and the analyzer's slabs of connections are large arrays whose
// pages are all used; they are written once here when made.
//
// Why not clear(s): for an array that holds pointers, clear goes through
// the garbage collector's write barrier while a collection is marking,
// and that barrier reads every pointer slot before the memory is cleared:
// the very read that maps the zero page. Traced (perf, tlb:tlb_flush) on
// replay of bench/big.pcap, clear caused 265 of the run's 780 TLB
// shootdowns. A fresh array is all zero already (Go zeroes what it hands
// out), so writing a zero byte into each page changes nothing but which
// page the kernel maps, and needs no barrier: no pointer is written.
package prefault

import "unsafe"

// step is the smallest page size of the systems tcpscope runs on: a write
// every step bytes touches every page.
const step = 4096

// Pages writes a zero byte into every page of s's backing array (up to its
// capacity). s must be all zero, as a slice just made is; its contents do
// not change.
func Pages[T any](s []T) {
	s = s[:cap(s)]
	if len(s) == 0 {
		return
	}
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), n)
	for i := 0; i < len(b); i += step {
		b[i] = 0
	}
	b[len(b)-1] = 0
}
