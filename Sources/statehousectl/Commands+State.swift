import ArgumentParser
import Foundation
import StatehouseBuildInfo
import StatehouseClient
import StatehouseLedger
import StatehouseModel

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that statehoused serves.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let status = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.health()
        }
        emit(
            try self.global.format == .json
                ? JSONOutput.object([("status", .string(status))]).text : self.global.style.good(status))
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the daemon's version and git commit, and this CLI's.",
        discussion:
            "The first two lines are the daemon's (`Version: 0.1.0`, `Git SHA: …`), as the original CLI printed."
    )
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let version: String
        let sha: String
        do {
            (version, sha) = try await withStatehouseClient(
                host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
            ) {
                try await $0.version()
            }
        } catch {
            // This CLI's own version is worth knowing exactly when the daemon cannot be reached.
            emit("Client: statehousectl \(StatehouseBuild.description)")
            throw error
        }
        if try self.global.format == .json {
            emit(
                JSONOutput.object([
                    ("version", .string(version)), ("git_sha", .string(sha)),
                    ("client_version", .string(StatehouseBuild.version)),
                    ("client_git_sha", .string(StatehouseBuild.gitSHA)),
                ]).text)
        } else {
            emit("Version: \(version)\nGit SHA: \(sha)\nClient: statehousectl \(StatehouseBuild.description)")
        }
    }
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a JSON value to a key (one atomic commit).",
        discussion: "Exits 4 when --expect-version does not hold (nothing is written)."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String
    @Argument(help: "The value: one JSON text, for example '{\"step\":1}' or '\"text\"'.") var json: String
    @Option(
        parsing: .unconditional,
        help: "Commit only if the key's current version is this (0: only if it does not exist).")
    var expectVersion: UInt64?
    @Option(
        help: ArgumentHelp(
            "Expire the value after this many seconds: reads then find the key deleted, and the daemon commits its "
                + "delete.", valueName: "seconds"))
    var ttl: Double?

    func validate() throws {
        if let ttl = self.ttl, !(ttl > 0 && ttl < 100 * 365 * 86_400) {
            throw ValidationError("--ttl must be a positive number of seconds")
        }
    }

    func run() async throws {
        let value: JSONValue
        do {
            value = try JSONValue(validating: self.json)
        } catch let error as StatehouseError {
            throw UsageError("\(error)")
        }
        let expiresAt = self.ttl.map { Microseconds(((Date().timeIntervalSince1970 + $0) * 1_000_000).rounded()) }
        var commit = AtomicCommit(
            namespace: self.global.namespaceName,
            operations: [.put(agentID: self.agent, key: self.key, value: value, expiresAt: expiresAt)])
        if let expected = self.expectVersion {
            commit.conditions = [
                .init(agentID: self.agent, key: self.key, expected: expected == 0 ? .absent : .version(expected))
            ]
        }
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.commit(commit)
        }
        let style = self.global.style
        emit(
            try self.global.format == .json
                ? ModelJSON.commit(result).text
                : "committed commit_ts \(style.commitTS("\(result.commitTS)")), version \(style.version("\(result.versions.first ?? 0)"))"
        )
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key (a tombstone version; history is kept).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let commit = AtomicCommit(
            namespace: self.global.namespaceName, operations: [.delete(agentID: self.agent, key: self.key)])
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.commit(commit)
        }
        let style = self.global.style
        emit(
            try self.global.format == .json
                ? ModelJSON.commit(result).text
                : "deleted at commit_ts \(style.commitTS("\(result.commitTS)")), version \(style.version("\(result.versions.first ?? 0)"))"
        )
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a key, latest or at a point in history.",
        discussion: """
            Prints the value (its version, commit_ts and time on standard error); --pretty prints the original CLI's \
            summary (key, version, time, value summary); --json the whole record. Exits 3 with 'not found' when the \
            key (or the version) does not exist there.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String
    @Option(help: "The key's version N.") var version: UInt64?
    @Option(help: "As of commit_ts S.") var at: UInt64?
    @Option(help: "As of a time (RFC 3339).") var asOf: String?
    @Flag(help: "Print key, version, commit time and a one-line summary of the value.") var pretty = false
    @Flag(
        help: """
            Check the read against the daemon's signed Merkle tree before printing it: the event that wrote the \
            version, its inclusion proof and the head's signature.
            """) var verify = false
    @Option(
        help: """
            With --verify: the ledger public key (PEM) to trust, e.g. saved from 'statehousectl ledger-key'; \
            without it the key the daemon reports is trusted.
            """) var publicKey: String?

    func run() async throws {
        guard self.publicKey == nil || self.verify else { throw UsageError("--public-key needs --verify") }
        let trusted = try self.publicKey.map(LedgerKeyCommand.readPublicKey)
        guard self.version == nil || (self.at == nil && self.asOf == nil) else {
            throw UsageError("use only one of --version, --at and --as-of")
        }
        let point = try self.version.map { ReadPoint.version($0) } ?? ReadPoint(at: self.at, asOf: self.asOf)
        let namespace = self.global.namespaceName
        let format = try self.global.format
        let (host, port) = try self.global.endpoint()
        let record = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            do {
                if self.verify {
                    if let trusted { client.trust(ledgerKey: trusted) }
                    return try await client.get(
                        namespace: namespace, agentID: self.agent, key: self.key, at: point, verified: true)
                }
                return try await client.get(namespace: namespace, agentID: self.agent, key: self.key, at: point)
            } catch StatehouseError.invalidArgument(let message) where self.version != nil {
                // A version the key never reached is "not found" like a missing key, not a usage error.
                let latest = try await client.get(namespace: namespace, agentID: self.agent, key: self.key)
                guard let version = self.version, version == 0 || version > latest.version else {
                    throw StatehouseError.invalidArgument(message)
                }
                throw StatehouseError.notFound(
                    "version \(version) of agent '\(self.agent)' key '\(self.key)' does not exist "
                        + (latest.version == 0
                            ? "(the key was never written)" : "(its versions are 1 to \(latest.version))")
                )
            }
        }
        let style = self.global.style
        if format == .json {
            emit(ModelJSON.record(record, namespace: namespace).text)
        } else if let value = record.value {
            if self.pretty {
                emit(
                    "Key:       \(style.key(self.key))\nVersion:   \(style.version("\(record.version)"))\n"
                        + "Timestamp: \(PrettyFormat.time(record.committedAt))  (commit_ts \(style.commitTS("\(record.commitTS)")), "
                        + "\(Render.time(record.committedAt)))\n\nValue: "
                        + PrettyFormat.summary(JSONTree(parsing: value.text), maxLength: 200))
            } else {
                emit(value.text)
                Terminal.standardError.note(
                    "version \(record.version), commit_ts \(record.commitTS), \(Render.time(record.committedAt))"
                        + (self.verify ? ", verified against the signed tree head" : "")
                )
            }
        }
        if !record.exists {
            Terminal.standardError.failure(
                record.deleted ? "not found (deleted at version \(record.version))" : "not found")
            throw ExitCode(ExitStatus.notFound.rawValue)
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List an agent's keys (deleted keys hidden).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Option(help: "Only keys with this prefix.") var prefix: String = ""
    @Flag(help: "Also list deleted keys.") var includeDeleted = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let entries = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.listKeys(
                    namespace: self.global.namespaceName, agentID: self.agent, prefix: self.prefix,
                    includeDeleted: self.includeDeleted, cursor: $0)
            }
        }
        let style = self.global.style
        if try self.global.format == .json {
            emit(
                JSONOutput.array(
                    entries.map {
                        .object([
                            ("key", .string($0.key)), ("version", .int($0.version)), ("deleted", .bool($0.deleted)),
                        ])
                    }
                ).text)
        } else if !entries.isEmpty {
            emit(
                Render.table(
                    ["KEY", "VERSION", "DELETED"], entries.map { [$0.key, "\($0.version)", $0.deleted ? "yes" : ""] },
                    styles: [style.key, style.version, style.dim]))
        }
    }
}

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an agent's keys with a prefix and their values.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key prefix.") var prefix: String = ""
    @Option(help: "As of commit_ts S.") var at: UInt64?
    @Option(help: "As of a time (RFC 3339): the agent as it was then.") var asOf: String?

    func run() async throws {
        let point = try ReadPoint(at: self.at, asOf: self.asOf)
        let (host, port) = try self.global.endpoint()
        let records = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.scan(
                    namespace: self.global.namespaceName, agentID: self.agent, prefix: self.prefix,
                    at: point, cursor: $0)
            }
        }
        let style = self.global.style
        if try self.global.format == .json {
            emit(JSONOutput.array(records.map { ModelJSON.record($0, namespace: self.global.namespaceName) }).text)
        } else if !records.isEmpty {
            emit(
                Render.table(
                    ["KEY", "VERSION", "COMMIT_TS", "VALUE"],
                    records.map { [$0.key, "\($0.version)", "\($0.commitTS)", $0.value?.text ?? ""] },
                    styles: [style.key, style.version, style.commitTS]))
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every version of a key, newest first.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String
    @Flag(help: "Also who made each change and why (the commit's actor and reason).") var reasons = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        // The commits' metadata is read only when it is shown.
        let entries = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            guard self.reasons else {
                return try await allPages {
                    try await client.history(
                        namespace: self.global.namespaceName, agentID: self.agent, key: self.key, cursor: $0)
                }.map { (record: $0, metadata: CommitMetadata()) }
            }
            return try await allPages {
                try await client.transitions(
                    namespace: self.global.namespaceName, agentID: self.agent, key: self.key, cursor: $0)
            }
        }
        let style = self.global.style
        if try self.global.format == .json {
            emit(
                JSONOutput.array(
                    entries.map { entry in
                        guard self.reasons,
                            case .object(var fields) = ModelJSON.record(
                                entry.record, namespace: self.global.namespaceName)
                        else { return ModelJSON.record(entry.record, namespace: self.global.namespaceName) }
                        fields.append(("actor", entry.metadata.actor.map { .string($0) } ?? .null))
                        fields.append(("reason", entry.metadata.reason.map { .string($0) } ?? .null))
                        return .object(fields)
                    }
                ).text)
        } else if !entries.isEmpty {
            let header = ["VERSION", "COMMIT_TS", "COMMITTED_AT", "VALUE"] + (self.reasons ? ["ACTOR", "REASON"] : [])
            emit(
                Render.table(
                    header,
                    entries.map { entry in
                        let record = entry.record
                        return [
                            "\(record.version)", "\(record.commitTS)", Render.time(record.committedAt),
                            record.deleted ? "(deleted)" : record.value?.text ?? "",
                        ] + (self.reasons ? [entry.metadata.actor ?? "-", entry.metadata.reason ?? "-"] : [])
                    }, styles: [style.version, style.commitTS, style.dim]))
        }
    }
}

struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the agents of the namespace (with --long, their records: name, status, counts).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only agents with this status (implies --long).") var status: String?
    @Flag(help: "Also deleted agents (implies --long).") var deleted = false
    @Flag(name: [.customShort("l"), .long], help: "Show each agent's record.") var long = false

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let namespace = self.global.namespaceName
        guard self.long || self.status != nil || self.deleted else {
            let agents = try await withStatehouseClient(
                host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
            ) { client in
                try await allPages { try await client.listAgents(namespace: namespace, cursor: $0) }
            }
            if try self.global.format == .json {
                emit(JSONOutput.array(agents.map { .string($0) }).text)
            } else if !agents.isEmpty {
                emit(agents.joined(separator: "\n"))
            }
            return
        }
        let records = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages {
                try await client.listAgentRecords(
                    namespace: namespace, status: self.status, includeDeleted: self.deleted, cursor: $0)
            }
        }
        if try self.global.format == .json {
            emit(JSONOutput.array(records.map(ModelJSON.agent)).text)
        } else if !records.isEmpty {
            emit(LifecycleRender.agentTable(records, style: self.global.style))
        }
    }
}

struct Namespaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List namespaces with the end of each log.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let heads = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await allPages { try await client.listNamespaces(cursor: $0) }
        }
        let style = self.global.style
        if try self.global.format == .json {
            emit(
                JSONOutput.array(
                    heads.map {
                        .object([
                            ("namespace", .string($0.namespace)), ("commit_ts", .int($0.commitTS)),
                            ("committed_at", ModelJSON.time($0.committedAt)), ("hash", .string($0.hash.hex)),
                        ])
                    }
                ).text)
        } else if !heads.isEmpty {
            emit(
                Render.table(
                    ["NAMESPACE", "COMMIT_TS", "LAST_COMMIT"],
                    heads.map { [$0.namespace, "\($0.commitTS)", Render.time($0.committedAt)] },
                    styles: [style.bold, style.commitTS]))
        }
    }
}

extension ReadPoint {
    /// The point of `--at N` or `--as-of TIME` (at most one), or the latest state.
    init(at: UInt64?, asOf: String?) throws {
        switch (at, asOf) {
        case (nil, nil): self = .latest
        case (let at?, nil): self = .commit(at)
        case (nil, let asOf?): self = .time(try TimeArgument.micros(asOf))
        case (.some, .some): throw UsageError("use only one of --version, --at and --as-of")
        }
    }
}

struct LedgerKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger-key",
        abstract: "Print the public key that signs the daemon's tree heads (PEM).",
        discussion: """
            Save it where verifiers can trust it (not from the daemon they check): 'statehousectl get --verify \
            --public-key FILE' and offline verifiers take it. --json prints the algorithm, key id and both forms.
            """
    )
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let format = try self.global.format
        let (host, port) = try self.global.endpoint()
        let key = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await client.ledgerKey()
        }
        if format == .json {
            emit(
                JSONOutput.object([
                    ("algorithm", .string("ed25519")), ("key_id", .string(key.keyID)),
                    ("public_key_hex", .string(EventHash.hex(key.rawRepresentation))), ("pem", .string(key.pem)),
                ]).text)
        } else {
            writeStandardOutput(key.pem)
            Terminal.standardError.note("key id \(key.keyID)")
        }
    }

    /// Reads a PEM public key file for --public-key.
    static func readPublicKey(_ path: String) throws -> LedgerPublicKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read the public key file \(path)")
        }
        do {
            return try LedgerPublicKey(pem: String(decoding: data, as: UTF8.self))
        } catch {
            throw UsageError("\(path): \(error)")
        }
    }
}
