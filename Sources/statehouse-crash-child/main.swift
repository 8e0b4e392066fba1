// A child process for the crash test: it commits in a loop and reports every acknowledged commit on stdout, one
// line per commit, until it is killed. The parent SIGKILLs it at a random moment, reopens the store and checks
// that every reported commit is there, whole.
//
// Usage: statehouse-crash-child DATA_DIR WRITERS
// Output lines: "ack COMMIT_TS TXN_ID WRITER SEQUENCE"
import Foundation
import Logging
import StatehouseCore
import StatehouseSQLite

#if canImport(Glibc)
import Glibc
#endif

/// Writes whole lines with one write(2) each, so lines from concurrent writers never interleave on the pipe.
func report(_ line: String) {
    var bytes = Array((line + "\n").utf8)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { exit(3) }
            offset += written
        }
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let writers = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: statehouse-crash-child DATA_DIR WRITERS\n".utf8))
    exit(2)
}
let directory = arguments[1]
let logger = Logger(label: "statehouse.crash-child", factory: { _ in SwiftLogNoOpLogHandler() })

let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: logger)
let engine = StatehouseEngine(backend: backend, logger: logger)
report("ready")
await withDiscardingTaskGroup { group in
    group.addTask { await engine.run() }
    for writer in 0..<writers {
        group.addTask {
            // Each writer continues its own sequence after a restart: read where it stopped.
            let counter = try? await engine.get(agentID: "writer-\(writer)", key: "counter")
            var sequence = counter?.value.flatMap { Int($0.text) } ?? 0
            while true {
                sequence += 1
                // Three keys per transaction, across two agents: a partial commit would show as a mismatch.
                let operations: [WriteOperation] = [
                    .put(agentID: "writer-\(writer)", key: "counter", value: try! JSONValue(validating: "\(sequence)")),
                    .put(
                        agentID: "writer-\(writer)", key: "item/\(sequence % 16)",
                        value: try! JSONValue(validating: "{\"writer\":\(writer),\"sequence\":\(sequence)}")),
                    .put(agentID: "shared", key: "last-\(writer)", value: try! JSONValue(validating: "\(sequence)")),
                ]
                do {
                    let result: CommitResult
                    if sequence % 2 == 0 {
                        result = try await engine.commit(AtomicCommit(operations: operations))
                    } else {
                        let txn = try engine.beginTransaction()
                        for operation in operations {
                            try engine.put(
                                txnID: txn.txnID, agentID: operation.agentID, key: operation.key,
                                value: operation.value!)
                        }
                        result = try await engine.commit(txnID: txn.txnID)
                    }
                    report("ack \(result.commitTS) \(result.txnID) \(writer) \(sequence)")
                } catch {
                    report("error \(error)")
                    exit(4)
                }
            }
        }
    }
}
