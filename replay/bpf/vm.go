package bpf

import "encoding/binary"

// Insn is one classic BPF instruction, laid out as struct bpf_insn in
// <pcap/bpf.h> (and the kernel's struct sock_filter):
//
//	 0               1               2               3
//	 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//	+-------------------------------+---------------+---------------+
//	|             code              |      jt       |      jf       |
//	+-------------------------------+---------------+---------------+
//	|                               k                               |
//	+---------------------------------------------------------------+
//
// (code and k in host order: the program never leaves this machine).
type Insn struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Instruction classes and modes (<pcap/bpf.h>).
const (
	clsLD   = 0x00
	clsLDX  = 0x01
	clsST   = 0x02
	clsSTX  = 0x03
	clsALU  = 0x04
	clsJMP  = 0x05
	clsRET  = 0x06
	clsMISC = 0x07

	szW = 0x00
	szH = 0x08
	szB = 0x10

	modeIMM = 0x00
	modeABS = 0x20
	modeIND = 0x40
	modeMEM = 0x60
	modeLEN = 0x80
	modeMSH = 0xa0

	aluADD = 0x00
	aluSUB = 0x10
	aluMUL = 0x20
	aluDIV = 0x30
	aluOR  = 0x40
	aluAND = 0x50
	aluLSH = 0x60
	aluRSH = 0x70
	aluNEG = 0x80
	aluMOD = 0x90
	aluXOR = 0xa0

	jmpJA   = 0x00
	jmpJEQ  = 0x10
	jmpJGT  = 0x20
	jmpJGE  = 0x30
	jmpJSET = 0x40

	srcK = 0x00
	srcX = 0x08

	retA = 0x10

	miscTAX = 0x00
	miscTXA = 0x80

	memWords = 16 // BPF_MEMWORDS
)

// Run executes prog on a packet of which pkt was captured and wirelen bytes
// were on the wire, and returns the filter's verdict: 0 rejects, anything
// else accepts (the snapshot length the program asks for). It follows
// libpcap's bpf_filter() (bpf_filter.c) exactly, which is what a filter
// must agree with to select the frames tcpdump selects:
//
//   - "len" (BPF_LD|BPF_LEN) is the length on the wire, not the captured
//     length, so "greater 100" holds for a frame cut by the snaplen;
//   - a load past the captured bytes rejects the packet (returns 0);
//   - division or modulo by a zero X rejects the packet;
//   - an invalid instruction or a jump out of the program rejects it.
//
// golang.org/x/net/bpf has a VM too, but its "len" is the captured length,
// so it disagrees with tcpdump on truncated frames; this one is written by
// hand for that reason (and fuzzed against malformed programs).
func Run(prog []Insn, pkt []byte, wirelen uint32) uint32 {
	var a, x uint32
	var mem [memWords]uint32
	be := binary.BigEndian
	n := uint32(len(pkt))
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		k := in.K
		switch in.Code {
		case clsRET | srcK:
			return k
		case clsRET | retA:
			return a
		case clsLD | szW | modeABS:
			if k > n || n-k < 4 {
				return 0
			}
			a = be.Uint32(pkt[k:])
		case clsLD | szH | modeABS:
			if k > n || n-k < 2 {
				return 0
			}
			a = uint32(be.Uint16(pkt[k:]))
		case clsLD | szB | modeABS:
			if k >= n {
				return 0
			}
			a = uint32(pkt[k])
		case clsLD | szW | modeLEN:
			a = wirelen
		case clsLDX | szW | modeLEN:
			x = wirelen
		case clsLD | szW | modeIND:
			off := uint64(x) + uint64(k)
			if off > uint64(n) || uint64(n)-off < 4 {
				return 0
			}
			a = be.Uint32(pkt[off:])
		case clsLD | szH | modeIND:
			off := uint64(x) + uint64(k)
			if off > uint64(n) || uint64(n)-off < 2 {
				return 0
			}
			a = uint32(be.Uint16(pkt[off:]))
		case clsLD | szB | modeIND:
			off := uint64(x) + uint64(k)
			if off >= uint64(n) {
				return 0
			}
			a = uint32(pkt[off])
		case clsLDX | szB | modeMSH:
			if k >= n {
				return 0
			}
			x = uint32(pkt[k]&0xf) << 2
		case clsLD | modeIMM:
			a = k
		case clsLDX | modeIMM:
			x = k
		case clsLD | modeMEM:
			if k >= memWords {
				return 0
			}
			a = mem[k]
		case clsLDX | modeMEM:
			if k >= memWords {
				return 0
			}
			x = mem[k]
		case clsST:
			if k >= memWords {
				return 0
			}
			mem[k] = a
		case clsSTX:
			if k >= memWords {
				return 0
			}
			mem[k] = x
		case clsJMP | jmpJA:
			if uint64(pc)+1+uint64(k) > uint64(len(prog)) {
				return 0
			}
			pc += int(k)
		case clsJMP | jmpJGT | srcK, clsJMP | jmpJGE | srcK, clsJMP | jmpJEQ | srcK, clsJMP | jmpJSET | srcK,
			clsJMP | jmpJGT | srcX, clsJMP | jmpJGE | srcX, clsJMP | jmpJEQ | srcX, clsJMP | jmpJSET | srcX:
			v := k
			if in.Code&srcX != 0 {
				v = x
			}
			var cond bool
			switch in.Code & 0xf0 {
			case jmpJGT:
				cond = a > v
			case jmpJGE:
				cond = a >= v
			case jmpJEQ:
				cond = a == v
			case jmpJSET:
				cond = a&v != 0
			}
			off := int(in.Jf)
			if cond {
				off = int(in.Jt)
			}
			if pc+1+off > len(prog) {
				return 0
			}
			pc += off
		case clsALU | aluNEG:
			a = -a
		case clsMISC | miscTAX:
			x = a
		case clsMISC | miscTXA:
			a = x
		default:
			if in.Code&0x07 != clsALU {
				return 0 // not an instruction bpf_filter knows
			}
			v := k
			if in.Code&srcX != 0 {
				v = x
			}
			switch in.Code & 0xf0 {
			case aluADD:
				a += v
			case aluSUB:
				a -= v
			case aluMUL:
				a *= v
			case aluDIV:
				if v == 0 {
					return 0
				}
				a /= v
			case aluMOD:
				if v == 0 {
					return 0
				}
				a %= v
			case aluAND:
				a &= v
			case aluOR:
				a |= v
			case aluXOR:
				a ^= v
			case aluLSH:
				if v < 32 {
					a <<= v
				} else {
					a = 0
				}
			case aluRSH:
				if v < 32 {
					a >>= v
				} else {
					a = 0
				}
			default:
				return 0
			}
		}
	}
	return 0 // fell off the end: bpf_validate refuses such programs
}
