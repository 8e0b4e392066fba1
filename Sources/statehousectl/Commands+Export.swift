import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseLedger
import StatehouseModel

/// `export`: a namespace's whole log as JSON lines with its hash chain; `import` replays such a file.
///
/// The file: a first line `{"export":{"format":"statehouse-export","head_commit_ts":N,"head_hash":"…",
/// "namespace":"…","version":1}}`, then one line per event in commit_ts order, written like an audit bundle's event
/// line (docs/architecture.md, "Audit bundles") with `hash` and `prev_hash` in place of `leaf_hash`.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the namespace's log (every event, with its hashes) as JSON lines, to move or keep it.",
        discussion: "Streamed: memory stays flat however long the log. Replay it into a new namespace with import."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "The file to write.") var out: String

    func run() async throws {
        let namespace = self.global.namespaceName
        let (host, port) = try self.global.endpoint()
        let sink = OutputSink(file: self.out)
        defer { sink.discard() }
        let progress = Progress("export")
        let head = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let head = try await client.head(namespace: namespace)
            guard head.commitTS > 0 else { throw StatehouseError.notFound("namespace '\(namespace)' has no commits") }
            try sink.write(
                JSONOutput.object([
                    (
                        "export",
                        .object([
                            ("format", .string("statehouse-export")), ("head_commit_ts", .int(head.commitTS)),
                            ("head_hash", .string(head.hash.hex)), ("namespace", .string(namespace)),
                            ("version", .int(1)),
                        ])
                    )
                ]).text + "\n")
            var written = 0
            try await forEachLogPage(client: client, namespace: namespace, from: 1, through: head.commitTS) { page in
                var bytes: [UInt8] = []
                bytes.reserveCapacity(page.count * 512)
                for event in page { AuditBundle.appendExportLine(event, to: &bytes) }
                try sink.write(bytes: bytes)
                written += page.count
                progress.update(written, of: Int(head.commitTS), unit: "events")
            }
            guard written == Int(head.commitTS) else {
                throw StatehouseError.dataCorruption(commitTS: UInt64(written + 1), reason: "the log ended early")
            }
            return head
        }
        progress.finish()
        try sink.commit()
        Terminal.standardError.note("wrote \(self.out): \(head.commitTS) events of namespace '\(namespace)'")
    }
}

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay an exported log into a namespace with no commits, checking its hash chain as it goes.",
        discussion: """
            The namespace (-n) gets the same commit_ts, versions, values, metadata and commit times; its hashes differ \\
            (the namespace is part of each hash) and its transaction ids are new. An event that does not follow the \\
            chain stops the import (exit 1, naming its commit_ts) before its batch of 1,000 is written; earlier \\
            batches stay, so import again into a new namespace.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file written by export.") var file: String

    func run() async throws {
        guard let handle = FileHandle(forReadingAtPath: self.file) else { throw UsageError("cannot read \(self.file)") }
        let reader = ExportReader(handle: handle)
        let header = try reader.header(file: self.file)
        let (host, port) = try self.global.endpoint()
        let progress = Progress("import")
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            try await client.importLog(into: self.global.namespaceName, from: header.namespace) {
                let batch = try reader.nextEvents(count: 1000, namespace: header.namespace)
                progress.update(reader.read, of: Int(header.head), unit: "events")
                return batch
            }
        }
        progress.finish()
        guard result.events == Int(header.head) else {
            throw StatehouseError.dataCorruption(
                commitTS: UInt64(result.events + 1),
                reason: "the file ends after \(result.events) of the \(header.head) events its header announces")
        }
        emit(
            "imported \(result.events) events of '\(header.namespace)' into '\(self.global.namespaceName)': head "
                + "commit_ts \(result.head.commitTS)")
    }
}

/// Reads an export file line by line (split on 0x0A only: a value may hold U+2028).
final class ExportReader: @unchecked Sendable {  // safe: used by one task at a time (the import's producer)
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var offset = 0
    private var atEnd = false
    private(set) var read = 0

    init(handle: FileHandle) { self.handle = handle }

    func header(file: String) throws -> (namespace: String, head: UInt64) {
        guard let line = try self.nextLine(),
            let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            let export = object["export"] as? [String: Any], export["format"] as? String == "statehouse-export",
            let namespace = export["namespace"] as? String, let head = export["head_commit_ts"] as? Int
        else { throw UsageError("\(file) is not a Statehouse export (its first line is not an export header)") }
        return (namespace, UInt64(head))
    }

    /// The next events, or `nil` at the end of the file.
    func nextEvents(count: Int, namespace: String) throws -> [Event]? {
        var events: [Event] = []
        while events.count < count, let line = try self.nextLine() {
            let number = self.read + 2
            let decoded = try line.withUnsafeBytes { bytes -> AuditBundle.Line in
                do { return try AuditBundle.decodeLine(bytes) } catch {
                    throw UsageError("line \(number) is not an event line: \(error)")
                }
            }
            guard let event = decoded.event, let hash = decoded.event?.hash.flatMap(Self.hash),
                let previous = event.prev_hash.flatMap(Self.hash)
            else { throw UsageError("line \(number) is not an event line with hash and prev_hash") }
            events.append(
                Event(
                    namespace: namespace, commitTS: event.commit_ts, txnID: event.txn_id,
                    committedAt: event.committed_at_micros,
                    operations: try event.operations.map { operation in
                        guard operation.kind == "put" || operation.kind == "delete" else {
                            throw UsageError("line \(number): operation kind '\(operation.kind)' is not put or delete")
                        }
                        guard operation.value_digest == nil else {
                            throw UsageError(
                                "line \(number) (commit_ts \(event.commit_ts)): the value of agent '\(operation.agent_id)' key "
                                    + "'\(operation.key)' version \(operation.version) was removed by the retention policy "
                                    + "before the export; a log can only be imported whole")
                        }
                        return AppliedOperation(
                            agentID: operation.agent_id, key: operation.key,
                            kind: operation.kind == "put" ? .put : .delete,
                            value: operation.value.map { JSONValue(trusted: Array($0.utf8)) },
                            version: operation.version, expiresAt: operation.expires_at_micros)
                    },
                    metadata: CommitMetadata(
                        actor: event.metadata?.actor, reason: event.metadata?.reason, tags: event.metadata?.tags ?? [:]),
                    prevHash: previous, hash: hash))
            self.read += 1
        }
        return events.isEmpty ? nil : events
    }

    /// A 64-digit hexadecimal hash (either case); `nil` for anything else.
    private static func hash(_ hex: String) -> EventHash? {
        var hex = hex
        return hex.withUTF8 { digits -> EventHash? in
            guard digits.count == 64 else { return nil }
            var bytes = [UInt8](repeating: 0, count: 32)
            for index in 0..<32 {
                guard let high = Self.nibble(digits[2 * index]), let low = Self.nibble(digits[2 * index + 1]) else {
                    return nil
                }
                bytes[index] = high << 4 | low
            }
            return EventHash(bytes: bytes)
        }
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }

    /// The next line; the buffer is read from an offset and compacted only when a new chunk is read, so a line costs
    /// its own length, not the buffer's.
    private func nextLine() throws -> [UInt8]? {
        while true {
            if let newline = self.buffer[self.offset...].firstIndex(of: 0x0A) {
                let line = Array(self.buffer[self.offset..<newline])
                self.offset = newline + 1
                return line
            }
            if self.atEnd {
                guard self.offset < self.buffer.count else { return nil }
                defer { self.offset = self.buffer.count }
                return Array(self.buffer[self.offset...])
            }
            self.buffer.removeFirst(self.offset)
            self.offset = 0
            let chunk = self.handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { self.atEnd = true } else { self.buffer.append(contentsOf: chunk) }
        }
    }
}
