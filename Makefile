# authtui — see README.md. `make test` runs everything CI runs.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/authtui
BA_DIR   := testdata/betterauth
FUZZTIME ?= 30s
FUZZ_TARGETS := FuzzParseInput FuzzAnalyzeSetCookie FuzzDecodeCache FuzzDecode

.PHONY: all deps build test vet fmt-check imports-check check-fixtures fixtures fuzz bench demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/authtui

## test: formatting, vet, the fixture cross-check and every Go test,
## including the integration tests on a throwaway PostgreSQL and BetterAuth.
test: deps fmt-check vet check-fixtures $(BA_DIR)/node_modules/.package-lock.json
	$(GO) test -count=1 ./...

## deps: install what is missing (node, PostgreSQL, tmux) when root on Debian.
deps:
	@bash scripts/ensure-deps.sh

fmt-check:
	@out=$$(gofmt -l cmd internal); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## imports-check: goimports (pinned; installed into GOPATH/bin on first use)
## with the project's grouping: standard library, third party, then ours.
GOIMPORTS := $(shell $(GO) env GOPATH)/bin/goimports
imports-check:
	@[ -x "$(GOIMPORTS)" ] || $(GO) install golang.org/x/tools/cmd/goimports@v0.52.0
	@out=$$($(GOIMPORTS) -local github.com/authtui/authtui -l cmd internal); if [ -n "$$out" ]; then echo "goimports needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## check-fixtures: re-derive the captured signatures and caches with
## node:crypto alone, independently of the Go code under test.
check-fixtures:
	node $(BA_DIR)/check-fixtures.mjs

$(BA_DIR)/node_modules/.package-lock.json: $(BA_DIR)/package-lock.json
	cd $(BA_DIR) && npm ci --no-audit --no-fund

## fixtures: recapture testdata/fixtures from the pinned better-auth.
fixtures: $(BA_DIR)/node_modules/.package-lock.json
	cd $(BA_DIR) && npm run capture && npm run check

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(GO) test ./internal/probe -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) || exit 1; \
	done
	$(GO) test ./internal/probe/textsafe -run '^$$' -fuzz '^FuzzRedact$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/probe/login -run '^$$' -fuzz '^FuzzRedactQuery$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/probe/browser -run '^$$' -fuzz '^FuzzLanded$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./internal/probe -run '^$$' -bench . -benchmem

## demo: a local stack (PostgreSQL, an auth service and an API on another
## secret) and the console on it; torn down when the console exits.
demo: deps build $(BA_DIR)/node_modules/.package-lock.json
	@bash scripts/demo.sh

clean:
	rm -rf bin
