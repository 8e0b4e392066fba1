// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "statehouse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "StatehouseModel", targets: ["StatehouseModel"]),
        .library(name: "StatehouseLedger", targets: ["StatehouseLedger"]),
        .library(name: "StatehouseCore", targets: ["StatehouseCore"]),
        .library(name: "StatehouseSQLite", targets: ["StatehouseSQLite"]),
        .library(name: "StatehouseGRPC", targets: ["StatehouseGRPC"]),
        .library(name: "StatehouseHTTP", targets: ["StatehouseHTTP"]),
        .library(name: "StatehouseServer", targets: ["StatehouseServer"]),
        .library(name: "StatehouseClient", targets: ["StatehouseClient"]),
        // Driven by libFuzzer from fuzz/ (scripts/fuzz.sh); not an API for users.
        .library(name: "StatehouseFuzzTargets", targets: ["StatehouseFuzzTargets"]),
        .library(name: "StatehouseRequestFuzzTarget", targets: ["StatehouseRequestFuzzTarget"]),
        .executable(name: "statehoused", targets: ["statehoused"]),
        .executable(name: "statehousectl", targets: ["statehousectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk.git", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The version and git commit the binaries report, embedded at build time by the plugin below.
        .target(
            name: "StatehouseBuildInfo",
            swiftSettings: swiftSettings,
            plugins: ["GitVersionPlugin"]
        ),
        .plugin(name: "GitVersionPlugin", capability: .buildTool()),
        // Public value types every side shares (values, names, commits, events, errors, limits); no I/O, no engine.
        // The client and the CLI stop here.
        .target(
            name: "StatehouseModel",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseLedger",
            dependencies: [
                "StatehouseModel",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseCore",
            dependencies: [
                "StatehouseModel",
                "StatehouseLedger",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Content-addressed blobs (artifacts) in the data directory.
        .target(
            name: "StatehouseArtifacts",
            dependencies: [
                "StatehouseModel",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Who may do what: tokens, grants, roles, quotas; the one access check every transport calls.
        .target(
            name: "StatehouseAccess",
            dependencies: [
                "StatehouseCore",
                "StatehouseModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseFuzzTargets",
            dependencies: ["StatehouseCore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseRequestFuzzTarget",
            dependencies: [
                "StatehouseCore",
                "StatehouseSQLite",
                "StatehouseGRPC",
                "StatehouseProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseSQLite",
            dependencies: [
                "StatehouseCore",
                "StatehouseLedger",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // Generated by scripts/generate-proto.sh from proto/; never edited by hand.
        .target(
            name: "StatehouseProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Model <-> protobuf conversions both ways and the error <-> status table both ways.
        .target(
            name: "StatehouseWire",
            dependencies: [
                "StatehouseModel",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseGRPC",
            dependencies: [
                "StatehouseAccess",
                "StatehouseArtifacts",
                "StatehouseCore",
                "StatehouseWire",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP side of the daemon (Hummingbird): the JSON API under /v1, probes, /metrics and the web console.
        .target(
            name: "StatehouseHTTP",
            dependencies: [
                "StatehouseAccess",
                "StatehouseArtifacts",
                "StatehouseCore",
                "StatehouseModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseServer",
            dependencies: [
                "StatehouseAccess",
                "StatehouseArtifacts",
                "StatehouseBuildInfo",
                "StatehouseCore",
                "StatehouseSQLite",
                "StatehousePostgres",
                "StatehouseGRPC",
                "StatehouseClient",
                "StatehouseMCP",
                "StatehouseHTTP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCertificateReloading", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseClient",
            dependencies: [
                "StatehouseLedger",
                "StatehouseModel",
                "StatehouseWire",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        // The MCP server (memory tools and resources over a StatehouseClient): stdio for `statehousectl mcp`, Streamable
        // HTTP for `statehoused --mcp-listen`.
        .target(
            name: "StatehouseMCP",
            dependencies: [
                "StatehouseClient",
                "StatehouseModel",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by the test targets: temporary stores and directories, engines, in-process and loopback
        // servers, the daemon process harness.
        .target(
            name: "StatehousePostgres",
            dependencies: [
                "StatehouseArtifacts",
                "StatehouseCore",
                "StatehouseLedger",
                "StatehouseModel",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StatehouseTesting",
            dependencies: [
                "StatehouseCore",
                "StatehouseSQLite",
                "StatehousePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "StatehouseGRPC",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "statehoused",
            dependencies: [
                "StatehouseServer",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "statehousectl",
            dependencies: [
                "StatehouseArtifacts",
                "StatehouseLedger",
                "StatehouseSQLite",
                "StatehousePostgres",
                "StatehouseBuildInfo",
                "StatehouseModel",
                "StatehouseClient",
                "StatehouseMCP",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "statehouse-engine-bench",
            dependencies: [
                "StatehouseCore",
                "StatehouseSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "statehouse-crash-child",
            dependencies: [
                "StatehouseCore",
                "StatehouseSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseFuzzTargetsTests",
            dependencies: ["StatehouseFuzzTargets", "StatehouseRequestFuzzTarget"],
            resources: [.copy("Regressions")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseLedgerTests",
            dependencies: [
                "StatehouseLedger",
                "StatehouseModel",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseAccessTests",
            dependencies: [
                "StatehouseAccess",
                "StatehouseCore",
                "StatehouseModel",
                "StatehouseSQLite",
                "StatehouseTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehousePostgresTests",
            dependencies: [
                "StatehousePostgres",
                "StatehouseArtifacts",
                "StatehouseCore",
                "StatehouseLedger",
                "StatehouseModel",
                "StatehouseSQLite",
                "StatehouseTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseCoreTests",
            dependencies: [
                "StatehouseCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseServerTests",
            dependencies: [
                "StatehouseTesting",
                "StatehouseCore",
                "StatehouseSQLite",
                "StatehouseServer",
                "StatehouseProto",
                "statehoused",
                "statehousectl",
                "StatehouseGRPC",
                "CSQLite",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseClientTests",
            dependencies: [
                "StatehouseTesting",
                "StatehouseCore",
                "StatehouseClient",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseWireTests",
            dependencies: [
                "StatehouseModel",
                "StatehouseWire",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseGRPCTests",
            dependencies: [
                "StatehouseAccess",
                "StatehouseTesting",
                "StatehouseCore",
                "StatehouseSQLite",
                "StatehouseGRPC",
                "StatehouseProto",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StatehouseSQLiteTests",
            dependencies: [
                "StatehouseTesting",
                "StatehouseCore",
                "StatehouseLedger",
                "StatehouseSQLite",
                "CSQLite",
                "statehouse-crash-child",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
