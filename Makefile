# sesmime — see README.md
GO ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test golden bench bench-cli bench-milter bench-relay bench-peers fuzz lint build

build:
	CGO_ENABLED=0 $(GO) build -o bin/sesmime ./cmd/sesmime

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 30m ./...
	cd awsses && $(GO) vet ./... && $(GO) test -race ./...
	cd daemon && $(GO) vet ./... && $(GO) test -race -timeout 30m ./...

golden:
	$(GO) test . ./inject ./parse ./internal/headerblock -run Golden -update

# COUNT alternating runs of every benchmark, then a table of medians with
# each line's ratio to its io.Copy (or clone) baseline: see bench/README.md.
COUNT ?= 5
bench:
	@for i in $$(seq $(COUNT)); do $(GO) test -run '^$$' -bench . -benchmem -count 1 ./... || exit 1; done | $(GO) run ./bench/benchtab

# The command-line comparisons (gocat, cat, formail, reformail): bench/run.sh.
bench-cli:
	SKIP_GO=1 bench/run.sh

# smtp-source through a private Postfix with and without sesmime-milter.
bench-milter:
	bench/milter.sh

# sesmime-relay against smtp-source -> smtp-sink in the same run: bench/relay.sh.
bench-relay:
	bench/relay.sh

# sesmime-relay against blueimp/aws-smtp-relay and mcrute/ses-smtpd-proxy on
# the fake SES API: bench/peers.sh. PEERS_DIR holds the peers' binaries
# (how to build them: bench/README.md, "Peers").
bench-peers:
	@if [ -z "$(PEERS_DIR)" ]; then echo "bench-peers: skipped: PEERS_DIR is unset (the directory with aws-smtp-relay and ses-smtpd-proxy; see bench/README.md, Peers)"; \
	else PEERS_DIR="$(PEERS_DIR)" bench/peers.sh; fi

# -fuzz takes one package and one target at a time; FUZZTIME per target.
fuzz:
	GO=$(GO) scripts/fuzz.sh ./internal/headerblock ./parse ./inject ./daemon/relay

lint:
	@test -z "$$(gofmt -l . | grep -v testdata/)" || { gofmt -l . | grep -v testdata/; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	cd awsses && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
	cd daemon && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./...
