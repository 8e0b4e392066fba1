#!/usr/bin/env bash
# Regenerates the Swift code for proto/statehouse/v1/*.proto into Sources/StatehouseProto (committed; never edit it).
#
# Needs protoc (Debian: protobuf-compiler, installed here when missing) and builds the two Swift protoc plugins once
# from scripts/protoc-plugins (about a minute; cached in scripts/protoc-plugins/.build).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
fi

plugins=scripts/protoc-plugins
swift build --package-path "$plugins" -c release --product protoc-gen-swift
swift build --package-path "$plugins" -c release --product protoc-gen-grpc-swift-2
bin="$(swift build --package-path "$plugins" -c release --show-bin-path)"

out=Sources/StatehouseProto
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc -I proto \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    --grpc-swift-2_out="$out" \
    --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
    proto/statehouse/v1/statehouse.proto
echo "generated: $(ls "$out")"
