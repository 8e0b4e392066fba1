"""Code generated from proto/statehouse/v1/statehouse.proto by scripts/generate-proto.sh; never edit it."""
