import Foundation
public import StatehouseModel

/// Export lines (`statehousectl export`, ``AuditBundle/appendExportLine(_:to:)``) read back into events, for
/// `statehousectl import`.
///
/// Two readers that must agree (`ExportEventDecoderTests`):
/// - a direct one for the layout the export writes (compact, member names in byte order): it reads each field in place
///   into the event, with no JSON tree and no strings for member names, numbers or hashes;
/// - the generic one (``decodeLine(_:)``, any valid JSON object with members in any order and any whitespace).
///
/// The direct reader gives up at the first byte that departs from the written layout (a member in another place,
/// whitespace, an escaped hash, a value digest, anything malformed) and the line is read again by the generic one,
/// which accepts it or names what is wrong. So any file the generic reader accepts imports the same, and a file as
/// export writes it costs the direct reader only: building the tree was about half of the import client's CPU.
extension AuditBundle {
    /// The event of an export line (without its newline), in namespace `namespace`.
    ///
    /// - Throws: a description of what makes the line unusable: not an event line, no `hash` or `prev_hash`, an
    ///   operation neither put nor delete, a value removed by retention before the export.
    public static func decodeExportEvent(_ bytes: UnsafeRawBufferPointer, namespace: String) throws -> Event {
        var reader = ExportLineReader(parser: Parser(bytes: bytes))
        if let event = reader.event(namespace: namespace) { return event }
        return try self.genericExportEvent(bytes, namespace: namespace)
    }

    /// The generic reading of an export line: any JSON object whose `event` member has `hash` and `prev_hash`.
    static func genericExportEvent(_ bytes: UnsafeRawBufferPointer, namespace: String) throws -> Event {
        let line: Line
        do { line = try self.decodeLine(bytes) } catch { throw CodecError("not an event line: \(error)") }
        guard let event = line.event, let hash = event.hash.flatMap({ Hex.hash($0, anyCase: true) }),
            let previous = event.prev_hash.flatMap({ Hex.hash($0, anyCase: true) })
        else { throw CodecError("not an event line with hash and prev_hash") }
        let operations = try event.operations.map { operation in
            guard operation.kind == "put" || operation.kind == "delete" else {
                throw CodecError("operation kind '\(operation.kind)' is not put or delete")
            }
            guard operation.value_digest == nil else {
                throw CodecError(
                    "commit_ts \(event.commit_ts): the value of agent '\(operation.agent_id)' key '\(operation.key)' "
                        + "version \(operation.version) was removed by the retention policy before the export; a log "
                        + "can only be imported whole")
            }
            return AppliedOperation(
                agentID: operation.agent_id, key: operation.key, kind: operation.kind == "put" ? .put : .delete,
                value: operation.value.map { JSONValue(trusted: Array($0.utf8)) }, version: operation.version,
                expiresAt: operation.expires_at_micros)
        }
        return Event(
            namespace: namespace, commitTS: event.commit_ts, txnID: event.txn_id,
            committedAt: event.committed_at_micros, operations: operations,
            metadata: CommitMetadata(
                actor: event.metadata?.actor, reason: event.metadata?.reason, tags: event.metadata?.tags ?? [:]),
            prevHash: previous, hash: hash)
    }
}

/// The direct reader of ``AuditBundle/decodeExportEvent(_:namespace:)``: the export's own layout, byte by byte;
/// `nil` as soon as the line departs from it (the generic reader then decides).
///
/// The layout (`?` marks what is written only when present):
/// `{"event":{"commit_ts":N,"committed_at_micros":N,"hash":"HEX",`
/// then `"metadata":{"actor":S,"reason":S,"tags":{…}},`?
/// then `"operations":[OP,…],"prev_hash":"HEX","txn_id":S}}`, where OP is
/// `{"agent_id":S,"expires_at_micros":N?,"key":S,"kind":"put"|"delete","value":S?,"version":N}`.
struct ExportLineReader {
    var parser: AuditBundle.Parser

