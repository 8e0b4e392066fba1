import Foundation
import StatehouseModel
import Testing

@testable import StatehouseLedger

/// The export line's two readers (``AuditBundle/decodeExportEvent(_:namespace:)``): the direct one for the layout
/// export writes and the generic JSON one must agree on every line the direct one accepts, and every line must read
/// back as the event that was written.
@Suite("Export line decoder")
struct ExportEventDecoderTests {
    static let texts = [
        "a", "", "é", "😀", "q\"uote", "back\\slash", "line\nbreak\t", "ctl\u{01}\u{1F}", "\u{2028}", "key/with/slashes",
        "a-much-longer-name-than-fifteen-bytes",
    ]

    static func text(using random: inout SplitMix64) -> String {
        Self.texts.randomElement(using: &random)!
    }

    static func randomEvent(using random: inout SplitMix64) -> Event {
        let operations = (0..<Int.random(in: 0...4, using: &random)).map { _ in
            let put = Int.random(in: 0..<4, using: &random) > 0
            let value = RandomJSON.make(depth: 3, using: &random).text(using: &random)
            return AppliedOperation(
                agentID: Self.text(using: &random), key: Self.text(using: &random), kind: put ? .put : .delete,
                value: put ? JSONValue(trusted: Array(value.utf8)) : nil,
                version: [1, 2, 1 << 40, UInt64.max].randomElement(using: &random)!,
                expiresAt: Bool.random(using: &random)
                    ? nil : [0, -1, Int64.max, Int64.min].randomElement(using: &random)!)
        }
        var tags: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            tags[Self.text(using: &random)] = Self.text(using: &random)
        }
        let metadata = CommitMetadata(
            actor: Bool.random(using: &random) ? Self.text(using: &random) : nil,
            reason: Bool.random(using: &random) ? Self.text(using: &random) : nil, tags: tags)
        func hash() -> EventHash {
            EventHash(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) })!
        }
        return Event(
            namespace: "ns", commitTS: [1, 7, UInt64.max].randomElement(using: &random)!,
            txnID: "01a24afe-689d-793d-9823-" + Self.text(using: &random),
            committedAt: [0, 1_796_554_516_638_136, -5, Int64.min].randomElement(using: &random)!,
            operations: operations, metadata: metadata, prevHash: hash(), hash: hash())
    }

    static func line(_ event: Event) -> [UInt8] {
        var bytes: [UInt8] = []
        AuditBundle.appendExportLine(event, to: &bytes)
        return Array(bytes.dropLast())
    }

    static func direct(_ bytes: [UInt8]) -> Event? {
        bytes.withUnsafeBytes {
            var reader = ExportLineReader(parser: AuditBundle.Parser(bytes: $0))
            return reader.event(namespace: "ns")
        }
    }

    static func generic(_ bytes: [UInt8]) throws -> Event {
        try bytes.withUnsafeBytes { try AuditBundle.genericExportEvent($0, namespace: "ns") }
    }

    static func decode(_ bytes: [UInt8]) throws -> Event {
        try bytes.withUnsafeBytes { try AuditBundle.decodeExportEvent($0, namespace: "ns") }
    }

    @Test("an exported event reads back the same through both readers, the direct one taking the written layout")
    func roundTrip() throws {
        var random = SplitMix64(seed: 0xE4_0127)
        for _ in 0..<2000 {
            let event = Self.randomEvent(using: &random)
            let bytes = Self.line(event)
            let direct = try #require(Self.direct(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(direct == event)
            #expect(try Self.generic(bytes) == event)
            #expect(try Self.decode(bytes) == event)
        }
    }

    @Test("a line in another layout (whitespace, members in another order) is read by the generic reader")
    func otherLayouts() throws {
        var random = SplitMix64(seed: 0x0DD_1A7)
        for _ in 0..<300 {
            var event = Self.randomEvent(using: &random)
            // Within what Foundation's JSON numbers keep exactly.
            event.commitTS = 7
            event.committedAt = 1_796_554_516_638_136
            for index in event.operations.indices {
                event.operations[index].version = 3
                event.operations[index].expiresAt = event.operations[index].expiresAt.map { _ in -1 }
            }
            let object = try JSONSerialization.jsonObject(with: Data(Self.line(event)))
            let pretty = Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]))
            #expect(Self.direct(pretty) == nil)
            #expect(try Self.decode(pretty) == event)
        }
    }

    @Test("wherever a written line is damaged, the direct reader either gives up or agrees with the generic one")
    func damagedLines() throws {
        var random = SplitMix64(seed: 0xDA_4A6E)
        var directAccepted = 0
        for _ in 0..<3000 {
            var bytes = Self.line(Self.randomEvent(using: &random))
            let position = Int.random(in: 0..<bytes.count, using: &random)
            let replacements: [UInt8] = [0x22, 0x5C, 0x2C, 0x7D, 0x5D, 0x30, 0x31, 0x2D, 0x20, 0x61, 0x00, 0xC3, 0x80]
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[position] = replacements.randomElement(using: &random)!
            case 1: bytes.remove(at: position)
            default: bytes.insert(replacements.randomElement(using: &random)!, at: position)
            }
            guard let direct = Self.direct(bytes) else { continue }
            directAccepted += 1
            #expect(try Self.generic(bytes) == direct, "\(String(decoding: bytes, as: UTF8.self))")
        }
        // Some damage leaves a valid line (a digit for a digit, a letter inside a string): both must read it alike.
        #expect(directAccepted > 0)
    }

    @Test("lines an import cannot use are refused with the reason")
    func refused() throws {
        let event = Event(
            namespace: "ns", commitTS: 4, txnID: "t", committedAt: 1,
            operations: [
                AppliedOperation(agentID: "a", key: "k", kind: .put, value: JSONValue(trusted: [0x31]), version: 2)
            ],
            metadata: CommitMetadata(), prevHash: .zero, hash: .zero)
        let text = String(decoding: Self.line(event), as: UTF8.self)
        let cases: [(String, String)] = [
            (
                text.replacingOccurrences(of: #""value":"1""#, with: #""value_digest":"00""#),
                "removed by the retention policy"
            ),
            (text.replacingOccurrences(of: #""kind":"put""#, with: #""kind":"merge""#), "is not put or delete"),
            (text.replacingOccurrences(of: #""hash":"#, with: #""leaf_hash":"#), "with hash and prev_hash"),
            (text.replacingOccurrences(of: #"{"event":"#, with: #"{"leaf":"#), "not an event line"),
            (String(text.dropLast()), "not an event line"),
        ]
        for (line, reason) in cases {
            #expect(Self.direct(Array(line.utf8)) == nil)
            let error = #expect(throws: (any Error).self) { try Self.decode(Array(line.utf8)) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(reason), "\(line)")
        }
    }
}
