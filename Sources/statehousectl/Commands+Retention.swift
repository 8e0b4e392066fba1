import ArgumentParser
import StatehouseClient
import StatehouseModel

/// `retention show|set` and `compact`: how long old versions keep their values, and removing those that no longer do
/// (docs/architecture.md, "Retention and expiry").
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Show or set how long a namespace's old versions keep their values.",
        subcommands: [RetentionShow.self, RetentionSet.self]
    )
}

struct RetentionShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the namespace's retention policy and where it comes from.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let retention = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.retention(namespace: self.global.namespaceName)
        }
        emit(try self.global.format == .json ? ModelJSON.retention(retention).text : RetentionRender.text(retention))
    }
}

struct RetentionSet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the namespace's retention policy (a commit in its log).",
        discussion: """
            A version keeps its value when any rule keeps it: one of the newest --keep-versions of its key, or current \\
            within the last --keep-for seconds. The latest version and versions a live snapshot needs always keep \\
            theirs. Both rules 0 keeps everything; --use-default removes the namespace's policy so the daemon's \\
            default (retention-keep-versions, retention-keep-for) applies. Compaction (every compaction-interval, or \\
            `statehousectl compact`) removes the other values; events, digests and proofs stay.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Keep the newest N versions of each key (0: no count rule).") var keepVersions: Int = 0
    @Option(help: "Keep versions current within this many seconds (0: no age rule).") var keepFor: Int64 = 0
    @Flag(help: "Remove the namespace's own policy; the daemon's default applies.") var useDefault = false
    @Option(help: "The commit's reason (recorded with the change).") var reason: String?

    func validate() throws {
        guard self.keepVersions >= 0, self.keepFor >= 0 else {
            throw ValidationError("--keep-versions and --keep-for cannot be negative")
        }
        if self.useDefault, self.keepVersions != 0 || self.keepFor != 0 {
            throw ValidationError("--use-default takes no --keep-versions or --keep-for")
        }
    }

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let policy =
            self.useDefault ? nil : RetentionPolicy(keepVersions: self.keepVersions, keepFor: .seconds(self.keepFor))
        let retention = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.setRetention(
                namespace: self.global.namespaceName, policy: policy, metadata: CommitMetadata(reason: self.reason))
        }
        emit(try self.global.format == .json ? ModelJSON.retention(retention).text : RetentionRender.text(retention))
    }
}

struct Compact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the values the namespace's retention policy no longer keeps, and those of expired keys.",
        discussion: """
            Every event, value digest and proof stays: verify and audit bundles still pass, and reading a removed \\
            version says so (FAILED_PRECONDITION). Freed pages are reused by later writes; --vacuum also gives them \\
            back to the file system (SQLite VACUUM: commits wait while it runs, about as long as copying the store).
            """)
    @OptionGroup var global: GlobalOptions
    @Flag(help: "VACUUM the store afterwards, shrinking the file (commits wait while it runs).") var vacuum = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let report = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await Progress.timing("compact") {
                try await client.compact(namespace: self.global.namespaceName, vacuum: self.vacuum)
            }
        }
        if try self.global.format == .json {
            emit(ModelJSON.compaction(report).text)
        } else {
            emit(
                "removed \(report.valuesRemoved) values (\(report.valueBytesRemoved) bytes) of "
                    + "\(report.versionsExamined) versions in namespace \(report.namespace); store file "
                    + "\(report.fileBytesBefore) -> \(report.fileBytesAfter) bytes; \(RetentionRender.text(report.policy))"
            )
        }
    }
}

enum RetentionRender {
    static func text(_ retention: ResolvedRetention) -> String {
        let origin: String
        switch retention.source {
        case .namespace: origin = "the namespace's policy (set at commit_ts \(retention.commitTS))"
        case .default: origin = "the daemon's default"
        case .none: origin = "no policy"
        }
        return "keeps \(retention.policy.keptDescription): \(origin)"
    }
}