    mutating func event(namespace: String) -> Event? {
        guard self.literal(#"{"event":{"commit_ts":"#), let commitTS = self.unsigned(),
            self.literal(#","committed_at_micros":"#), let committedAt = self.signed(),
            self.literal(#","hash":"#), let hash = self.hash(), self.literal(",")
        else { return nil }
        var metadata = CommitMetadata()
        if self.literal(#""metadata":{"#) {
            guard let read = self.metadata() else { return nil }
            metadata = read
        }
        guard self.literal(#""operations":["#) else { return nil }
        var operations: [AppliedOperation] = []
        if !self.literal("]") {
            repeat {
                guard let operation = self.operation() else { return nil }
                operations.append(operation)
            } while self.literal(",")
            guard self.literal("]") else { return nil }
        }
        guard self.literal(#","prev_hash":"#), let previous = self.hash(), self.literal(#","txn_id":"#),
            let txnID = try? self.parser.string(), self.literal("}}"), self.parser.index == self.parser.bytes.count
        else { return nil }
        return Event(
            namespace: namespace, commitTS: commitTS, txnID: txnID, committedAt: committedAt, operations: operations,
            metadata: metadata, prevHash: previous, hash: hash)
    }

    /// After `"metadata":{`, through the `}` and the comma after it.
    private mutating func metadata() -> CommitMetadata? {
        var metadata = CommitMetadata()
        if self.literal(#""actor":"#) {
            guard let actor = try? self.parser.string(), self.literal(",") else { return nil }
            metadata.actor = actor
        }
        if self.literal(#""reason":"#) {
            guard let reason = try? self.parser.string(), self.literal(",") else { return nil }
            metadata.reason = reason
        }
        guard self.literal(#""tags":{"#) else { return nil }
        if !self.literal("}") {
            repeat {
                // A name given twice is refused by the generic reader: leave such a line to it.
                guard let name = try? self.parser.string(), self.literal(":"), let value = try? self.parser.string(),
                    metadata.tags.updateValue(value, forKey: name) == nil
                else { return nil }
            } while self.literal(",")
            guard self.literal("}") else { return nil }
        }
        guard self.literal("},") else { return nil }
        return metadata
    }

    private mutating func operation() -> AppliedOperation? {
        guard self.literal(#"{"agent_id":"#), let agentID = try? self.parser.string() else { return nil }
        var expiresAt: Int64?
        if self.literal(#","expires_at_micros":"#) {
            guard let value = self.signed() else { return nil }
            expiresAt = value
        }
        guard self.literal(#","key":"#), let key = try? self.parser.string(), self.literal(#","kind":""#) else {
            return nil
        }
        let kind: WriteOperation.Kind
        if self.literal(#"put""#) {
            kind = .put
        } else if self.literal(#"delete""#) {
            kind = .delete
        } else {
            return nil
        }
        var value: JSONValue?
        if self.literal(#","value":"#) {
            guard let bytes = try? self.parser.stringBytes() else { return nil }
            value = JSONValue(trusted: bytes)
        }
        guard self.literal(#","version":"#), let version = self.unsigned(), self.literal("}") else { return nil }
        return AppliedOperation(
            agentID: agentID, key: key, kind: kind, value: value, version: version, expiresAt: expiresAt)
    }

    /// Consumes `text` if the line continues with exactly it.
    private mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        let bytes = self.parser.bytes
        guard bytes.count - self.parser.index >= count,
            memcmp(bytes.baseAddress! + self.parser.index, text.utf8Start, count) == 0
        else { return false }
        self.parser.index += count
        return true
    }

    /// An unsigned JSON integer (digits, no leading zero) that fits 64 bits.
    private mutating func unsigned() -> UInt64? {
        let bytes = self.parser.bytes
        let start = self.parser.index
        var value: UInt64 = 0
        while self.parser.index < bytes.count, case let digit = bytes[self.parser.index] &- 0x30, digit < 10 {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow, !carry else { return nil }
            value = sum
            self.parser.index += 1
        }
        let count = self.parser.index - start
        guard count > 0, count == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        return value
    }

    /// A signed JSON integer that fits 64 bits.
    private mutating func signed() -> Int64? {
        guard self.literal("-") else { return self.unsigned().flatMap { Int64(exactly: $0) } }
        guard let magnitude = self.unsigned() else { return nil }
        if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
        return Int64(exactly: magnitude).map { -$0 }
    }

    /// A hash as a string of exactly 64 hexadecimal digits.
    private mutating func hash() -> EventHash? {
        let bytes = self.parser.bytes
        let start = self.parser.index
        guard bytes.count - start >= 66, bytes[start] == UInt8(ascii: "\""), bytes[start + 65] == UInt8(ascii: "\""),
            let hash = Hex.hash(
                digits: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(start + 65)]), anyCase: true)
        else { return nil }
        self.parser.index += 66
        return hash
    }
}
