import Foundation
import StatehouseCore
import StatehouseSQLite
import Testing

#if canImport(Glibc)
import Glibc
import StatehouseTesting
#endif

/// Durability is tested by killing, not by reasoning: a child process commits in a loop, reports each
/// acknowledgement on a pipe, and is SIGKILLed at a random moment.
@Suite("Crash safety")
struct CrashTests {
    struct Ack: Hashable {
        var commitTS: CommitTS
        var txnID: String
        var writer: Int
        var sequence: Int
    }

    /// The crash child sits next to the test bundle in the build directory.
    static var childPath: String {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("statehouse-crash-child").path
    }

    /// Runs the child until it reported `acks` acknowledgements (plus a random delay), then SIGKILLs it.
    static func runAndKill(directory: String, writers: Int, acks: Int) throws -> [Ack] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.childPath)
        process.arguments = [directory, "\(writers)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let handle = pipe.fileHandleForReading
        var buffer = Data()
        var lines: [String] = []
        var killed = false
        let deadline = Date().addingTimeInterval(60)
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }  // the child is gone and the pipe is drained
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
            if !killed && (lines.count > acks || Date() > deadline) {
                usleep(UInt32.random(in: 0...3000))
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
        }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the child exited by itself: \(lines.suffix(3))")
        #expect(
            !lines.contains { $0.hasPrefix("error") },
            "the child reported an error: \(lines.filter { $0.hasPrefix("error") })")
        return lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 5, parts[0] == "ack", let commitTS = CommitTS(parts[1]), let writer = Int(parts[3]),
                let sequence = Int(parts[4])
            else { return nil }
            return Ack(commitTS: commitTS, txnID: String(parts[2]), writer: writer, sequence: sequence)
        }
    }

    @Test("every acknowledged commit survives SIGKILL, whole, in a gap-free verifying log", .timeLimit(.minutes(3)))
    func killCycles() async throws {
        try await withTemporaryDirectory { directory in
            var acknowledged: [Ack] = []
            for _ in 0..<4 {
                acknowledged += try Self.runAndKill(directory: directory, writers: 8, acks: Int.random(in: 20...400))
                let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
                try await runEngine(backend: backend) { (engine: StatehouseEngine) async throws in
                    let events = try await engine.allEvents()
                    // Gap-free from 1, and no transaction partially applied.
                    #expect(events.enumerated().allSatisfy { $0.element.commitTS == CommitTS($0.offset + 1) })
                    #expect(events.allSatisfy { $0.operations.count == 3 })
                    let byCommitTS = Dictionary(uniqueKeysWithValues: events.map { ($0.commitTS, $0) })
                    for ack in acknowledged {
                        let event = byCommitTS[ack.commitTS]
                        #expect(
                            event?.txnID == ack.txnID, "acknowledged commit \(ack.commitTS) is missing or different")
                        #expect(event?.operations.first?.value == json("\(ack.sequence)"))
                        #expect(event?.operations.first?.agentID == "writer-\(ack.writer)")
                    }
                    // Each writer's counter holds its newest durable sequence: at least its last acknowledgement.
                    for writer in 0..<8 {
                        let last = acknowledged.filter { $0.writer == writer }.map(\.sequence).max() ?? 0
                        let stored = try await engine.get(agentID: "writer-\(writer)", key: "counter")
                        #expect((stored.value.flatMap { Int($0.text) } ?? 0) >= last)
                    }
                    #expect(try await engine.verify().isValid)
                }
            }
            #expect(acknowledged.count >= 4 * 20)
        }
    }
}
