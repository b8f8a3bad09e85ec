# make test runs the whole suite: Go tests, the JavaScript suite with the
# official client SDKs (installed from the committed lockfile), and a short
# load run that fails on any lost or duplicated message.

GO ?= go
NPM ?= npm
JS_DIR := test/js

.PHONY: test test-go test-js test-bench build vet race fuzz clean

test: test-go test-js test-bench

build:
	$(GO) build -o bin/parley ./cmd/parley

test-go:
	@./scripts/check-services.sh
	$(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

race:
	$(GO) test -count=1 -race ./...

$(JS_DIR)/node_modules/.package-lock.json: $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && $(NPM) ci --no-audit --no-fund

test-js: build $(JS_DIR)/node_modules/.package-lock.json
	cd $(JS_DIR) && PARLEY_BIN=$(CURDIR)/bin/parley node --test --test-concurrency=4

test-bench: build
	./scripts/bench-smoke.sh bin/parley

fuzz:
	$(GO) test -run=NONE -fuzz=FuzzParseAuthorization -fuzztime=20s ./sigv4
	$(GO) test -run=NONE -fuzz=FuzzOpen -fuzztime=20s ./token

clean:
	rm -rf bin $(JS_DIR)/node_modules
