import Foundation
import StatehouseModel
import StatehouseProto
import StatehouseWire
import SwiftProtobuf
import Testing

/// ``EventWireCodec`` against SwiftProtobuf and the generated messages: two independent implementations of the same
/// bytes, which must agree on every event, on merged and out-of-order input, on unknown fields and on truncation.
@Suite("Event wire codec")
struct EventWireCodecTests {
    /// A small deterministic generator (SplitMix64), so a failure names a seed that reproduces it.
    struct Generator {
        var state: UInt64

        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(self.next() % UInt64(bound)) }

        mutating func chance(_ percent: Int) -> Bool { self.below(100) < percent }

        /// Text with multi-byte characters; quotes and backslashes only when `jsonSafe` is false.
        mutating func text(maxLength: Int, jsonSafe: Bool = false) -> String {
            let pieces =
                ["a", "Z", "7", "/", "-", "é", "ü", "漢", "🙂", "e\u{301}", " "] + (jsonSafe ? [] : ["\"", "\\"])
            let count = self.below(maxLength + 1)
            return (0..<count).map { _ in pieces[self.below(pieces.count)] }.joined()
        }

        mutating func hash() -> EventHash {
            EventHash(bytes: (0..<32).map { _ in UInt8(truncatingIfNeeded: self.next()) })!
        }

        mutating func int64() -> Int64 {
            switch self.below(4) {
            case 0: 0
            case 1: -Int64(self.below(1_000_000))
            case 2: Int64.min + Int64(self.below(3))
            default: Int64(bitPattern: self.next())
            }
        }

        mutating func uint64() -> UInt64 {
            switch self.below(3) {
            case 0: 0
            case 1: UInt64(self.below(300))
            default: self.next()
            }
        }

