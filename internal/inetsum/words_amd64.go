package inetsum

// sumWords is sumWordsGo in assembly (words_amd64.s): one ADC instruction
// per 8 bytes, read straight from memory. len(b) must be a multiple of 8.
//
// Why by hand: Go has no add-with-carry from memory, and its compiler
// loads a round's sixteen words into registers first and spills half of
// them to the stack (the chain of carries in the flags leaves it no other
// order), about 3.4 instructions a word where this takes 1.2. replay
// --json adds up every payload byte of a capture to verify its checksums:
// with this, a packet of make bench's big.pcap took 6 658 instructions
// instead of 6 984 (scripts/instructions.sh). TestSumWordsSameAsGo holds it
// to sumWordsGo.
//
//go:noescape
func sumWords(b []byte) uint64
