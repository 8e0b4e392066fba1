import Foundation
import StatehouseModel

/// A JSON value under construction; raw JSON text (stored values) is embedded as is, never re-encoded.
enum JSONOutput {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case raw(String)
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    var text: String {
        switch self {
        case .string(let value): return Self.quote(value)
        case .number(let value): return value
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .raw(let value): return value
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ text: String) -> String { JSONString.quoted(text) }

    static func int<T: BinaryInteger>(_ value: T) -> JSONOutput { .number("\(value)") }
}

enum Render {
    static func time(_ micros: Microseconds) -> String {
        micros > 0 ? RFC3339.text(micros) : "-"
    }

    /// A time in JSON: an RFC 3339 string, or null when there is none (a key never written).
    static func jsonTime(_ micros: Microseconds) -> JSONOutput {
        micros > 0 ? .string(self.time(micros)) : .null
    }

    static func record(_ record: StateRecord, namespace: String) -> JSONOutput {
        .object(
            [
                ("namespace", .string(namespace)),
                ("agent_id", .string(record.agentID)),
                ("key", .string(record.key)),
                ("value", record.value.map { .raw($0.text) } ?? .null),
                ("version", .int(record.version)),
                ("commit_ts", .int(record.commitTS)),
                ("committed_at", self.jsonTime(record.committedAt)),
                ("exists", .bool(record.exists)),
                ("deleted", .bool(record.deleted)),
            ] + (record.expiresAt.map { [("expires_at", self.jsonTime($0))] } ?? [])
                + (record.valueRemoved ? [("value_removed", .bool(true))] : []))
    }

    static func commit(_ result: CommitResult) -> JSONOutput {
        .object([
            ("namespace", .string(result.namespace)),
            ("txn_id", .string(result.txnID)),
            ("commit_ts", .int(result.commitTS)),
            ("committed_at", self.jsonTime(result.committedAt)),
            ("versions", .array(result.versions.map { .int($0) })),
            ("hash", .string(result.hash.hex)),
        ])
    }

    /// One event as JSON; `agentID` (a replay of one agent) is named at the top, as the original CLI's did.
    static func event(_ event: Event, agentID: String? = nil) -> JSONOutput {
        var metadata: [(String, JSONOutput)] = []
        if let actor = event.metadata.actor { metadata.append(("actor", .string(actor))) }
        if let reason = event.metadata.reason { metadata.append(("reason", .string(reason))) }
        if !event.metadata.tags.isEmpty {
            metadata.append(
                ("tags", .object(event.metadata.tags.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(
            [
                ("namespace", .string(event.namespace))
            ] + (agentID.map { [("agent_id", JSONOutput.string($0))] } ?? []) + [
                ("commit_ts", .int(event.commitTS)),
                ("txn_id", .string(event.txnID)),
                ("committed_at", self.jsonTime(event.committedAt)),
                (
                    "operations",
                    .array(
                        event.operations.map { operation in
                            .object(
                                [
                                    ("agent_id", .string(operation.agentID)),
                                    ("key", .string(operation.key)),
                                    ("op", .string(operation.kind == .put ? "put" : "delete")),
                                    ("value", operation.value.map { .raw($0.text) } ?? .null),
                                    ("version", .int(operation.version)),
                                ] + (operation.expiresAt.map { [("expires_at", self.jsonTime($0))] } ?? [])
                                    + (operation.removedValueDigest.map {
                                        [("value_removed", .bool(true)), ("value_digest", .string($0.hex))]
                                    } ?? []))
                        })
                ),
                ("metadata", .object(metadata)),
                ("prev_hash", .string(event.prevHash.hex)),
                ("hash", .string(event.hash.hex)),
            ])
    }

    /// Aligned columns for text output; `styles` colour the cells of each column (not the header) after padding.
    static func table(_ header: [String], _ rows: [[String]], styles: [((String) -> String)?] = []) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return all.enumerated().map { rowIndex, row in
            row.enumerated().map { index, cell in
                let padded =
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                guard rowIndex > 0, index < styles.count, let style = styles[index] else { return padded }
                return style(padded)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Parses RFC 3339 times for `--as-of`, `--since` and `--until`.
enum TimeArgument {
    static func micros(_ text: String) throws -> Microseconds {
        if let micros = RFC3339.micros(text) { return micros }
        throw UsageError("'\(text)' is not an RFC 3339 time (for example 2026-11-22T10:00:00Z)")
    }
}

/// A usage problem found after parsing (exit code 2).
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Follows a listing's cursors to the end.
func allPages<Item>(_ read: (String?) async throws -> Page<Item>) async throws -> [Item] {
    var items: [Item] = []
    var cursor: String?
    repeat {
        let page = try await read(cursor)
        items += page.items
        cursor = page.nextCursor
    } while cursor != nil
    return items
}
