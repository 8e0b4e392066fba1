import Foundation
import StatehouseLedger
import StatehouseModel
import Testing

@Suite("Audit bundle line codec")
struct AuditBundleCodecTests {
    static let tricky = "q\"b\\s/ctl\u{01}\u{1F}nl\n\t\u{2028}é😀"

    func decode(_ bytes: [UInt8]) throws -> AuditBundle.Line {
        try bytes.withUnsafeBytes { try AuditBundle.decodeLine($0) }
    }

    @Test("lines round-trip through the codec, and Foundation reads the same JSON")
    func roundTrip() throws {
        let line = AuditBundle.Line(
            state: AuditBundle.StateLine(
                agent_id: Self.tricky, key: "k", version: 3, commit_ts: UInt64.max, value: #"{"a":"\u2028"}"#))
        let bytes = AuditBundle.encode(line)
        #expect(bytes.last == 0x0A && !bytes.dropLast().contains(0x0A))
        let decoded = try self.decode(Array(bytes.dropLast()))
        #expect(decoded.state?.agent_id == Self.tricky && decoded.state?.commit_ts == UInt64.max)
        #expect(decoded.state?.value == #"{"a":"\u2028"}"#)
        let foundation = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: [String: Any]]
        #expect(foundation?["state"]?["agent_id"] as? String == Self.tricky)
        // Escapes Foundation writes (\/ and \uXXXX with surrogate pairs) decode to the same text.
        let escaped = Array(#"{"leaf":{"commit_ts":1,"hash":"a\/b\u00e9\ud83d\ude00"}}"#.utf8)
        #expect(try self.decode(escaped).leaf?.hash == "a/bé😀")
    }

    @Test(
        "malformed lines are refused",
        arguments: [
            #"{"leaf":{"commit_ts":1.5,"hash":"x"}}"#, #"{"leaf":{"commit_ts":1,"commit_ts":2,"hash":"x"}}"#,
            #"{"leaf":{"commit_ts":1,"hash":"\ud800"}}"#, #"{"leaf":{"commit_ts":1,"hash":"x"}} x"#,
            #"{"leaf":{"commit_ts":-1,"hash":"x"}}"#, #"{"leaf":{"commit_ts":1,"hash":"x"}"#, #"{"unknown":{}}"#,
            "{\"leaf\":{\"commit_ts\":1,\"hash\":\"a\u{01}\"}}", #"{"leaf":{"commit_ts":02,"hash":"x"}}"#,
            #"{"leaf":{"commit_ts":1,"hash":"x","extra":-}}"#,
        ])
    func malformed(_ text: String) {
        #expect(throws: (any Error).self) { try self.decode(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() throws {
        let bytes = Array(#"{"leaf":{"commit_ts":1,"hash":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        #expect(throws: (any Error).self) { try self.decode(bytes) }
        // After an escape, decoded bytes and raw ones are checked together.
        let afterEscape = Array(#"{"leaf":{"commit_ts":1,"hash":"\n"#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        #expect(throws: (any Error).self) { try self.decode(afterEscape) }
        let valid = Array(#"{"leaf":{"commit_ts":1,"hash":"\n"#.utf8) + [0xC3, 0xA9] + Array(#"\u00e9"}}"#.utf8)
        #expect(try self.decode(valid).leaf?.hash == "\néé")
    }

    static func event(commitTS: UInt64, tags: [String: String]) -> Event {
        Event(
            namespace: "ns", commitTS: commitTS, txnID: "txn-\(commitTS)", committedAt: -5,
            operations: [
                AppliedOperation(
                    agentID: "a", key: "k/1", kind: .put, value: try! JSONValue(validating: #"{"x":[1,"é\n"]}"#),
                    version: 2),
                AppliedOperation(agentID: "b", key: "k2", kind: .delete, value: nil, version: 7),
            ],
            metadata: CommitMetadata(actor: tags.isEmpty ? nil : "me", reason: "why", tags: tags),
            prevHash: .zero, hash: .zero)
    }

    @Test("every kind of line is written with its member names in byte order, as Foundation's sortedKeys writes it")
    func sortedMembers() throws {
        let head = SignedTreeHead(
            head: TreeHead(namespace: "ns", treeSize: 9, rootHash: MerkleTree.emptyRoot), timestamp: -1,
            keyID: "0011", signature: [1, 2, 3])
        let hash = MerkleTree.emptyRoot
        let event = Self.event(commitTS: 3, tags: ["zeta": "1", "alpha": "2", "beta": "3"])
        let lines: [AuditBundle.Line] = [
            AuditBundle.Line(
                manifest: AuditBundle.Manifest(
                    namespace: "ns", agentID: "a", from: 2, to: 5, head: head, publicKey: "PEM", prefix: [hash],
                    consistency: [hash, hash], sinceHead: head, sinceConsistency: [hash])),
            AuditBundle.Line(
                manifest: AuditBundle.Manifest(
                    namespace: "ns", agentID: nil, from: 1, to: 9, head: head, publicKey: "PEM", prefix: [],
                    consistency: [], sinceHead: nil, sinceConsistency: nil)),
            AuditBundle.Line(event: AuditBundle.EventLine(event)),
            AuditBundle.Line(event: AuditBundle.EventLine(Self.event(commitTS: 4, tags: [:]))),
            AuditBundle.Line(leaf: AuditBundle.LeafLine(commit_ts: UInt64.max, hash: hash.hex)),
            AuditBundle.Line(
                state: AuditBundle.StateLine(agent_id: "a", key: "k", version: 1, commit_ts: 2, value: "[true]")),
            AuditBundle.Line(witness: AuditBundle.WitnessLine(event: AuditBundle.EventLine(event), proof: [hash.hex])),
            AuditBundle.Line(
                manifest: AuditBundle.Manifest(
                    namespace: "ns", agentID: nil, from: 1, to: 9, head: head, publicKey: "PEM", prefix: [],
                    consistency: [], sinceHead: nil, sinceConsistency: nil, runID: "run-1")),
            AuditBundle.Line(
                run: try AuditBundle.runLine(
                    runID: "r2", baselineRunID: "r1", state: AuditBundleRunLineTests.twoRuns())),
            AuditBundle.Line(end: AuditBundle.EndLine(events: 1, leaves: 2, state: 3, witnesses: 4)),
        ]
        for line in lines {
            let ours = AuditBundle.encode(line)
            let object = try JSONSerialization.jsonObject(with: Data(ours))
            let foundation = try JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(String(decoding: ours.dropLast(), as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
            let decoded = try self.decode(Array(ours.dropLast()))
            #expect(decoded.event?.leaf_hash == line.event?.leaf_hash)
            #expect(decoded.manifest?.run_id == line.manifest?.run_id && decoded.run == line.run)
        }
    }

    @Test("an event line written from an event is the line written from its line struct")
    func eventLinePaths() {
        for event in [Self.event(commitTS: 1, tags: ["t": "v"]), Self.event(commitTS: 2, tags: [:])] {
            var bytes = Array("previous line\n".utf8)
            AuditBundle.appendEventLine(event, leafHash: LeafEncoding.leafHash(event), to: &bytes)
            #expect(
                bytes == Array("previous line\n".utf8)
                    + AuditBundle.encode(AuditBundle.Line(event: AuditBundle.EventLine(event))))
        }
    }
}
