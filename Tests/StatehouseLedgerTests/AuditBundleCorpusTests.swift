import Foundation
import StatehouseLedger
import StatehouseModel
import Testing

/// The Swift verifier on the corpus of good and bad bundles (Tests/Fixtures/audit-bundles, made by
/// scripts/make-audit-corpus.py). python/tests/test_audit.py runs the Python verifier on the same files: both must
/// give the verdict of expected.json (ok, or the line of the first failure), so they agree with each other.
@Suite("Audit bundles: the shared corpus")
struct AuditBundleCorpusTests {
    struct Expected: Decodable {
        var ok: Bool
        var line: Int?
        var key: String?
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/audit-bundles")

    static func cases() throws -> [(String, Expected)] {
        let data = try Data(contentsOf: self.directory.appendingPathComponent("expected.json"))
        return try JSONDecoder().decode([String: Expected].self, from: data).sorted { $0.key < $1.key }
    }

    /// Verifies a bundle file line by line, as `statehousectl audit verify` does.
    static func verify(_ file: URL, key: LedgerPublicKey) throws(LedgerVerificationError) -> AuditBundleVerifier.Report
    {
        var verifier = AuditBundleVerifier(publicKey: key)
        let data = (try? Data(contentsOf: file)) ?? Data()
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: 0x0A) ?? data.endIndex
            try verifier.consume(data[start..<end])
            start = end < data.endIndex ? data.index(after: end) : end
        }
        return try verifier.finish()
    }

    @Test("every bundle of the corpus gets the verdict of expected.json")
    func corpus() throws {
        let cases = try Self.cases()
        #expect(cases.count >= 15)
        for (name, expected) in cases {
            let file = String(name.split(separator: ":")[0])
            let pem = try String(
                contentsOf: Self.directory.appendingPathComponent(expected.key ?? "public.pem"), encoding: .utf8)
            let key = try LedgerPublicKey(pem: pem)
            do {
                let report = try Self.verify(Self.directory.appendingPathComponent(file), key: key)
                #expect(
                    expected.ok,
                    "\(name) verified (\(report.events) events) but should fail at line \(expected.line ?? 0)")
            } catch {
                let line = error.description.firstMatch(of: /line (\d+)/).map { Int($0.1)! }
                #expect(!expected.ok && line == expected.line, "\(name): \(error)")
            }
        }
    }

    @Test("a whole-namespace bundle proves the complete state; a bundle of a later range only the entries it gives")
    func reports() throws {
        let key = try LedgerPublicKey(
            pem: String(contentsOf: Self.directory.appendingPathComponent("public.pem"), encoding: .utf8))
        let whole = try Self.verify(Self.directory.appendingPathComponent("good-whole.jsonl"), key: key)
        #expect(whole.fromCommitTS == 1 && whole.toCommitTS == 20 && whole.events == 20 && whole.stateComplete)
        let agent = try Self.verify(Self.directory.appendingPathComponent("good-agent.jsonl"), key: key)
        #expect(agent.agentID == "agent-1" && agent.events + agent.leaves == 7 && !agent.stateComplete)
    }
}
