import Dispatch
import Foundation
import StatehouseFuzzTargets
import StatehouseRequestFuzzTarget
import Testing

/// Replays every input kept in Regressions/<target>/ (seeds and inputs that once failed a fuzz target) through the
/// target, so that a fixed failure stays fixed. New failures found by scripts/fuzz.sh are copied there.
@Suite("Fuzz regression inputs")
struct FuzzRegressionTests {
    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        let directory = try #require(Bundle.module.url(forResource: "Regressions", withExtension: nil))
            .appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }

    @Test("JSON validation inputs")
    func json() throws {
        let inputs = try Self.inputs("json")
        #expect(!inputs.isEmpty)
        for (_, bytes) in inputs { FuzzTargets.jsonValidation(bytes) }
    }

    @Test("cursor decoding inputs")
    func cursor() throws {
        let inputs = try Self.inputs("cursor")
        #expect(!inputs.isEmpty)
        for (_, bytes) in inputs { FuzzTargets.cursorDecoding(bytes) }
    }

    @Test("session request inputs")
    func session() async throws {
        let inputs = try Self.inputs("session")
        #expect(!inputs.isEmpty)
        // The target blocks its thread while the service works (libFuzzer calls it synchronously): run it on a
        // Dispatch thread, never on the cooperative pool it waits for.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for (_, bytes) in inputs { RequestFuzzTarget.sessionRequest(bytes) }
                done.resume()
            }
        }
    }
}
