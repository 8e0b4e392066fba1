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

    /// The next events, or `nil` at the end of the file. Each line is decoded where it lies in the read buffer
    /// (``StatehouseLedger/AuditBundle/decodeExportEvent(_:namespace:)``), not copied out first.
    func nextEvents(count: Int, namespace: String) throws -> [Event]? {
        var events: [Event] = []
        events.reserveCapacity(count)
        while events.count < count {
            let number = self.read + 2
            let event = try self.withNextLine { line -> Event in
                do { return try AuditBundle.decodeExportEvent(line, namespace: namespace) } catch {
                    throw UsageError("line \(number): \(error)")
                }
            }
            guard let event else { break }
            events.append(event)
            self.read += 1
        }
        return events.isEmpty ? nil : events
    }

    /// Calls `body` with the next line's bytes where they lie in the buffer; `nil` at the end of the file.
    private func withNextLine<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        guard let range = try self.nextLineRange() else { return nil }
        return try self.buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The next line; the buffer is read from an offset and compacted only when a new chunk is read, so a line costs
    /// its own length, not the buffer's.
    private func nextLine() throws -> [UInt8]? {
        try self.nextLineRange().map { Array(self.buffer[$0]) }
    }

    /// Where the next line lies in the buffer (its newline excluded), reading more of the file as needed.
    private func nextLineRange() throws -> Range<Int>? {
        while true {
            if let newline = self.buffer[self.offset...].firstIndex(of: 0x0A) {
                defer { self.offset = newline + 1 }
                return self.offset..<newline
            }
            if self.atEnd {
                guard self.offset < self.buffer.count else { return nil }
                defer { self.offset = self.buffer.count }
                return self.offset..<self.buffer.count
            }
            self.buffer.removeFirst(self.offset)
            self.offset = 0
            let chunk = self.handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { self.atEnd = true } else { self.buffer.append(contentsOf: chunk) }
        }
    }
}
