package import StatehouseModel

/// `statehouse.v2.EventBatch` written straight from ``StatehouseModel/Event`` values and read straight into them,
/// without the generated messages.
///
/// Why: replay and watch carry the log in batches of up to 1,000 events. Going through the generated types built a
/// `Statehouse_V2_Event` and a `Statehouse_V2_AppliedOperation` per event and operation (each a heap object with its
/// own copies of the strings and bytes), then encoded them, and the client did the same in reverse: about half of the
/// daemon's and the client's CPU in a replay (`perf`, docs/benchmarks.md, "Replay without generated messages"). Here
/// the daemon measures a batch once and writes it into the transport's buffer, and the client builds each `Event`
/// from the bytes in one pass.
///
/// The bytes are exactly the ones SwiftProtobuf writes for `Wire.proto(event)` with deterministic map ordering: fields
/// in field-number order, proto3 defaults left out, `optional` fields written when present, the `tags` map sorted by
/// key with both entry fields always written (`EventWireCodecTests` compares the two byte for byte and decodes each
/// other's output), so every protobuf implementation (the Python SDK's, grpcurl's) reads them as before. The decoder
/// reads any valid encoding: fields in any order, unknown fields skipped, a repeated singular field's last value
/// kept, two `metadata` fields merged; it refuses truncated input, invalid UTF-8 in a string and groups (which
/// proto3 never writes).
package enum EventWireCodec {
    /// Input the decoder refuses, with what was wrong.
    package struct MalformedInput: Error, CustomStringConvertible {
        package var description: String
    }

    // MARK: Encoding

    /// Events measured once for encoding: each event's size is needed twice (for the batch's size, then for the
    /// event's length prefix), and computing it walks every string and operation of the event.
    package struct MeasuredEvents: Sendable {
        let events: [Event]
        let eventSizes: [Int]
        /// The events' size as one `EventBatch` message, or as the repeated events field of another message (every
        /// field number here is below 16, so its tag is one byte whatever the field).
        package let size: Int

        package init(_ events: [Event]) {
            self.events = events
            self.eventSizes = events.map(EventWireCodec.eventSize)
            self.size = self.eventSizes.reduce(0) { $0 + EventWireCodec.fieldSize(length: $1) }
        }
    }

    /// The size of `events` as one `EventBatch` message.
    package static func batchSize(_ events: [Event]) -> Int { MeasuredEvents(events).size }

    /// Writes `events` as one `EventBatch` into `buffer`, which must hold exactly `events.size` bytes.
    package static func encodeBatch(_ events: MeasuredEvents, into buffer: UnsafeMutableRawBufferPointer) {
        var writer = Writer(buffer)
        self.write(events, field: 1, to: &writer)
        precondition(writer.offset == buffer.count, "an event batch's measured size differs from what was written")
    }

    private static func write(_ measured: MeasuredEvents, field: UInt8, to writer: inout Writer) {
        for (event, size) in zip(measured.events, measured.eventSizes) {
            writer.tag(field, wireType: 2)
            writer.varint(UInt64(size))
            self.write(event, to: &writer)
        }
    }

    /// An `ImportLogRequest`: the target and source namespaces (fields 1 and 2, left out when empty, as proto3 does)
    /// and the events (field 3). What `statehousectl import` sends, without a generated message per event.
    package static func encodeImportRequest(namespace: String, sourceNamespace: String, events: [Event]) -> [UInt8] {
        let measured = MeasuredEvents(events)
        let size = self.stringSize(namespace) + self.stringSize(sourceNamespace) + measured.size
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var writer = Writer(UnsafeMutableRawBufferPointer(buffer))
            writer.stringField(1, namespace)
            writer.stringField(2, sourceNamespace)
            self.write(measured, field: 3, to: &writer)
            precondition(writer.offset == size, "an import message's measured size differs from what was written")
            count = size
        }
    }

    /// `events` as one `EventBatch` message.
    package static func encodeBatch(_ events: [Event]) -> [UInt8] {
        let measured = MeasuredEvents(events)
        return [UInt8](unsafeUninitializedCapacity: measured.size) { buffer, count in
            self.encodeBatch(measured, into: UnsafeMutableRawBufferPointer(buffer))
            count = measured.size
        }
    }

    private static func varintSize(_ value: UInt64) -> Int {
        // 7 bits per byte; 0 still takes one byte.
        (64 - (value | 1).leadingZeroBitCount + 6) / 7
    }

    /// A length-delimited field (a one-byte tag: every field number here is below 16) of `length` bytes.
    fileprivate static func fieldSize(length: Int) -> Int {
        1 + self.varintSize(UInt64(length)) + length
    }

    private static func stringSize(_ text: String) -> Int {
        let count = text.utf8.count
        return count == 0 ? 0 : self.fieldSize(length: count)
    }

    private static func varintFieldSize(_ value: UInt64) -> Int {
        value == 0 ? 0 : 1 + self.varintSize(value)
    }

    /// A 32-byte hash with its tag and length.
    private static let hashFieldSize = 34

    fileprivate static func eventSize(_ event: Event) -> Int {
        var size = self.stringSize(event.namespace) + self.varintFieldSize(event.commitTS)
        size += self.stringSize(event.txnID) + self.varintFieldSize(UInt64(bitPattern: event.committedAt))
        for operation in event.operations { size += self.fieldSize(length: self.operationSize(operation)) }
        if !event.metadata.isEmpty { size += self.fieldSize(length: self.metadataSize(event.metadata)) }
        return size + 2 * self.hashFieldSize
    }

    private static func operationSize(_ operation: AppliedOperation) -> Int {
        var size = self.stringSize(operation.agentID) + self.stringSize(operation.key) + 2  // kind: 1 or 2
        if let value = operation.value, !value.utf8.isEmpty { size += self.fieldSize(length: value.utf8.count) }
        size += self.varintFieldSize(operation.version)
        if let expiresAt = operation.expiresAt { size += 1 + self.varintSize(UInt64(bitPattern: expiresAt)) }
        if operation.removedValueDigest != nil { size += self.hashFieldSize }
        return size
    }

    private static func metadataSize(_ metadata: CommitMetadata) -> Int {
        var size = 0
        if let actor = metadata.actor { size += self.fieldSize(length: actor.utf8.count) }
        if let reason = metadata.reason { size += self.fieldSize(length: reason.utf8.count) }
        for (key, value) in metadata.tags { size += self.fieldSize(length: self.tagEntrySize(key: key, value: value)) }
        return size
    }

    private static func tagEntrySize(key: String, value: String) -> Int {
        self.fieldSize(length: key.utf8.count) + self.fieldSize(length: value.utf8.count)
    }

    private static func write(_ event: Event, to writer: inout Writer) {
        writer.stringField(1, event.namespace)
        writer.varintField(2, event.commitTS)
        writer.stringField(3, event.txnID)
        writer.varintField(4, UInt64(bitPattern: event.committedAt))
        for operation in event.operations {
            writer.tag(5, wireType: 2)
            writer.varint(UInt64(self.operationSize(operation)))
            writer.stringField(1, operation.agentID)
            writer.stringField(2, operation.key)
            writer.tag(3, wireType: 0)
            writer.varint(operation.kind == .delete ? 2 : 1)
            if let value = operation.value, !value.utf8.isEmpty { writer.bytesField(4, value.utf8) }
            writer.varintField(5, operation.version)
            if let expiresAt = operation.expiresAt {
                writer.tag(6, wireType: 0)
                writer.varint(UInt64(bitPattern: expiresAt))
            }
            if let digest = operation.removedValueDigest { writer.hashField(7, digest) }
        }
        if !event.metadata.isEmpty {
            let metadata = event.metadata
            writer.tag(6, wireType: 2)
            writer.varint(UInt64(self.metadataSize(metadata)))
            if let actor = metadata.actor { writer.presentStringField(1, actor) }
            if let reason = metadata.reason { writer.presentStringField(2, reason) }
            // SwiftProtobuf's deterministic order: keys sorted by String's `<`.
            for (key, value) in metadata.tags.sorted(by: { $0.key < $1.key }) {
                writer.tag(3, wireType: 2)
                writer.varint(UInt64(self.tagEntrySize(key: key, value: value)))
                writer.presentStringField(1, key)
                writer.presentStringField(2, value)
            }
        }
        writer.hashField(7, event.prevHash)
        writer.hashField(8, event.hash)
    }

    /// Appends protobuf fields to a buffer measured beforehand; every write checks that it fits.
    private struct Writer {
        let buffer: UnsafeMutableRawBufferPointer
        var offset = 0

        init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

        mutating func byte(_ value: UInt8) {
            precondition(self.offset < self.buffer.count, "an event batch outgrew its measured size")
            self.buffer[self.offset] = value
            self.offset += 1
        }

        mutating func varint(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                self.byte(UInt8(truncatingIfNeeded: rest) | 0x80)
                rest >>= 7
            }
            self.byte(UInt8(rest))
        }

        mutating func tag(_ field: UInt8, wireType: UInt8) { self.byte(field << 3 | wireType) }

        mutating func varintField(_ field: UInt8, _ value: UInt64) {
            guard value != 0 else { return }
            self.tag(field, wireType: 0)
            self.varint(value)
        }

        mutating func raw(_ bytes: UnsafeRawBufferPointer) {
            precondition(bytes.count <= self.buffer.count - self.offset, "an event batch outgrew its measured size")
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            (self.buffer.baseAddress! + self.offset).copyMemory(from: base, byteCount: bytes.count)
            self.offset += bytes.count
        }

        mutating func bytesField(_ field: UInt8, _ bytes: [UInt8]) {
            self.tag(field, wireType: 2)
            self.varint(UInt64(bytes.count))
            bytes.withUnsafeBytes { self.raw($0) }
        }

        /// A proto3 string: left out when empty.
        mutating func stringField(_ field: UInt8, _ text: String) {
            guard !text.utf8.isEmpty else { return }
            self.presentStringField(field, text)
        }

        /// A string written even when empty (an `optional` field that is set, a map entry's key or value).
        mutating func presentStringField(_ field: UInt8, _ text: String) {
            self.tag(field, wireType: 2)
            self.varint(UInt64(text.utf8.count))
            if text.utf8.withContiguousStorageIfAvailable({ self.raw(UnsafeRawBufferPointer($0)) }) == nil {
                Array(text.utf8).withUnsafeBytes { self.raw($0) }
            }
        }

        mutating func hashField(_ field: UInt8, _ hash: EventHash) {
            self.tag(field, wireType: 2)
            self.byte(32)
            hash.withUnsafeBytes { self.raw($0) }
        }
    }

    // MARK: Decoding

    /// The events of one `EventBatch` message.
    package static func decodeBatch(_ bytes: UnsafeRawBufferPointer) throws(MalformedInput) -> [Event] {
        var reader = Reader(bytes)
        var events: [Event] = []
        var strings = StringCache()
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            if field == 1, wireType == 2 {
                var nested = Reader(try reader.lengthDelimited())
                events.append(try self.readEvent(&nested, strings: &strings))
            } else {
                try reader.skip(wireType: wireType, field: field)
            }
        }
        return events
    }

    package static func decodeBatch(_ bytes: [UInt8]) throws(MalformedInput) -> [Event] {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(MalformedInput) -> [Event] in try self.decodeBatch(buffer) }
        }.get()
    }

    /// An `ImportLogRequest`'s namespaces and events.
    package static func decodeImportRequest(
        _ bytes: UnsafeRawBufferPointer
    ) throws(MalformedInput) -> (namespace: String, sourceNamespace: String, events: [Event]) {
        var reader = Reader(bytes)
        var (namespace, sourceNamespace) = ("", "")
        var events: [Event] = []
        var strings = StringCache()
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (1, 2): namespace = try Reader.string(reader.lengthDelimited())
            case (2, 2): sourceNamespace = try Reader.string(reader.lengthDelimited())
            case (3, 2):
                var nested = Reader(try reader.lengthDelimited())
                events.append(try self.readEvent(&nested, strings: &strings))
            default: try self.skipUnknown(&reader, field: field, wireType: wireType, knownFields: 1...3)
            }
        }
        return (namespace, sourceNamespace, events)
    }

    private static func readEvent(_ reader: inout Reader, strings: inout StringCache) throws(MalformedInput) -> Event {
        var event = Event(
            namespace: "", commitTS: 0, txnID: "", committedAt: 0, operations: [], metadata: CommitMetadata(),
            prevHash: .zero, hash: .zero)
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (1, 2): event.namespace = try strings.namespace(reader.lengthDelimited())
            case (2, 0): event.commitTS = try reader.varint()
            case (3, 2): event.txnID = try Reader.string(reader.lengthDelimited())
            case (4, 0): event.committedAt = Int64(bitPattern: try reader.varint())
            case (5, 2):
                var nested = Reader(try reader.lengthDelimited())
                event.operations.append(try self.readOperation(&nested, strings: &strings))
            case (6, 2):
                var nested = Reader(try reader.lengthDelimited())
                try self.readMetadata(&nested, into: &event.metadata)
            case (7, 2): event.prevHash = Reader.hash(try reader.lengthDelimited()) ?? .zero
            case (8, 2): event.hash = Reader.hash(try reader.lengthDelimited()) ?? .zero
            default: try self.skipUnknown(&reader, field: field, wireType: wireType, knownFields: 1...8)
            }
        }
        return event
    }

    private static func readOperation(
        _ reader: inout Reader, strings: inout StringCache
    ) throws(MalformedInput) -> AppliedOperation {
        var agentID = ""
        var key = ""
        var kind: UInt64 = 0
        var value = UnsafeRawBufferPointer(start: nil, count: 0)
        var version: UInt64 = 0
        var expiresAt: Int64?
        var removedDigest = UnsafeRawBufferPointer(start: nil, count: 0)
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (1, 2): agentID = try strings.agentID(reader.lengthDelimited())
            case (2, 2): key = try Reader.string(reader.lengthDelimited())
            case (3, 0): kind = try reader.varint()
            case (4, 2): value = try reader.lengthDelimited()
            case (5, 0): version = try reader.varint()
            case (6, 0): expiresAt = Int64(bitPattern: try reader.varint())
            case (7, 2): removedDigest = try reader.lengthDelimited()
            default: try self.skipUnknown(&reader, field: field, wireType: wireType, knownFields: 1...7)
            }
        }
        // As `Wire.event` reads the generated message: any kind but delete (2) is a put, and a put with a removed
        // value's digest (of any length) has no value.
        let isDelete = kind == 2
        let hasValue = !isDelete && removedDigest.isEmpty
        return AppliedOperation(
            agentID: agentID,
            key: key,
            kind: isDelete ? .delete : .put,
            value: hasValue ? JSONValue(trusted: Reader.bytes(value)) : nil,
            version: version,
            expiresAt: expiresAt,
            removedValueDigest: Reader.hash(removedDigest)
        )
    }

    private static func readMetadata(_ reader: inout Reader, into metadata: inout CommitMetadata) throws(MalformedInput)
    {
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (1, 2): metadata.actor = try Reader.string(reader.lengthDelimited())
            case (2, 2): metadata.reason = try Reader.string(reader.lengthDelimited())
            case (3, 2):
                var entry = Reader(try reader.lengthDelimited())
                var key = ""
                var value = ""
                while !entry.atEnd {
                    let (entryField, entryWireType) = try entry.tag()
                    switch (entryField, entryWireType) {
                    case (1, 2): key = try Reader.string(entry.lengthDelimited())
                    case (2, 2): value = try Reader.string(entry.lengthDelimited())
                    default:
                        try self.skipUnknown(&entry, field: entryField, wireType: entryWireType, knownFields: 1...2)
                    }
                }
                metadata.tags[key] = value
            default: try self.skipUnknown(&reader, field: field, wireType: wireType, knownFields: 1...3)
            }
        }
    }

    /// Skips a field this decoder does not know; a known field with the wrong wire type is malformed.
    private static func skipUnknown(
        _ reader: inout Reader, field: UInt64, wireType: UInt8, knownFields: ClosedRange<UInt64>
    ) throws(MalformedInput) {
        guard !knownFields.contains(field) else {
            throw MalformedInput(description: "field \(field) has wire type \(wireType), which its type never has")
        }
        try reader.skip(wireType: wireType, field: field)
    }

    /// Reads protobuf fields from a buffer, refusing anything that runs past its end.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var atEnd: Bool { self.offset >= self.bytes.count }

        mutating func varint() throws(MalformedInput) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while self.offset < self.bytes.count {
                let byte = self.bytes[self.offset]
                self.offset += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return result }
                shift += 7
                guard shift < 64 else { throw MalformedInput(description: "a varint is longer than 10 bytes") }
            }
            throw MalformedInput(description: "the input ends inside a varint")
        }

        mutating func tag() throws(MalformedInput) -> (field: UInt64, wireType: UInt8) {
            let key = try self.varint()
            let field = key >> 3
            guard field > 0 else { throw MalformedInput(description: "a field number is 0") }
            return (field, UInt8(key & 7))
        }

        mutating func lengthDelimited() throws(MalformedInput) -> UnsafeRawBufferPointer {
            let length = try self.varint()
            guard length <= UInt64(self.bytes.count - self.offset) else {
                throw MalformedInput(description: "a field of \(length) bytes runs past the end of its message")
            }
            let start = self.offset
            self.offset += Int(length)
            return UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.offset])
        }

        mutating func skip(wireType: UInt8, field: UInt64) throws(MalformedInput) {
            switch wireType {
            case 0: _ = try self.varint()
            case 1, 5:
                let width = wireType == 1 ? 8 : 4
                guard width <= self.bytes.count - self.offset else {
                    throw MalformedInput(description: "field \(field) runs past the end of its message")
                }
                self.offset += width
            case 2: _ = try self.lengthDelimited()
            default:
                throw MalformedInput(description: "field \(field) has wire type \(wireType) (groups are not proto3)")
            }
        }

        static func string(_ bytes: UnsafeRawBufferPointer) throws(MalformedInput) -> String {
            let units = bytes.assumingMemoryBound(to: UInt8.self)
            // Names and ids are nearly always ASCII, which needs no validation beyond the check itself.
            if units.allSatisfy({ $0 < 0x80 }) { return String(decoding: units, as: UTF8.self) }
            guard let text = String(validating: units, as: UTF8.self) else {
                throw MalformedInput(description: "a string field is not valid UTF-8")
            }
            return text
        }

        static func bytes(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
                if let base = bytes.baseAddress, !bytes.isEmpty {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: bytes.count)
                }
                count = bytes.count
            }
        }

        /// A hash from exactly 32 bytes; nil for any other length (as `EventHash(bytes:)`).
        static func hash(_ bytes: UnsafeRawBufferPointer) -> EventHash? {
            guard bytes.count == 32, let base = bytes.baseAddress else { return nil }
            return EventHash(unsafeBytes: base)
        }

        /// Whether `text` is exactly `bytes`, without making a string of them.
        static func equal(_ text: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard text.utf8.count == bytes.count else { return false }
            let units = bytes.assumingMemoryBound(to: UInt8.self)
            return text.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(units) }
                ?? text.utf8.elementsEqual(units)
        }
    }

    /// The namespace and the last agent id decoded: a batch repeats them, and a string longer than 15 bytes is a heap
    /// allocation each time it is made.
    private struct StringCache {
        var lastNamespace = ""
        var lastAgentID = ""

        mutating func namespace(_ bytes: UnsafeRawBufferPointer) throws(MalformedInput) -> String {
            if !Reader.equal(self.lastNamespace, bytes) { self.lastNamespace = try Reader.string(bytes) }
            return self.lastNamespace
        }

        mutating func agentID(_ bytes: UnsafeRawBufferPointer) throws(MalformedInput) -> String {
            if !Reader.equal(self.lastAgentID, bytes) { self.lastAgentID = try Reader.string(bytes) }
            return self.lastAgentID
        }
    }
}
