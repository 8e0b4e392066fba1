// Empty on purpose: this target exists only so that `swift build --product` can build the two protoc plugins
// that the package depends on (see ../../generate-proto.sh).
