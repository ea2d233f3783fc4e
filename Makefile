# make bench: the per-stage Go benchmarks, then tcpscope against tcpdump,
# tcptrace and tshark on a large real capture (made first if missing; see
# scripts/bench-compare.sh). The same as ./dev bench.
.PHONY: bench build test

build:
	go build -buildvcs=auto -o tcpscope ./cmd/tcpscope

bench: build
	go test -run '^$$' -bench . -benchmem ./...
	./scripts/bench-compare.sh

test:
	./dev test
