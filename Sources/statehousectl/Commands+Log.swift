import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How `replay`, `tail` and `inspect` print events: pretty lines (text) or one JSON object per event.
struct EventPrinter {
    let format: OutputFormat
    let verbose: Bool
    let style: Style
    /// Named in each JSON event when the output is one agent's.
    let agentID: String?

    /// The lines of one event; in text each operation is one entry (two with `--verbose`: its payload line).
    func entries(_ event: Event) -> [String] {
        switch self.format {
        case .json:
            return [ModelJSON.event(event, agentID: self.agentID).text]
        case .text:
            guard self.verbose else { return PrettyFormat.lines(event, verbose: false, style: self.style) }
            // Keep a payload line with its header: one entry per operation.
            var entries: [String] = []
            for line in PrettyFormat.lines(event, verbose: true, style: self.style) {
                if line.hasPrefix("  payload: "), let last = entries.popLast() {
                    entries.append(last + "\n" + line)
                } else {
                    entries.append(line)
                }
            }
            return entries
        }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print committed events in order: pretty lines, or JSON lines with --json.",
        discussion: """
            One line per operation: TIME  agent=AGENT  OP  key=KEY  v=VERSION  SUMMARY (docs/api.md, "The pretty \
            format"); --verbose adds the transaction, the commit_ts and the whole value. With --json, one event per \
            line.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent's operations.") var agent: String?
    @Option(name: [.customLong("from"), .customLong("start-ts")], help: "First commit_ts.") var from: UInt64?
    @Option(name: [.customLong("to"), .customLong("end-ts")], help: "Last commit_ts.") var to: UInt64?
    @Option(help: "Only events committed at or after this time (RFC 3339).") var since: String?
    @Option(help: "Only events committed at or before this time (RFC 3339).") var until: String?
    @Option(help: "Only operations on keys with this prefix.") var keyPrefix: String?
    @Option(help: "Print at most this many lines (operations; events with --json).") var limit: Int?
    @Flag(help: "Add the transaction id, the commit_ts and the whole value of each operation.") var verbose = false

    func validate() throws {
        if let limit = self.limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        let filter = LogFilter(
            namespace: self.global.namespaceName,
            agentID: self.agent,
            keyPrefix: self.keyPrefix,
            fromCommitTS: self.from,
            toCommitTS: self.to,
            since: try self.since.map(TimeArgument.micros),
            until: try self.until.map(TimeArgument.micros)
        )
        let printer = EventPrinter(
            format: try self.global.format, verbose: self.verbose, style: self.global.style,
            agentID: self.agent)
        let limit = self.limit ?? Int.max
        let (host, port) = try self.global.endpoint()
        guard limit > 0 else { return }
        _ = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await client.replay(filter) { events in
                var printed = 0
                for try await event in events {
                    for entry in printer.entries(event) {
                        emit(entry)
                        printed += 1
                        if printed >= limit { return }
                    }
                }
            }
        }
    }
}

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the last lines of the log; with -f, keep following new commits.",
        discussion: """
            As tail(1): `tail AGENT -n 20` prints the agent's last 20 operations and exits; `-f` then follows new \
            commits until interrupted, reconnecting (without gaps or repeats) when the daemon restarts. --from N \
            follows from commit_ts N. After `tail`, -n means --lines; give the namespace with --namespace (or -n \
            before the command).
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this agent's operations.") var agent: String?
    @Option(help: "How many of the last operations to print (events with --json); -n N after tail.") var lines = 10
    @Flag(name: [.short, .long], help: "Keep following new commits until interrupted.") var follow = false
    @Option(help: "Follow from this commit_ts (implies --follow; --lines is not used).") var from: UInt64?
    @Flag(help: "Add the transaction id, the commit_ts and the whole value of each operation.") var verbose = false
    @Option(help: "Seconds to keep reconnecting after the daemon goes away while following.")
    var reconnectTimeout: Double = 60

    func validate() throws {
        guard self.lines >= 0 else { throw ValidationError("--lines must be 0 or more") }
        guard self.reconnectTimeout >= 0 else { throw ValidationError("--reconnect-timeout must be 0 or more") }
    }

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let namespace = self.global.namespaceName
        let printer = EventPrinter(
            format: try self.global.format, verbose: self.verbose, style: self.global.style,
            agentID: self.agent)
        var next: CommitTS
        if let from = self.from {
            next = from
        } else {
            next = try await withStatehouseClient(
                host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
            ) { client in
                let head = try await client.head(namespace: namespace).commitTS
                for entry in try await self.lastEntries(client, head: head, printer: printer) { emit(entry) }
                return head + 1
            }
            guard self.follow else { return }
        }
        try await self.follow(from: &next, host: host, port: port, printer: printer)
    }

