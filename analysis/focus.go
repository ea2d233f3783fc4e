package analysis

// number is what a segment of a connection out of focus (Options.Focus)
// does to it: only the state that decides stream numbers, and when
// connections are retired and evicted, which also bears on them (a
// forgotten connection's tombstone keeps its base sequence numbers, and the
// closed connections are forgotten first). That is the base sequence
// numbers, which tell a retransmitted SYN from a new connection on the same
// ports (portsReused, start), and the FINs, their ACKs and the RSTs that
// retire a connection (maybeRetire), each set by the same code as in a full
// analysis (setBases, noteEnding). The rest of the analysis (lists of
// unacknowledged segments, RTTs, windows, verdicts, notes) is skipped,
// which is most of its cost: follow --stream 2 of make bench's bulk.pcap,
// whose other three bulk streams are three quarters of the packets, 6 %
// less CPU.
func (c *conn) number(fwd, rev *flow, s *Segment, r *Result) {
	setBases(fwd, rev, s, r)
	r.Seq = s.Seq - fwd.baseSeq
	if s.Flags&ACK != 0 {
		r.Ack = s.Ack - rev.baseSeq
	}
	noteEnding(fwd, rev, s)
}

// setBases fixes the base sequence numbers (analyze does it first).
//
// A SYN-ACK with a new ISN on a known pair: 4.0 flags it but keeps the
// stream (it looks the conversation up again and finds the same one), and
// takes the new ISN as this side's base for relative numbers; the rest of
// the state stays (so a jump in seq is still a lost segment).
//
// Relative numbers: the first segment of a side fixes its base (the ISN
// for a SYN, seq-1 otherwise so data starts at 1, Wireshark bug 1542). The
// other side's base comes from the first ACK field seen.
func setBases(fwd, rev *flow, s *Segment, r *Result) {
	seq, flags := s.Seq, s.Flags
	if flags&(SYN|ACK) == SYN|ACK && fwd.baseSet && seq != fwd.baseSeq {
		r.Flags |= ReusedPorts
		fwd.baseSeq = seq
	}
	if !fwd.baseSet {
		fwd.baseSeq = seq
		if flags&SYN == 0 {
			fwd.baseSeq = seq - 1
		}
		fwd.baseSet = true
	}
	if flags&ACK != 0 && !rev.baseSet {
		rev.baseSeq = s.Ack - 1
		rev.baseSet = true
	}
}

// noteEnding remembers each side's first FIN (and where it ends), whether
// the other side acknowledged it, and its first RST: what maybeRetire
// looks at, and the notes and summary show (afterAnalysis does it).
func noteEnding(fwd, rev *flow, s *Segment) {
	if s.Flags&FIN != 0 && fwd.finFrame == 0 {
		fwd.finFrame = s.Frame
		fwd.finEnd = s.Seq + uint32(s.Len) + 1
	}
	if s.Flags&RST != 0 && fwd.rstFrame == 0 {
		fwd.rstFrame = s.Frame
	}
	if s.Flags&ACK != 0 && rev.finFrame != 0 && !rev.finAcked && seqGE(s.Ack, rev.finEnd) {
		rev.finAcked = true
	}
}
