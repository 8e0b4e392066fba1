/// The byte encoding of an event that the hash chain covers.
///
/// The encoding is independent of how a backend stores events, so that any backend (and any external verifier)
/// computes the same hash. Every variable-length field is length-prefixed, so no two different events encode to
/// the same bytes. Layout (all integers big-endian):
///
/// ```
/// event    = u64 commit_ts · str namespace · str txn_id · i64 committed_at · metadata · u32 op_count · op*
/// metadata = opt actor · opt reason · u32 tag_count · (str key · str value)*   tags sorted by key bytes
/// op       = str agent_id · str key · u8 kind · u64 version · (kind 1: bytes value | kind 3: bytes value · i64 expires_at)
///            kind 1 put, 2 delete, 3 put with an expiry (a put without one keeps kind 1, so older hashes never change)
/// str      = u32 byte_length · UTF-8 bytes            bytes = u32 length · raw bytes
/// opt      = u8 0  |  u8 1 · str
/// ```
package enum CanonicalEncoding {
    /// Appends the canonical encoding of an event's content (everything but its hashes) to `buffer`.
    package static func encode(
        commitTS: CommitTS,
        namespace: String,
        txnID: String,
        committedAt: Microseconds,
        metadata: CommitMetadata,
        operations: [AppliedOperation],
        into buffer: inout [UInt8]
    ) {
        self.appendUInt64(commitTS, to: &buffer)
        self.appendString(namespace, to: &buffer)
        self.appendString(txnID, to: &buffer)
        self.appendUInt64(UInt64(bitPattern: committedAt), to: &buffer)
        self.appendMetadata(metadata, to: &buffer)
        self.appendUInt32(UInt32(operations.count), to: &buffer)
        for operation in operations {
            self.appendString(operation.agentID, to: &buffer)
            self.appendString(operation.key, to: &buffer)
            buffer.append(self.kindByte(operation.kind, expiresAt: operation.expiresAt))
            self.appendUInt64(operation.version, to: &buffer)
            if operation.kind == .put {
                let value = operation.value?.utf8 ?? []
                self.appendUInt32(UInt32(value.count), to: &buffer)
                buffer.append(contentsOf: value)
                if let expiresAt = operation.expiresAt { self.appendUInt64(UInt64(bitPattern: expiresAt), to: &buffer) }
            }
        }
    }

    /// The byte an operation's kind is encoded as: 3 for a put with an expiry, else the kind's raw value.
    package static func kindByte(_ kind: WriteOperation.Kind, expiresAt: Microseconds?) -> UInt8 {
        kind == .put && expiresAt != nil ? 3 : kind.rawValue
    }

    /// Appends the canonical metadata encoding; also used as the stored form of metadata.
    package static func appendMetadata(_ metadata: CommitMetadata, to buffer: inout [UInt8]) {
        self.appendOptionalString(metadata.actor, to: &buffer)
        self.appendOptionalString(metadata.reason, to: &buffer)
        guard !metadata.tags.isEmpty else { return self.appendUInt32(0, to: &buffer) }
        let tags = metadata.tags.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        self.appendUInt32(UInt32(tags.count), to: &buffer)
        for (key, value) in tags {
            self.appendString(key, to: &buffer)
            self.appendString(value, to: &buffer)
        }
    }

    /// Decodes metadata written by ``appendMetadata(_:to:)``; `nil` if the bytes are malformed.
    package static func decodeMetadata(_ bytes: [UInt8]) -> CommitMetadata? {
        var reader = ByteReader(bytes: bytes)
        guard let actor = reader.readOptionalString(), let reason = reader.readOptionalString(),
            let count = reader.readUInt32()
        else { return nil }
        var tags: [String: String] = [:]
        for _ in 0..<count {
            guard let key = reader.readString(), let value = reader.readString() else { return nil }
            tags[key] = value
        }
        guard reader.isAtEnd else { return nil }
        return CommitMetadata(actor: actor.value, reason: reason.value, tags: tags)
    }

    /// Big-endian, appended whole (one capacity check, not eight).
    package static func appendUInt64(_ value: UInt64, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    package static func appendUInt32(_ value: UInt32, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    package static func appendString(_ string: String, to buffer: inout [UInt8]) {
        var string = string
        string.withUTF8 { utf8 in
            self.appendUInt32(UInt32(utf8.count), to: &buffer)
            buffer.append(contentsOf: utf8)
        }
    }

    private static func appendOptionalString(_ string: String?, to buffer: inout [UInt8]) {
        guard let string else {
            buffer.append(0)
            return
        }
        buffer.append(1)
        self.appendString(string, to: &buffer)
    }
}

/// Reads what ``CanonicalEncoding`` wrote; every read returns `nil` instead of trapping on short input.
package struct ByteReader {
    /// An optional string read from the buffer; wrapped so that "absent" and "malformed" differ.
    package struct OptionalString { package var value: String? }

    private let bytes: [UInt8]
    private var index = 0

    package init(bytes: [UInt8]) { self.bytes = bytes }

    package var isAtEnd: Bool { self.index == self.bytes.count }

    package mutating func readUInt8() -> UInt8? {
        guard self.index < self.bytes.count else { return nil }
        defer { self.index += 1 }
        return self.bytes[self.index]
    }

    package mutating func readUInt32() -> UInt32? {
        guard self.index + 4 <= self.bytes.count else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 8 | UInt32(self.bytes[self.index + offset]) }
        self.index += 4
        return value
    }

    package mutating func readUInt64() -> UInt64? {
        guard self.index + 8 <= self.bytes.count else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value = value << 8 | UInt64(self.bytes[self.index + offset]) }
        self.index += 8
        return value
    }

    package mutating func readBytes() -> [UInt8]? {
        guard let count = self.readUInt32(), self.index + Int(count) <= self.bytes.count else { return nil }
        defer { self.index += Int(count) }
        return Array(self.bytes[self.index..<self.index + Int(count)])
    }

    package mutating func readString() -> String? {
        guard let bytes = self.readBytes() else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    package mutating func readOptionalString() -> OptionalString? {
        switch self.readUInt8() {
        case 0: return OptionalString(value: nil)
        case 1: return self.readString().map { OptionalString(value: $0) }
        default: return nil
        }
    }
}
