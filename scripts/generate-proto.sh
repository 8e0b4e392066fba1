#!/usr/bin/env bash
# Regenerates the code for the two API packages (committed; never edit it):
#   proto/statehouse/v2/statehouse.proto  our API          -> Swift (Sources/StatehouseProto) and Python
#                                                            (python/statehouse/_proto, imports rewritten so that they
#                                                            resolve inside the SDK package)
#   proto/statehouse/v1/statehouse.proto  the original API -> Swift (Sources/StatehouseProto), served by statehoused as
#                                                            a translation and used by the tests as a client
#   proto/grpc/health/v1/health.proto     gRPC's standard health service -> Swift (Sources/StatehouseProto)
#
# Needs protoc (Debian: protobuf-compiler, installed here when missing; it brings google/protobuf/struct.proto),
# builds the two Swift protoc plugins once from scripts/protoc-plugins (about a minute; cached in
# scripts/protoc-plugins/.build) and uses grpcio-tools (installed with pip at the pinned version when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null 2>&1 || [ ! -f /usr/include/google/protobuf/struct.proto ]; then
    apt-get update -qq && apt-get install -y -qq protobuf-compiler libprotobuf-dev >/dev/null
fi

plugins=scripts/protoc-plugins
swift build --package-path "$plugins" -c release --product protoc-gen-swift
swift build --package-path "$plugins" -c release --product protoc-gen-grpc-swift-2
bin="$(swift build --package-path "$plugins" -c release --show-bin-path)"

out=Sources/StatehouseProto
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc -I proto -I /usr/include \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
    --grpc-swift-2_out="$out" \
    --grpc-swift-2_opt=Visibility=Public,Client=true,Server=true,FileNaming=PathToUnderscores \
    proto/statehouse/v2/statehouse.proto proto/statehouse/v1/statehouse.proto proto/grpc/health/v1/health.proto
echo "generated: $(ls "$out")"

grpc_tools_version=1.85.1
if ! python3 -c "import grpc_tools, importlib.metadata as m; assert m.version('grpcio-tools') == '$grpc_tools_version'" 2>/dev/null
then
    python3 -m pip install -q "grpcio-tools==$grpc_tools_version"
fi
pyout=python/statehouse/_proto
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 -m grpc_tools.protoc -I proto \
    --python_out="$scratch" --pyi_out="$scratch" --grpc_python_out="$scratch" \
    proto/statehouse/v2/statehouse.proto
rm -f "$pyout"/statehouse_pb2*
mkdir -p "$pyout"
for file in "$scratch"/statehouse/v2/*; do
    sed 's/^from statehouse\.v2 import /from statehouse._proto import /' "$file" >"$pyout/$(basename "$file")"
done
echo "generated: $(ls "$pyout")"