        mutating func event() throws -> Event {
            let operations = try (0..<self.below(5)).map { _ -> AppliedOperation in
                let kind: WriteOperation.Kind = self.chance(25) ? .delete : .put
                let removed = kind == .put && self.chance(15)
                let value =
                    kind == .delete || removed
                    ? nil
                    : try JSONValue(
                        validating: "\"" + self.text(maxLength: self.chance(10) ? 200 : 12, jsonSafe: true) + "\"")
                return AppliedOperation(
                    agentID: self.text(maxLength: self.chance(10) ? 40 : 8), key: self.text(maxLength: 20), kind: kind,
                    value: value, version: self.uint64(), expiresAt: self.chance(30) ? self.int64() : nil,
                    removedValueDigest: removed ? self.hash() : nil)
            }
            var tags: [String: String] = [:]
            for _ in 0..<(self.chance(30) ? self.below(4) : 0) {
                tags[self.text(maxLength: 6)] = self.text(maxLength: 6)
            }
            return Event(
                namespace: self.text(maxLength: self.chance(10) ? 30 : 10), commitTS: self.uint64(),
                txnID: self.text(maxLength: 36), committedAt: self.int64(), operations: operations,
                metadata: CommitMetadata(
                    actor: self.chance(40) ? self.text(maxLength: 8) : nil,
                    reason: self.chance(30) ? self.text(maxLength: 200) : nil, tags: tags),
                prevHash: self.chance(5) ? .zero : self.hash(), hash: self.hash())
        }
    }

    /// What SwiftProtobuf writes for the batch, with the map in its deterministic order.
    func swiftProtobufBytes(_ events: [Event]) throws -> [UInt8] {
        var batch = Statehouse_V2_EventBatch()
        batch.events = events.map(Wire.proto)
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try batch.serializedBytes(options: options)
    }

    /// What the generated message and `Wire.event` read from `bytes`; nil when SwiftProtobuf refuses them.
    func swiftProtobufEvents(_ bytes: [UInt8]) -> [Event]? {
        guard let batch = try? Statehouse_V2_EventBatch(serializedBytes: bytes) else { return nil }
        return batch.events.map(Wire.event)
    }

    func codecEvents(_ bytes: [UInt8]) -> [Event]? {
        try? EventWireCodec.decodeBatch(bytes)
    }

    /// An `EventBatch` field 1 around each encoded event.
    func batch(ofEncodedEvents events: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for event in events {
            out.append(0x0A)
            var length = UInt64(event.count)
            while length >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: length) | 0x80)
                length >>= 7
            }
            out.append(UInt8(length))
            out += event
        }
        return out
    }

    @Test("writes the bytes SwiftProtobuf writes, and each reads the other's", arguments: 0..<8)
    func agreesWithSwiftProtobuf(seed: UInt64) throws {
        var generator = Generator(state: seed)
        for round in 0..<60 {
            let events = try (0..<generator.below(6)).map { _ in try generator.event() }
            let ours = EventWireCodec.encodeBatch(events)
            #expect(ours.count == EventWireCodec.batchSize(events))
            #expect(ours == (try self.swiftProtobufBytes(events)), "seed \(seed) round \(round)")
            #expect(try EventWireCodec.decodeBatch(ours) == events, "seed \(seed) round \(round)")
            #expect(self.swiftProtobufEvents(ours) == events, "seed \(seed) round \(round)")
        }
    }

    @Test("an import message is the generated ImportLogRequest's bytes, and reads back", arguments: 0..<4)
    func importMessages(seed: UInt64) throws {
        var generator = Generator(state: 200 + seed)
        for round in 0..<40 {
            let events = try (0..<generator.below(4)).map { _ in try generator.event() }
            let (namespace, source) = (generator.text(maxLength: 8), generator.text(maxLength: 8))
            var request = Statehouse_V2_ImportLogRequest()
            request.namespace = namespace
            request.sourceNamespace = source
            request.events = events.map(Wire.proto)
            var options = BinaryEncodingOptions()
            options.useDeterministicOrdering = true
            let expected: [UInt8] = try request.serializedBytes(options: options)
            let ours = EventWireCodec.encodeImportRequest(namespace: namespace, sourceNamespace: source, events: events)
            #expect(ours == expected, "seed \(seed) round \(round)")
            let decoded = try ours.withUnsafeBytes { buffer in
                try Result { () throws(EventWireCodec.MalformedInput) in
                    try EventWireCodec.decodeImportRequest(buffer)
                }.get()
            }
            #expect(decoded.namespace == namespace && decoded.sourceNamespace == source && decoded.events == events)
        }
    }

    @Test("the edge values: empty strings, set but empty optionals, extreme integers, long fields")
    func edgeValues() throws {
        let hash = EventHash(bytes: [UInt8](repeating: 0xAB, count: 32))!
        let events = [
            Event(
                namespace: "", commitTS: 0, txnID: "", committedAt: 0, operations: [], metadata: CommitMetadata(),
                prevHash: .zero, hash: .zero),
            Event(
                namespace: String(repeating: "n", count: 300), commitTS: .max, txnID: "t", committedAt: .min,
                operations: [
                    AppliedOperation(
                        agentID: "", key: "", kind: .put,
                        value: try JSONValue(validating: "\"" + String(repeating: "v", count: 20_000) + "\""),
                        version: .max, expiresAt: 0),
                    AppliedOperation(
                        agentID: "a", key: "k", kind: .delete, value: nil, version: 0, expiresAt: -1),
                    AppliedOperation(
                        agentID: "a", key: "k", kind: .put, value: nil, version: 3, removedValueDigest: hash),
                ],
                metadata: CommitMetadata(actor: "", reason: "", tags: ["": "", "b": "", "a": "x", "é": "1"]),
                prevHash: hash, hash: hash),
        ]
        let ours = EventWireCodec.encodeBatch(events)
        #expect(ours == (try self.swiftProtobufBytes(events)))
        #expect(try EventWireCodec.decodeBatch(ours) == events)
        #expect(EventWireCodec.encodeBatch([]).isEmpty)
        #expect(try EventWireCodec.decodeBatch([UInt8]()) == [])
    }

    @Test("two encodings of an event in one field merge as protobuf merges them", arguments: 0..<4)
    func mergedEvents(seed: UInt64) throws {
        var generator = Generator(state: 100 + seed)
        for round in 0..<50 {
            let first = try generator.event()
            let second = try generator.event()
            // Each event's own bytes (field 1's payload), then both run together as one event, and the reverse.
            let a = try Wire.proto(first).serializedBytes() as [UInt8]
            let b = try Wire.proto(second).serializedBytes() as [UInt8]
            let bytes = self.batch(ofEncodedEvents: [a + b, b + a, b])
            let expected = self.swiftProtobufEvents(bytes)
            #expect(expected != nil)
            #expect(self.codecEvents(bytes) == expected, "seed \(seed) round \(round)")
        }
    }

    @Test("unknown fields of every wire type are skipped at each level")
    func unknownFields() throws {
        var generator = Generator(state: 7)
        var event = try generator.event()
        event.operations = [
            AppliedOperation(agentID: "a", key: "k", kind: .put, value: try JSONValue(validating: "1"), version: 2)
        ]
        event.metadata = CommitMetadata(actor: "me", tags: ["t": "v"])
        var proto = Wire.proto(event)
        // Field 15 varint, field 16 fixed64, field 17 length-delimited, field 18 fixed32, in each message.
        let unknown: [UInt8] =
            [0x78, 0x96, 0x01, 0x81, 0x01] + [UInt8](repeating: 1, count: 8) + [0x8A, 0x01, 2, 9, 9]
            + [0x95, 0x01, 1, 2, 3, 4]
        try proto.merge(serializedBytes: unknown)
        try proto.operations[0].merge(serializedBytes: unknown)
        try proto.metadata.merge(serializedBytes: unknown)
        let bytes = self.batch(ofEncodedEvents: [try proto.serializedBytes()]) + unknown
        #expect(self.swiftProtobufEvents(bytes) == [event])
        #expect(self.codecEvents(bytes) == [event])
    }

    @Test("every truncation of a batch is refused or read exactly as SwiftProtobuf reads it")
    func truncations() throws {
        var generator = Generator(state: 42)
        let events = try (0..<3).map { _ in try generator.event() }
        let bytes = EventWireCodec.encodeBatch(events)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[..<length])
            #expect(self.codecEvents(prefix) == self.swiftProtobufEvents(prefix), "prefix of \(length) bytes")
        }
    }

    @Test("invalid UTF-8, overlong varints, groups and wrong wire types are refused")
    func malformed() {
        // An event whose namespace is the byte 0xFF.
        #expect(self.codecEvents(self.batch(ofEncodedEvents: [[0x0A, 1, 0xFF]])) == nil)
        #expect(self.swiftProtobufEvents(self.batch(ofEncodedEvents: [[0x0A, 1, 0xFF]])) == nil)
        // An eleven-byte varint.
        #expect(
            self.codecEvents(self.batch(ofEncodedEvents: [[0x10] + [UInt8](repeating: 0xFF, count: 10) + [1]])) == nil)
        // A start-group tag (field 9, wire type 3).
        #expect(self.codecEvents(self.batch(ofEncodedEvents: [[0x4B, 0x4C]])) == nil)
        // commit_ts (a varint) sent length-delimited.
        #expect(self.codecEvents(self.batch(ofEncodedEvents: [[0x12, 1, 7]])) == nil)
        // Field number 0.
        #expect(self.codecEvents([0x00, 0x00]) == nil)
    }
}
