package analysis

// number is what a segment of a connection out of focus (Options.Focus)
// does to it: only the state that decides stream numbers, and when
// connections are retired and evicted, which also bears on them (a
// forgotten connection's tombstone keeps its base sequence numbers, and the
// closed connections are forgotten first). That is the base sequence
// numbers, which tell a retransmitted SYN from a new connection on the same
// ports (portsReused, start), and the FINs, their ACKs and the RSTs that
// retire a connection (maybeRetire). Each is set here exactly as analyze
// and afterAnalysis set it; the rest of the analysis (lists of
// unacknowledged segments, RTTs, windows, verdicts, notes) is skipped, which
// is most of its cost: follow --stream 2 of make bench's bulk.pcap, whose
// other three bulk streams are three quarters of the packets, 6 % less CPU.
func (c *conn) number(fwd, rev *flow, s *Segment, r *Result) {
	seq, flags := s.Seq, s.Flags
	ack := flags&ACK != 0
	// As in analyze: a SYN-ACK with a new ISN takes it as the base, and the
	// first segment of a side fixes its base, the first ACK the other's.
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
	if ack && !rev.baseSet {
		rev.baseSeq = s.Ack - 1
		rev.baseSet = true
	}
	r.Seq = seq - fwd.baseSeq
	if ack {
		r.Ack = s.Ack - rev.baseSeq
	}
	// As in afterAnalysis: what maybeRetire looks at.
	if flags&FIN != 0 && fwd.finFrame == 0 {
		fwd.finFrame = s.Frame
		fwd.finEnd = seq + uint32(s.Len) + 1
	}
	if flags&RST != 0 && fwd.rstFrame == 0 {
		fwd.rstFrame = s.Frame
	}
	if ack && rev.finFrame != 0 && !rev.finAcked && seqGE(s.Ack, rev.finEnd) {
		rev.finAcked = true
	}
}
