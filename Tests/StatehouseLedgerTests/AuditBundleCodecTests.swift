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
            "{\"leaf\":{\"commit_ts\":1,\"hash\":\"a\u{01}\"}}",
        ])
    func malformed(_ text: String) {
        #expect(throws: (any Error).self) { try self.decode(Array(text.utf8)) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        let bytes = Array(#"{"leaf":{"commit_ts":1,"hash":""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        #expect(throws: (any Error).self) { try self.decode(bytes) }
    }
}
