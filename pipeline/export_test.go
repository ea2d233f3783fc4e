package pipeline

// WhereIdleBatches reports how many batches of heads a DecodeWhereIdle
// pipeline left to its analysing goroutine and how many its reader decoded
// itself; read it after Close.
func (p *Pipeline) WhereIdleBatches() (late, here int) {
	if p.par == nil {
		return 0, 0
	}
	return p.par.lateBatches, p.par.hereBatches
}
