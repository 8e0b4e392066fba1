// swift-tools-version: 6.1
// libFuzzer drivers for the targets in StatehouseFuzzTargets. Built only by scripts/fuzz.sh, with
// `-sanitize=fuzzer,address`; the main package's tests replay the saved inputs without it.
import PackageDescription

let package = Package(
    name: "statehouse-fuzz",
    dependencies: [.package(name: "statehouse", path: "..")],
    targets: [
        .executableTarget(
            name: "fuzz-json",
            dependencies: [.product(name: "StatehouseFuzzTargets", package: "statehouse")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "fuzz-session",
            dependencies: [.product(name: "StatehouseRequestFuzzTarget", package: "statehouse")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "fuzz-cursor",
            dependencies: [.product(name: "StatehouseFuzzTargets", package: "statehouse")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
