# The two commands: `make run` (the whole thing) and `make test` (every test).
SHELL := /bin/bash
BIN   := build/sahara
export CGO_ENABLED := 1

.PHONY: run build tools test test-go generate check-generated bench-truth bench-chain bench-protocols bench-store bench-web bench-dsp clean

run: build
	$(BIN) up

build:
	go build -o $(BIN) ./cmd/sahara

# Everything CI runs: generated code is current, vet, then all Go tests
# (unit, real data sets, end-to-end chain tests against the real binary,
# the ethers.js client flow).
test: node_modules check-generated build tools
	go vet ./...
	SAHARA_BIN=$(abspath $(BIN)) go test -count=1 -timeout 45m ./...

# The S3-compatible server the store's tests run against (Versity S3 Gateway, Apache-2.0), built from the Go
# module proxy at a pinned version; the tests build it themselves when it is missing.
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
tools: build/tools/versitygw
build/tools/versitygw:
	GOBIN=$(abspath build/tools) go install $(VERSITYGW)

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# Reproduces every committed generated file: compiled Solidity and the Go code of proto/
# (protoc from Debian's protobuf-compiler; the plugin is built from the Go module cache).
generate: node_modules
	node contracts/compile.mjs
	./scripts/protogen.sh
	./scripts/vendor.sh

check-generated: generate
	@git diff --exit-code -- contracts/build chain/x platform/web/static/vendor || { echo "generated code is stale: run make generate and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard contracts/build chain/x platform/web/static/vendor)" || { echo "new generated files are not committed"; exit 1; }

bench-truth:
	go run ./bench/truth

bench-store: tools
	go run ./bench/store

bench-chain: build
	go run ./bench/chain -bin $(abspath $(BIN))

bench-protocols: build
	go run ./bench/protocols -bin $(abspath $(BIN)) -per-sender 40

bench-web: build
	go run ./bench/web -bin $(abspath $(BIN))

bench-dsp: build node_modules
	go run ./bench/dsp -bin $(abspath $(BIN))

clean:
	rm -rf build
