#!/usr/bin/env bash
# Regenerates the Go code of proto/ (gogoproto, as the Cosmos SDK uses) into chain/x/*/types.
# Needs protoc (Debian: protobuf-compiler); the plugin and imported protos come from the Go module cache.
set -euo pipefail
cd "$(dirname "$0")/.."
mod() { go list -m -f '{{.Dir}}' "$1"; }
GOGO=$(mod github.com/cosmos/gogoproto)
CPROTO=$(mod github.com/cosmos/cosmos-proto)
SDK=$(mod github.com/cosmos/cosmos-sdk)
BIN=$(mktemp -d)
OUT=$(mktemp -d)
trap 'rm -rf "$BIN" "$OUT"' EXIT
GOBIN=$BIN go install github.com/cosmos/gogoproto/protoc-gen-gocosmos
for dir in proto/sahara/*/v1; do
  protoc -I proto -I "$GOGO" -I "$CPROTO/proto" -I "$SDK/proto" \
    --plugin=protoc-gen-gocosmos="$BIN/protoc-gen-gocosmos" \
    --gocosmos_out=plugins=grpc,Mgoogle/protobuf/any.proto=github.com/cosmos/gogoproto/types/any:"$OUT" \
    "$dir"/*.proto
done
cp -r "$OUT"/sahara/chain/x/. chain/x/
