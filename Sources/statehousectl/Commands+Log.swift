import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StatehouseClient
import StatehouseCore

/// Writes a line to standard output at once (no buffering), so that streams show up as they happen.
///
/// A reader that goes away (`statehousectl replay | head`) ends the command quietly, as it does for other Unix tools,
/// instead of failing on the closed pipe.
func emit(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                exit(errno == EPIPE ? 0 : 1)
            }
            offset += written
        }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print committed events in order (JSON lines with -o json).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent's operations.") var agent: String?
    @Option(help: "First commit_ts.") var from: UInt64?
    @Option(help: "Last commit_ts.") var to: UInt64?
    @Option(help: "Only events committed at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only events committed at or before this time (RFC 3339).") var until: String?

    func run() async throws {
        let filter = LogFilter(
            namespace: self.global.namespace,
            agentID: self.agent,
            fromCommitTS: self.from,
            toCommitTS: self.to,
            since: try self.since.map(TimeArgument.micros),
            until: try self.until.map(TimeArgument.micros)
        )
        let (host, port) = try self.global.endpoint()
        let json = self.global.output == .json
        _ = try await withStatehouseClient(host: host, port: port) { client in
            try await client.replay(filter) { events in
                for try await event in events { emit(json ? Render.event(event).text : Render.eventText(event)) }
            }
        }
    }
}

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow new commits until interrupted.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent's operations.") var agent: String?
    @Option(help: "Start at this commit_ts (default: only new commits).") var from: UInt64?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let json = self.global.output == .json
        _ = try await withStatehouseClient(host: host, port: port) { client in
            try await client.watch(namespace: self.global.namespace, agentID: self.agent, from: self.from) { events in
                for try await event in events { emit(json ? Render.event(event).text : Render.eventText(event)) }
            }
        }
    }
}

struct Dump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the current state as JSON lines, one key per line.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent.") var agent: String?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let namespace = self.global.namespace
        try await withStatehouseClient(host: host, port: port) { client in
            let agents: [String]
            if let agent = self.agent {
                agents = [agent]
            } else {
                agents = try await allPages { try await client.listAgents(namespace: namespace, cursor: $0) }
            }
            for agent in agents {
                var cursor: String?
                repeat {
                    let page = try await client.scan(namespace: namespace, agentID: agent, cursor: cursor)
                    for record in page.items { emit(Render.record(record, namespace: namespace).text) }
                    cursor = page.nextCursor
                } while cursor != nil
            }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the namespace's hash chain.",
        discussion: "Exits 1 and names the first bad commit_ts when the chain does not verify."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "First commit_ts.") var from: UInt64 = 1
    @Option(help: "Last commit_ts (default: the end of the log).") var to: UInt64?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let report = try await withStatehouseClient(host: host, port: port) {
            try await $0.verify(namespace: self.global.namespace, from: self.from, to: self.to)
        }
        if self.global.output == .json {
            print(JSONOutput.object([
                ("namespace", .string(report.namespace)), ("ok", .bool(report.isValid)),
                ("events_checked", .int(report.eventsChecked)),
                ("first_bad_commit_ts", report.firstBadCommitTS.map { .int($0) } ?? .null),
                ("reason", report.reason.map { .string($0) } ?? .null),
                ("head_commit_ts", .int(report.head.commitTS)), ("head_hash", .string(report.head.hash.hex)),
            ]).text)
        } else if report.isValid {
            print("ok: \(report.eventsChecked) events verified in namespace \(report.namespace); head commit_ts \(report.head.commitTS) hash \(report.head.hash.hex)")
        }
        if let bad = report.firstBadCommitTS {
            FileHandle.standardError.write(Data("statehousectl: history does not verify at commit_ts \(bad): \(report.reason ?? "")\n".utf8))
            throw ExitCode(1)
        }
    }
}
