// swift-tools-version: 6.1
// Builds the two protoc plugins used by scripts/generate-proto.sh. Kept out of the main package so that ordinary
// builds never compile protoc or the code generators (TOOLCHAIN.md: a clean build with the plugin costs minutes).
import PackageDescription

let package = Package(
    name: "statehouse-protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0", traits: []),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
    ],
    targets: [
        .target(
            name: "StatehouseProtocPlugins",
            dependencies: [
                .product(name: "protoc-gen-swift", package: "swift-protobuf"),
                .product(name: "protoc-gen-grpc-swift-2", package: "grpc-swift-protobuf"),
            ]
        )
    ]
)
