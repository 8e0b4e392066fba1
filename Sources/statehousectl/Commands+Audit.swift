import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseLedger
import StatehouseModel

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export an audit bundle, or verify one offline.",
        subcommands: [AuditExport.self, AuditVerify.self]
    )
}

struct AuditExport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract:
            "Write the events of a range with what proves them against a signed tree head, and the state at its end.",
        discussion: """
            The bundle is one JSON Lines file (docs/architecture.md, "Audit bundles") that 'statehousectl audit \\
            verify' or statehouse.audit.verify_bundle checks with no daemon, trusting only the public key. With \\
            --agent, that agent's events are given whole and the others as leaf hashes. Streamed: memory stays flat \\
            however many events.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "The bundle file to write.") var out: String
    @Option(help: "Only this agent's events whole (and its state).") var agent: String?
    @Option(help: "First commit_ts (default 1).") var from: UInt64?
    @Option(help: "Last commit_ts (default: the head).") var to: UInt64?
    @Option(help: "Start at the first event committed at or after this time (RFC 3339) instead of --from.")
    var since: String?
    @Option(help: "End at the last event committed at or before this time (RFC 3339) instead of --to.")
    var until: String?
    @Option(help: "An earlier bundle (or head JSON) whose head the new head must be proven to extend.")
    var sinceHead: String?
    @Option(
        help:
            "The commits of a run, from its start to its end, every event whole: its provenance records, its commits and whatever else the namespace committed meanwhile."
    )
    var run: String?
    @Option(
        help: ArgumentHelp(
            "With --run: the run whose provenance the advisory compares against (default: the agent's run that "
                + "started last before it).",
            valueName: "RUN"))
    var baseline: String?

    func run() async throws {
        guard self.baseline == nil || self.run != nil else { throw UsageError("--baseline needs --run") }
        guard self.from == nil || self.since == nil, self.to == nil || self.until == nil else {
            throw UsageError("use --from or --since, and --to or --until, not both")
        }
        guard
            self.run == nil
                || (self.from == nil && self.to == nil && self.since == nil && self.until == nil
                    && self.agent == nil)
        else {
            throw UsageError("--run sets the range itself: it takes no --from, --to, --since, --until or --agent")
        }
        let sinceTime = try self.since.map(TimeArgument.micros)
        let untilTime = try self.until.map(TimeArgument.micros)
        let namespace = self.global.namespaceName
        let (host, port) = try self.global.endpoint()
        let since = try self.sinceHead.map(Self.readHead)
        let sink = OutputSink(file: self.out)
        let progress = Progress("audit export")
        defer { sink.discard() }
        let counts = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let head = try await client.treeHead(namespace: namespace)
            let size = head.head.treeSize
            guard size > 0 else { throw StatehouseError.notFound("namespace '\(namespace)' has no commits") }
            // committed_at never decreases along a namespace's log, so a time bound is found by bisection.
            func committedAt(_ commitTS: CommitTS) async throws -> Microseconds {
                let page = try await client.readLog(
                    LogFilter(namespace: namespace, fromCommitTS: commitTS, toCommitTS: commitTS), limit: 1)
                guard let event = page.items.first else {
                    throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "event is missing")
                }
                return event.committedAt
            }
            /// The first commit_ts in 1…size + 1 whose event satisfies `isAfter` (size + 1 when none does).
            func firstWhere(_ isAfter: (Microseconds) -> Bool) async throws -> CommitTS {
                var low: CommitTS = 1
                var high: CommitTS = size + 1
                while low < high {
                    let middle = low + (high - low) / 2
                    if isAfter(try await committedAt(middle)) { high = middle } else { low = middle + 1 }
                }
                return low
            }
            var from = self.from ?? 1
            var to = self.to ?? size
            if let runID = self.run {
                // The run's start commit (its provenance) through its end (or the head while it runs).
                let run = try await client.run(namespace: namespace, id: runID, commitLimit: 1).run
                from = run.startCommitTS
                to = run.endCommitTS ?? size
            }
            if let sinceTime { from = try await firstWhere { $0 >= sinceTime } }
            if let untilTime { to = try await firstWhere { $0 > untilTime } - 1 }
            if (sinceTime != nil || untilTime != nil) && (from > to || to == 0) {
                throw StatehouseError.notFound(
                    "no event of namespace '\(namespace)' was committed between \(self.since ?? "the start") and "
                        + "\(self.until ?? "now")")
            }
            guard from >= 1, from <= to, to <= size else {
                throw UsageError("the range \(from)…\(to) is not within the log's commit_ts 1…\(size)")
            }
            let key = try await client.ledgerKey()
            var sinceProof: [EventHash]?
            if let since {
                guard since.head.namespace == namespace, since.head.treeSize <= size else {
                    throw UsageError(
                        "the earlier head is of namespace '\(since.head.namespace)' size \(since.head.treeSize); "
                            + "this log is '\(namespace)' with \(size) events")
                }
                sinceProof = try await client.consistencyProof(
                    namespace: namespace, oldSize: since.head.treeSize, newSize: size
                ).hashes
            }
            let manifest = AuditBundle.Manifest(
                namespace: namespace, agentID: self.agent, from: from, to: to, head: head, publicKey: key.pem,
                prefix: try await client.treePrefix(namespace: namespace, size: from - 1),
                consistency: try await client.consistencyProof(namespace: namespace, oldSize: to, newSize: size).hashes,
                sinceHead: since, sinceConsistency: sinceProof, runID: self.run)
            try Self.write(AuditBundle.Line(manifest: manifest), to: sink)
            var events = 0
            var leaves = 0
            try await forEachLogPage(client: client, namespace: namespace, from: from, through: to) { page in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(page.count * 512)
                for event in page {
                    let leafHash = LeafEncoding.leafHash(event)
                    if let agent = self.agent, !event.operations.contains(where: { $0.agentID == agent }) {
                        bytes.append(
                            contentsOf: AuditBundle.encode(
                                AuditBundle.Line(
                                    leaf: AuditBundle.LeafLine(commit_ts: event.commitTS, hash: leafHash.hex))))
                        leaves += 1
                    } else {
                        AuditBundle.appendEventLine(event, leafHash: leafHash, to: &bytes)
                        events += 1
                    }
                }
                try sink.write(bytes: bytes)
                progress.update(events + leaves, unit: "events")
            }
            guard events + leaves == Int(to - from + 1) else {
                throw StatehouseError.dataCorruption(
                    commitTS: from + UInt64(events + leaves), reason: "the log ended before commit_ts \(to)")
            }
            // The state at the end of the range, and the events before the range that wrote it (witnesses).
            let agents: [String]
            if let agent = self.agent {
                agents = [agent]
            } else {
                agents = try await allPages {
                    try await client.listAgents(namespace: namespace, cursor: $0, includeReserved: true)
                }
            }
            // Witnesses come before the state lines they prove, so a verifier checks each line as it reads it; the
            // state is held here meanwhile (one entry per live key, not per event).
            var states: [AuditBundle.StateLine] = []
            var witnessed: Set<CommitTS> = []
            var witnesses: [AuditBundle.WitnessLine] = []
            for agent in agents {
                let records = try await allPages {
                    try await client.scan(namespace: namespace, agentID: agent, at: .commit(to), cursor: $0)
                }
                for record in records {
                    guard let value = record.value else { continue }
                    states.append(
                        AuditBundle.StateLine(
                            agent_id: agent, key: record.key, version: record.version, commit_ts: record.commitTS,
                            value: value.text))
                    if record.commitTS < from, witnessed.insert(record.commitTS).inserted {
                        let page = try await client.readLog(
                            LogFilter(namespace: namespace, fromCommitTS: record.commitTS, toCommitTS: record.commitTS),
                            limit: 1)
                        guard let event = page.items.first else {
                            throw StatehouseError.dataCorruption(commitTS: record.commitTS, reason: "event is missing")
                        }
                        let proof = try await client.inclusionProof(
                            namespace: namespace, commitTS: record.commitTS, treeSize: size)
                        witnesses.append(
                            AuditBundle.WitnessLine(event: AuditBundle.EventLine(event), proof: proof.hashes.map(\.hex))
                        )
                    }
                }
            }
            for witness in witnesses { try Self.write(AuditBundle.Line(witness: witness), to: sink) }
            for state in states { try Self.write(AuditBundle.Line(state: state), to: sink) }
            var runLine: AuditBundle.RunLine?
            if let runID = self.run {
                // Built from the state lines just written, as a verifier rebuilds it from the state it proved.
                let baseline = try self.baseline ?? AuditBundle.previousRun(of: runID, state: states)
                let line = try AuditBundle.runLine(runID: runID, baselineRunID: baseline, state: states)
                try Self.write(AuditBundle.Line(run: line), to: sink)
                runLine = line
            }
            try Self.write(
                AuditBundle.Line(
                    end: AuditBundle.EndLine(
                        events: events, leaves: leaves, state: states.count, witnesses: witnesses.count)),
                to: sink)
            return (
                events: events, leaves: leaves, state: states.count, from: from, to: to, head: head, run: runLine
            )
        }
        progress.finish()
        try sink.commit()
        Terminal.standardError.note(
            "wrote \(self.out): events \(counts.from)…\(counts.to) (\(counts.events) whole, \(counts.leaves) as leaf "
                + "hashes), \(counts.state) state entries, proven against the signed head of tree size "
                + "\(counts.head.head.treeSize) (key \(counts.head.keyID))")
        if let run = counts.run { Terminal.standardError.note(Self.describe(run)) }
    }

    /// One line on a run line: its baseline, score and findings.
    static func describe(_ run: AuditBundle.RunLine) -> String {
        var text = "run \(run.runID): "
        if let baseline = run.baselineRunID, let score = run.score {
            text += "advisory against run \(baseline): risk \(score)/100"
            text += run.advisoryRules.isEmpty ? "" : " (\(run.advisoryRules.joined(separator: ", ")))"
        } else {
            text += "no earlier run to compare with"
        }
        text += "; replay plan: "
        text += run.planRules.isEmpty ? "no findings" : run.planRules.joined(separator: ", ")
        return text
    }

    private static func write(_ line: AuditBundle.Line, to sink: OutputSink) throws {
        try sink.write(bytes: AuditBundle.encode(line))
    }

    /// The head of an earlier bundle (its first line) or a head JSON object.
    static func readHead(_ path: String) throws -> SignedTreeHead {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read \(path)")
        }
        let firstLine = Array(data.split(separator: 0x0A, maxSplits: 1).first ?? data[...])
        if let line = try? firstLine.withUnsafeBytes(AuditBundle.decodeLine),
            let head = line.manifest?.head.signedTreeHead
        {
            return head
        }
        let trimmed = Array(data).reversed().drop(while: { $0 == 0x0A || $0 == 0x0D }).reversed()
        if let head = try? Array(trimmed).withUnsafeBytes(AuditBundle.decodeHead), let signed = head.signedTreeHead {
            return signed
        }
        throw UsageError("\(path) is neither an audit bundle nor a signed head")
    }
}

struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check an audit bundle with no daemon, trusting only a public key.",
        discussion: """
            Exits 0 and prints what was proven, or exits 1 naming the check that failed, the line and the commit_ts.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The bundle file.") var file: String
    @Option(help: "The trusted ledger public key (PEM), e.g. saved from 'statehousectl ledger-key'.")
    var publicKey: String

    func run() async throws {
        let key = try LedgerKeyCommand.readPublicKey(self.publicKey)
        guard let handle = FileHandle(forReadingAtPath: self.file) else { throw UsageError("cannot read \(self.file)") }
        defer { try? handle.close() }
        var verifier = AuditBundleVerifier(publicKey: key)
        let progress = Progress("audit verify")
        let report: AuditBundleVerifier.Report
        do {
            // Lines are split on 0x0A only (a value may hold U+2028) and checked straight from the read buffer.
            var buffer: [UInt8] = []
            var lines = 0
            var atEnd = false
            while !atEnd {
                let chunk = handle.readData(ofLength: 4 << 20)
                atEnd = chunk.isEmpty
                buffer.append(contentsOf: chunk)
                var consumed = 0
                var failure: LedgerVerificationError?
                buffer.withUnsafeBytes { bytes in
                    while consumed < bytes.count {
                        let rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
                        guard let newline = rest.firstIndex(of: 0x0A) else {
                            guard atEnd else { return }
                            do { try verifier.consume(bytes: rest) } catch {
                                failure = (error as? LedgerVerificationError) ?? LedgerVerificationError("\(error)")
                            }
                            consumed = bytes.count
                            return
                        }
                        do {
                            try verifier.consume(bytes: UnsafeRawBufferPointer(rebasing: rest[..<newline]))
                        } catch {
                            failure = (error as? LedgerVerificationError) ?? LedgerVerificationError("\(error)")
                            return
                        }
                        consumed += newline - rest.startIndex + 1
                        lines += 1
                    }
                }
                if let failure { throw failure }
                buffer.removeFirst(consumed)
                progress.update(lines, unit: "lines")
            }
            report = try verifier.finish()
        } catch {
            progress.finish()
            Terminal.standardError.failure("audit bundle does not verify: \(error)")
            throw ExitCode(ExitStatus.failure.rawValue)
        }
        progress.finish()
        let format = try self.global.format
        if format == .json {
            emit(
                JSONOutput.object([
                    ("ok", .bool(true)), ("namespace", .string(report.namespace)),
                    ("agent_id", report.agentID.map { .string($0) } ?? .null),
                    ("from_commit_ts", .int(report.fromCommitTS)), ("to_commit_ts", .int(report.toCommitTS)),
                    ("tree_size", .int(report.head.treeSize)), ("root_hash", .string(report.head.rootHash.hex)),
                    ("events", .int(report.events)), ("leaves", .int(report.leaves)),
                    ("state_entries", .int(report.stateEntries)), ("state_complete", .bool(report.stateComplete)),
                    (
                        "run",
                        report.run.map { run in
                            .object([
                                ("run_id", .string(run.runID)),
                                ("baseline_run_id", run.baselineRunID.map { .string($0) } ?? .null),
                                ("score", run.score.map { .int($0) } ?? .null),
                                ("advisory_rules", .array(run.advisoryRules.map { .string($0) })),
                                ("replay_plan_rules", .array(run.planRules.map { .string($0) })),
                            ])
                        } ?? .null
                    ),
                ]).text)
        } else {
            emit(
                "ok: events \(report.fromCommitTS)…\(report.toCommitTS) of namespace '\(report.namespace)' "
                    + "(\(report.events) whole\(report.agentID.map { ", agent '\($0)'" } ?? ""), \(report.leaves) as "
                    + "leaf hashes) are in the tree of size \(report.head.treeSize) signed by key \(key.keyID); "
                    + "\(report.stateEntries) state entries "
                    + (report.stateComplete ? "are exactly the state after them" : "were written by proven events"))
            if let run = report.run {
                emit("ok: the run line follows from the proven provenance; " + AuditExport.describe(run))
            }
        }
    }
}