    /// The last `lines` entries of the log up to `head`, read backwards in growing windows so that a long log costs
    /// only its tail.
    func lastEntries(_ client: StatehouseClient, head: CommitTS, printer: EventPrinter) async throws -> [String] {
        guard self.lines > 0, head > 0 else { return [] }
        var window = CommitTS(max(self.lines, 64))
        while true {
            let low = head >= window ? head - window + 1 : 1
            let filter = LogFilter(
                namespace: self.global.namespaceName, agentID: self.agent, fromCommitTS: low, toCommitTS: head)
            let entries = try await client.replay(filter) { events in
                var entries: [String] = []
                for try await event in events { entries += printer.entries(event) }
                return entries
            }
            if entries.count >= self.lines || low == 1 { return Array(entries.suffix(self.lines)) }
            window = window.multipliedReportingOverflow(by: 4).overflow ? head : window * 4
        }
    }

    /// Follows the log from `next`, reconnecting after a lost connection and resuming right after the last event
    /// printed; gives up once the daemon has been unreachable for `--reconnect-timeout` seconds.
    func follow(from next: inout CommitTS, host: String, port: Int, printer: EventPrinter) async throws {
        let position = Atomic<UInt64>(next)
        let address = HostAndPort(host: host, port: port)
        var failingSince: ContinuousClock.Instant?
        var delay = Duration.milliseconds(100)
        while true {
            let established = Atomic<Bool>(false)
            do {
                try await withStatehouseClient(
                    host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
                ) { client in
                    try await client.watch(
                        namespace: self.global.namespaceName, agentID: self.agent,
                        from: position.load(ordering: .relaxed)
                    ) { events in
                        established.store(true, ordering: .relaxed)
                        for try await event in events {
                            for entry in printer.entries(event) { emit(entry) }
                            position.store(event.commitTS + 1, ordering: .relaxed)
                        }
                    }
                }
                // The daemon ended the stream (it is shutting down): reconnect.
            } catch let error as StatehouseError {
                switch error {
                case .unavailable, .subscriberTooSlow:
                    break  // reconnect below
                default:
                    throw error
                }
            }
            if established.load(ordering: .relaxed) {
                failingSince = nil  // it was connected: a new loss starts a new count
                delay = .milliseconds(100)
            }
            let now = ContinuousClock.now
            if let since = failingSince {
                if now - since > .milliseconds(Int64(self.reconnectTimeout * 1000)) {
                    next = position.load(ordering: .relaxed)
                    throw StatehouseError.unavailable(
                        "statehoused at \(address) has been unreachable for \(Int(self.reconnectTimeout)) s; "
                            + "stopped following at commit_ts \(next)"
                    )
                }
            } else {
                failingSince = now
                Terminal.standardError.note(
                    "statehousectl: lost the watch on \(address); reconnecting (resuming at commit_ts "
                        + "\(position.load(ordering: .relaxed)))"
                )
            }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(1))
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute the namespace's hash chain.",
        discussion: """
            Exits 1 and names the first bad commit_ts when the chain does not verify; exits 3 for a namespace \
            without commits.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "First commit_ts.") var from: UInt64 = 1
    @Option(help: "Last commit_ts (default: the end of the log).") var to: UInt64?

    func run() async throws {
        let (host, port) = try self.global.endpoint()
        let report = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) {
            try await $0.verify(namespace: self.global.namespaceName, from: self.from, to: self.to)
        }
        let style = self.global.style
        if try self.global.format == .json {
            emit(
                ModelJSON.verification(report).text)
        } else if report.isValid {
            emit(
                "\(style.good("ok")): \(report.eventsChecked) events verified in namespace \(report.namespace); "
                    + (report.eventsWithRemovedValues > 0
                        ? "\(report.eventsWithRemovedValues) of them hold values removed by retention, checked by "
                            + "their leaves; " : "")
                    + "head commit_ts \(style.commitTS("\(report.head.commitTS)")) hash \(report.head.hash.hex)")
        }
        if let bad = report.firstBadCommitTS {
            Terminal.standardError.failure(
                "statehousectl: history does not verify at commit_ts \(bad): \(report.reason ?? "")")
            throw ExitCode(ExitStatus.failure.rawValue)
        }
    }
}
