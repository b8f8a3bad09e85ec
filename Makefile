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

# fuzz runs every fuzz target for FUZZTIME each; seeds are the f.Add calls
# and the corpora under each package's testdata/fuzz.
FUZZTIME ?= 10s
FUZZ_TARGETS := \
	.:FuzzAppendJSONString \
	./controlplane:FuzzSplit \
	./controlplane:FuzzDecodeRequest \
	./messaging:FuzzFrameParser \
	./messaging:FuzzDecodeRequest \
	./sigv4:FuzzParseAuthorization \
	./sigv4:FuzzVerify \
	./token:FuzzOpen \
	./token:FuzzDecode

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$pkg $$name"; \
		$(GO) test -run=NONE -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	done

clean:
	rm -rf bin $(JS_DIR)/node_modules
