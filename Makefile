# make            build ./tcpscope
# make install    install the binary, the man page and shell completions
#                 under $(DESTDIR)$(PREFIX) (default /usr/local)
# make examples   build the C examples in examples/c
# make bench      the per-stage Go benchmarks, then tcpscope against tcpdump,
#                 tcptrace and tshark on a large real capture (made first if
#                 missing; see scripts/bench-compare.sh). The same as ./dev bench.
# make fuzz       every fuzz target for FUZZTIME each (default 1h)
# make pgo        remake cmd/tcpscope/default.pgo, the profile go build optimises
#                 with, from runs on make bench's captures (scripts/pgo-profile.sh)
# make release    cross-built binaries with the version stamped (scripts/release.sh)
.PHONY: bench build test install uninstall fuzz release examples pgo

PREFIX ?= /usr/local
DESTDIR ?=
FUZZTIME ?= 1h

build:
	go build -buildvcs=auto -o tcpscope ./cmd/tcpscope

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 tcpscope $(DESTDIR)$(PREFIX)/bin/tcpscope
	install -m 0644 docs/tcpscope.1 $(DESTDIR)$(PREFIX)/share/man/man1/tcpscope.1
	./tcpscope completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcpscope
	./tcpscope completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tcpscope
	./tcpscope completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tcpscope.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tcpscope $(DESTDIR)$(PREFIX)/share/man/man1/tcpscope.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tcpscope \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_tcpscope \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tcpscope.fish

bench: build
	go test -run '^$$' -bench . -benchmem ./...
	./scripts/bench-compare.sh

# Remake cmd/tcpscope/default.pgo (profile-guided optimisation) from runs
# on make bench's captures.
pgo:
	./scripts/pgo-profile.sh

fuzz:
	./scripts/fuzz-smoke.sh $(FUZZTIME)

release:
	./scripts/release.sh

test:
	./dev test

examples:
	$(MAKE) -C examples/c
