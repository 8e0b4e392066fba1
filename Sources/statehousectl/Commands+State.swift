import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseCore

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that statehoused serves.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let status = try await withStatehouseClient(host: host, port: port) { try await $0.health() }
        print(self.global.output == .json ? JSONOutput.object([("status", .string(status))]).text : status)
    }
}

struct VersionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the daemon's version and git commit.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let (version, sha) = try await withStatehouseClient(host: host, port: port) { try await $0.version() }
        print(self.global.output == .json
            ? JSONOutput.object([("version", .string(version)), ("git_sha", .string(sha))]).text
            : "statehoused \(version) (\(sha))")
    }
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a JSON value to a key (one atomic commit).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String
    @Argument(help: "The value: one JSON text, for example '{\"step\":1}' or '\"text\"'.") var json: String
    @Option(help: "Commit only if the key's current version is this (0: only if it does not exist).")
    var expectVersion: UInt64?

    func run() async throws {
        let value: JSONValue
        do {
            value = try JSONValue(validating: self.json)
        } catch let error as StatehouseError {
            throw UsageError("\(error)")
        }
        var commit = AtomicCommit(namespace: self.global.namespace, operations: [.put(agentID: self.agent, key: self.key, value: value)])
        if let expected = self.expectVersion {
            commit.conditions = [.init(agentID: self.agent, key: self.key, expected: expected == 0 ? .absent : .version(expected))]
        }
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(host: host, port: port) { try await $0.commit(commit) }
        print(self.global.output == .json
            ? Render.commit(result).text
            : "committed commit_ts \(result.commitTS), version \(result.versions.first ?? 0)")
    }
}

struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a key (a tombstone version; history is kept).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let commit = AtomicCommit(namespace: self.global.namespace, operations: [.delete(agentID: self.agent, key: self.key)])
        let result = try await withStatehouseClient(host: host, port: port) { try await $0.commit(commit) }
        print(self.global.output == .json
            ? Render.commit(result).text
            : "deleted at commit_ts \(result.commitTS), version \(result.versions.first ?? 0)")
    }
}

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a key, latest or at a point in history.",
        discussion: "Exits 3 with 'not found' on standard error when the key does not exist there."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String
    @Option(help: "The key's version N.") var version: UInt64?
    @Option(help: "As of commit_ts S.") var at: UInt64?
    @Option(help: "As of a time (RFC 3339).") var asOf: String?

    func run() async throws {
        let points = [self.version != nil, self.at != nil, self.asOf != nil].filter { $0 }.count
        guard points <= 1 else { throw UsageError("use only one of --version, --at and --as-of") }
        let point: ReadPoint
        if let version = self.version {
            point = .version(version)
        } else if let at = self.at {
            point = .commit(at)
        } else if let asOf = self.asOf {
            point = .time(try TimeArgument.micros(asOf))
        } else {
            point = .latest
        }
        let (host, port) = try self.global.endpoint()
        let record = try await withStatehouseClient(host: host, port: port) {
            try await $0.get(namespace: self.global.namespace, agentID: self.agent, key: self.key, at: point)
        }
        if self.global.output == .json {
            print(Render.record(record, namespace: self.global.namespace).text)
        } else if let value = record.value {
            print(value.text)
            FileHandle.standardError.write(Data("version \(record.version), commit_ts \(record.commitTS), \(Render.time(record.committedAt))\n".utf8))
        }
        if !record.exists {
            FileHandle.standardError.write(Data("not found\n".utf8))
            throw ExitCode(3)
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
        let entries = try await withStatehouseClient(host: host, port: port) { client in
            try await allPages { try await client.listKeys(namespace: self.global.namespace, agentID: self.agent, prefix: self.prefix,
                                                     includeDeleted: self.includeDeleted, cursor: $0) }
        }
        if self.global.output == .json {
            print(JSONOutput.array(entries.map {
                .object([("key", .string($0.key)), ("version", .int($0.version)), ("deleted", .bool($0.deleted))])
            }).text)
        } else if !entries.isEmpty {
            print(Render.table(["KEY", "VERSION", "DELETED"], entries.map { [$0.key, "\($0.version)", $0.deleted ? "yes" : ""] }))
        }
    }
}

struct Scan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an agent's keys with a prefix and their values.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key prefix.") var prefix: String = ""
    @Option(help: "As of commit_ts S.") var at: UInt64?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let point: ReadPoint = self.at.map { .commit($0) } ?? .latest
        let records = try await withStatehouseClient(host: host, port: port) { client in
            try await allPages { try await client.scan(namespace: self.global.namespace, agentID: self.agent, prefix: self.prefix,
                                                 at: point, cursor: $0) }
        }
        if self.global.output == .json {
            print(JSONOutput.array(records.map { Render.record($0, namespace: self.global.namespace) }).text)
        } else if !records.isEmpty {
            print(Render.table(["KEY", "VERSION", "COMMIT_TS", "VALUE"],
                               records.map { [$0.key, "\($0.version)", "\($0.commitTS)", $0.value?.text ?? ""] }))
        }
    }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every version of a key, newest first.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Argument(help: "Key.") var key: String

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let versions = try await withStatehouseClient(host: host, port: port) { client in
            try await allPages { try await client.history(namespace: self.global.namespace, agentID: self.agent, key: self.key, cursor: $0) }
        }
        if self.global.output == .json {
            print(JSONOutput.array(versions.map { Render.record($0, namespace: self.global.namespace) }).text)
        } else if !versions.isEmpty {
            print(Render.table(["VERSION", "COMMIT_TS", "COMMITTED_AT", "VALUE"], versions.map {
                ["\($0.version)", "\($0.commitTS)", Render.time($0.committedAt), $0.deleted ? "(deleted)" : $0.value?.text ?? ""]
            }))
        }
    }
}

struct Agents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the agents of the namespace.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let agents = try await withStatehouseClient(host: host, port: port) { client in
            try await allPages { try await client.listAgents(namespace: self.global.namespace, cursor: $0) }
        }
        print(self.global.output == .json ? JSONOutput.array(agents.map { .string($0) }).text : agents.joined(separator: "\n"))
    }
}

struct Namespaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List namespaces with the end of each log.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let heads = try await withStatehouseClient(host: host, port: port) { client in
            try await allPages { try await client.listNamespaces(cursor: $0) }
        }
        if self.global.output == .json {
            print(JSONOutput.array(heads.map {
                .object([("namespace", .string($0.namespace)), ("commit_ts", .int($0.commitTS)),
                         ("committed_at", .string(Render.time($0.committedAt))), ("hash", .string($0.hash.hex))])
            }).text)
        } else if !heads.isEmpty {
            print(Render.table(["NAMESPACE", "COMMIT_TS", "LAST_COMMIT"], heads.map { [$0.namespace, "\($0.commitTS)", Render.time($0.committedAt)] }))
        }
    }
}
