import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import StatehouseProto
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import StatehouseTesting
#endif

@Suite("statehoused as a process", .timeLimit(.minutes(3)))
struct DaemonTests {
    @Test("serves on a loopback port, keeps data across a restart, exits 0 on SIGTERM")
    func serveRestartStop() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let port = try first.port()
        #expect(first.stderr().contains("Statehouse starting"))
        let commitTS = try await withDaemonClient(port: port) { client in
            #expect(try await client.health(Statehouse_V2_HealthRequest()).status == "ok")
            var operation = Statehouse_V2_Operation()
            operation.agentID = "a"
            operation.key = "k"
            operation.kind = .put
            operation.value = Data(#"{"kept":true}"#.utf8)
            var apply = Statehouse_V2_ApplyRequest()
            apply.operations = [operation]
            return try await client.apply(apply).result.commitTs
        }
        #expect(commitTS == 1)
        #expect(first.stop() == 0)
        #expect(first.stderr().contains("Statehouse stopped"))

        let second = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let secondPort = try second.port()
        let value = try await withDaemonClient(port: secondPort) { client in
            var get = Statehouse_V2_GetStateRequest()
            get.agentID = "a"
            get.key = "k"
            return String(decoding: try await client.getState(get).record.value, as: UTF8.self)
        }
        #expect(value == #"{"kept":true}"#)
        #expect(second.stop(SIGINT) == 0)
    }

    @Test("a second daemon on the same data directory is refused with a one-line message")
    func lockedDataDirectory() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        _ = try first.port()
        let second = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        second.process.waitUntilExit()
        #expect(second.process.terminationStatus == 1)
        #expect(
            second.stderr().contains("statehoused: data directory \(directory) is locked by another Statehouse process")
        )
        #expect(first.stop() == 0)
    }

    @Test("a port in use, a corrupt database and a bad flag each fail fast with their cause")
    func startupFailures() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let holder = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try holder.port()
        let clash = try DaemonProcess(arguments: ["--listen", "127.0.0.1:\(port)", "--memory"])
        clash.process.waitUntilExit()
        #expect(clash.process.terminationStatus == 1)
        #expect(
            clash.stderr().contains("statehoused: cannot listen on 127.0.0.1:\(port): the address is already in use"))
        // The address is tried before the store is opened: a daemon that cannot listen leaves nothing on disk.
        let untouched = directory + "/never-created"
        let clashOnDisk = try DaemonProcess(arguments: ["--listen", "127.0.0.1:\(port)", "--data-dir", untouched])
        clashOnDisk.process.waitUntilExit()
        #expect(clashOnDisk.process.terminationStatus == 1)
        #expect(!FileManager.default.fileExists(atPath: untouched))
        let unresolvable = try DaemonProcess(arguments: [
            "--listen", "no-such-host.invalid:50051", "--data-dir", untouched,
        ])
        unresolvable.process.waitUntilExit()
        #expect(unresolvable.process.terminationStatus == 1)
        #expect(unresolvable.stderr().contains("cannot resolve host 'no-such-host.invalid'"))
        #expect(!FileManager.default.fileExists(atPath: untouched))
        #expect(holder.stop() == 0)

        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: directory + "/statehouse.db"))
        let corrupt = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        corrupt.process.waitUntilExit()
        #expect(corrupt.process.terminationStatus == 1)
        #expect(corrupt.stderr().contains("corrupt or not a Statehouse database"))

        let badFlag = try DaemonProcess(arguments: ["--durability", "sometimes"])
        badFlag.process.waitUntilExit()
        #expect(badFlag.process.terminationStatus == 2)
        #expect(badFlag.stderr().contains("durability must be full or relaxed"))
    }
}

/// Commits acknowledged by the daemon: commit_ts → txn_id.
final class Acknowledged: Sendable {
    private let state = Mutex<[UInt64: String]>([:])

    func withLock<T>(_ body: (inout [UInt64: String]) -> T) -> T { self.state.withLock { body(&$0) } }
}

@Suite("statehoused shutdown under load", .timeLimit(.minutes(3)))
struct DaemonShutdownTests {
    @Test("SIGTERM during concurrent commits loses no acknowledged commit")
    func sigtermUnderLoad() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let port = try daemon.port()
        let acknowledged = Acknowledged()
        try await withDaemonClient(port: port) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<16 {
                    group.addTask {
                        for index in 0..<10_000 {
                            var operation = Statehouse_V2_Operation()
                            operation.agentID = "writer-\(writer)"
                            operation.key = "k\(index % 50)"
                            operation.kind = .put
                            operation.value = Data("\(index)".utf8)
                            var apply = Statehouse_V2_ApplyRequest()
                            apply.operations = [operation]
                            do {
                                let result = try await client.apply(apply).result
                                acknowledged.withLock { $0[result.commitTs] = result.txnID }
                            } catch {
                                return  // the daemon is shutting down: later commits are refused, not lost
                            }
                        }
                    }
                }
                group.addTask {
                    while acknowledged.withLock({ $0.count }) < 300 { try await Task.sleep(for: .milliseconds(5)) }
                    #expect(daemon.stop() == 0)
                }
                try await group.waitForAll()
            }
        }
        let acks = acknowledged.withLock { $0 }
        #expect(acks.count >= 300)

        let restarted = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let newPort = try restarted.port()
        let stored = try await withDaemonClient(port: newPort) { client in
            var events: [UInt64: String] = [:]
            var request = Statehouse_V2_ReplayRequest()
            request.filter.namespace = "default"
            try await client.replay(request) { response in
                var collected: [UInt64: String] = [:]
                for try await batch in response.messages {
                    for event in batch.events { collected[event.commitTs] = event.txnID }
                }
                return collected
            }.forEach { events[$0.key] = $0.value }
            let report = try await client.verify(Statehouse_V2_VerifyRequest())
            #expect(report.ok)
            return events
        }
        for (commitTS, txnID) in acks {
            #expect(stored[commitTS] == txnID, "acknowledged commit \(commitTS) is missing after SIGTERM")
        }
        #expect(restarted.stop() == 0)
    }
}
