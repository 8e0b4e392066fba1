#!/usr/bin/env bash
# Writes docs/openapi.json: the HTTP API's OpenAPI 3.1 document as `statehoused --openapi` prints it (the daemon
# builds it from its route table), pretty-printed. test_http.py checks that the daemon serves exactly this.
# Usage: scripts/generate-openapi.sh [path to statehoused; default: a debug build]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ]; then
    swift build --product statehoused >/dev/null
    bin=.build/debug/statehoused
fi
"$bin" --openapi | python3 -c 'import json, sys; doc = json.load(sys.stdin); doc["info"]["version"] = "see statehoused --version"; print(json.dumps(doc, indent=2, ensure_ascii=False))' > docs/openapi.json
echo "wrote docs/openapi.json ($(wc -c < docs/openapi.json) bytes)"
