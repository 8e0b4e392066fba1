import ArgumentParser
import StatehouseClient
import StatehouseModel

/// `artifact put|get|stat`: content-addressed blobs (docs/api.md, "Artifacts").
struct ArtifactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "artifact",
        abstract: "Store, fetch and look up content-addressed blobs (for content too big for a state value).",
        subcommands: [ArtifactPut.self, ArtifactGet.self, ArtifactStat.self, ArtifactCollect.self]
    )
}

struct ArtifactPut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Upload a file; prints its SHA-256 (stored once per content).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file.") var file: String
    @Option(help: "Store it only if it hashes to this SHA-256.") var expect: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let info = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.putArtifact(namespace: self.global.namespaceName, file: self.file, expectedSHA256: self.expect)
        }
        emit(
            try self.global.format == .json
                ? ArtifactRender.json(info).text
                : "\(info.sha256)  \(info.size) bytes" + (info.deduplicated ? " (already stored)" : ""))
    }
}

struct ArtifactGet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Download a blob into a file, checked against its SHA-256.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The blob's SHA-256.") var sha256: String
    @Option(help: "Where to write it.") var out: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let written = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.getArtifact(namespace: self.global.namespaceName, sha256: self.sha256, to: self.out) }
        emit("wrote \(written) bytes to \(self.out)")
    }
}

struct ArtifactStat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat", abstract: "Whether a blob is stored, and its size (exit 3 when it is not).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The blob's SHA-256.") var sha256: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let info = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.statArtifact(namespace: self.global.namespaceName, sha256: self.sha256) }
        emit(
            try self.global.format == .json
                ? ArtifactRender.json(info).text : info.exists ? "\(info.sha256)  \(info.size) bytes" : "not stored")
        if !info.exists { throw ExitCode(ExitStatus.notFound.rawValue) }
    }
}

struct ArtifactCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove the namespace's blobs that no stored value mentions (needs the admin role).",
        discussion: """
            A blob is kept while any stored value of the namespace (any version whose value retention kept, \
            provenance records included) contains its SHA-256, and while it is younger than --min-age (an upload \
            comes before the commit that refers to it).
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Keep blobs younger than this many seconds (default 3600).") var minAge: UInt64?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { try await $0.collectArtifacts(namespace: self.global.namespaceName, minimumAgeSeconds: self.minAge) }
        emit(
            try self.global.format == .json
                ? JSONOutput.object([
                    ("examined", .int(result.examined)), ("removed", .int(result.removed)),
                    ("bytes_removed", .int(result.bytesRemoved)),
                ]).text
                : "removed \(result.removed) of \(result.examined) blobs (\(result.bytesRemoved) bytes)")
    }
}

enum ArtifactRender {
    static func json(_ info: StatehouseClient.ArtifactInfo) -> JSONOutput {
        .object([
            ("namespace", .string(info.namespace)), ("sha256", .string(info.sha256)), ("size", .int(info.size)),
            ("exists", .bool(info.exists)), ("deduplicated", .bool(info.deduplicated)),
        ])
    }
}
