import CSQLite
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import StatehouseTesting
#endif

/// Runs `statehousectl` (built next to the test bundle) and returns its exit code, stdout and stderr.
func statehousectl(_ arguments: [String], port: Int) throws -> (code: Int32, out: String, err: String) {
    try statehousectl(["--addr", "127.0.0.1:\(port)"] + arguments)
}

/// Runs `statehousectl` with exactly these arguments (and environment, beside PATH).
func statehousectl(
    _ arguments: [String], environment: [String: String] = [:]
) throws -> (code: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent()
        .appendingPathComponent("statehousectl")
    process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
}

@Suite("statehousectl against a real daemon", .timeLimit(.minutes(3)))
struct CLITests {
    @Test("put, get, keys, scan, history, agents, namespaces, replay, dump, verify; exit codes and JSON output")
    func commands() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let port = try daemon.port()

        #expect(try statehousectl(["health"], port: port).out == "ok\n")
        #expect(try statehousectl(["put", "planner", "plan/1", #"{"step":1}"#], port: port).code == 0)
        #expect(
            try statehousectl(["put", "planner", "plan/1", #"{"step":2}"#, "--expect-version", "1"], port: port).code
                == 0)
        let conflict = try statehousectl(["put", "planner", "plan/1", "3", "--expect-version", "1"], port: port)
        #expect(conflict.code == 4 && conflict.err.contains("conflict on agent 'planner' key 'plan/1'"))
        #expect(try statehousectl(["-n", "other", "put", "worker", "task", "\"x\""], port: port).code == 0)
        #expect(try statehousectl(["delete", "planner", "plan/1"], port: port).code == 0)
        #expect(try statehousectl(["put", "planner", "memo", #""note""#], port: port).code == 0)

        let current = try statehousectl(["get", "planner", "memo"], port: port)
        #expect(current.code == 0 && current.out == "\"note\"\n")
        let old = try statehousectl(["get", "planner", "plan/1", "--version", "1", "-o", "json"], port: port)
        #expect(
            old.out.contains(#""value":{"step":1}"#) && old.out.contains(#""exists":true"#)
                && old.out.contains(#""commit_ts":1"#))
        #expect(try statehousectl(["get", "planner", "plan/1", "--at", "2"], port: port).out == "{\"step\":2}\n")
        let deleted = try statehousectl(["get", "planner", "plan/1", "-o", "json"], port: port)
        #expect(deleted.code == 3 && deleted.out.contains(#""exists":false"#) && deleted.err.contains("not found"))
        let missing = try statehousectl(["get", "planner", "nothing"], port: port)
        #expect(missing.code == 3 && missing.out.isEmpty && missing.err == "not found\n")
        #expect(try statehousectl(["get", "planner"], port: port).code == 2)
        #expect(try statehousectl(["put", "a", "k", "{bad"], port: port).code == 2)
        #expect(try statehousectl(["get", "a", "k", "--as-of", "yesterday"], port: port).code == 2)

        #expect(try statehousectl(["keys", "planner"], port: port).out.contains("memo"))
        #expect(!(try statehousectl(["keys", "planner"], port: port).out.contains("plan/1")))
        #expect(
            try statehousectl(["keys", "planner", "--include-deleted", "-o", "json"], port: port).out.contains(
                #""deleted":true"#))
        #expect(try statehousectl(["scan", "planner", "me"], port: port).out.contains("\"note\""))
        let history = try statehousectl(["history", "planner", "plan/1", "-o", "json"], port: port)
        #expect(history.out.components(separatedBy: #""version":"#).count - 1 == 3)
        #expect(try statehousectl(["agents"], port: port).out == "planner\n")
        #expect(try statehousectl(["namespaces", "-o", "json"], port: port).out.contains(#""namespace":"other""#))

        let replay = try statehousectl(["replay", "-o", "json"], port: port)
        let lines = replay.out.split(separator: "\n")
        #expect(lines.count == 4 && lines[0].contains(#""commit_ts":1"#) && lines[2].contains(#""op":"delete""#))
        let range = try statehousectl(["replay", "--from", "2", "--to", "3"], port: port).out.split(separator: "\n")
        #expect(range.count == 2 && range[0].contains("WRITE  key=plan/1") && range[0].hasSuffix(#"v=2  {"step":2}"#))
        #expect(range[1].contains("DEL    key=plan/1") && range[1].hasSuffix("v=3  tombstone"))
        // A reader that stops early (like `| head -1`) ends the command quietly. The output (one 100 kB value) is
        // larger than a pipe's buffer, so the writer does meet the closed pipe.
        #expect(
            try statehousectl(
                ["-n", "big", "put", "a", "k", "\"" + String(repeating: "x", count: 100_000) + "\""], port: port
            ).code == 0)
        let early = Process()
        early.executableURL = URL(fileURLWithPath: "/bin/sh")
        let ctl = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent().appendingPathComponent(
            "statehousectl"
        ).path
        early.arguments = ["-c", "\(ctl) --addr 127.0.0.1:\(port) -n big replay -o json | head -c 1 > /dev/null"]
        let earlyErr = Pipe()
        early.standardError = earlyErr
        try early.run()
        early.waitUntilExit()
        #expect(
            !String(decoding: earlyErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains(
                "Fatal error"))
        let dump = try statehousectl(["dump"], port: port)
        #expect(dump.code == 0 && dump.out.contains(#""memo": {"value": "note", "version": 1, "commit_ts": 4"#))
        #expect(!dump.out.contains("plan/1"))  // deleted keys are not state
        let verify = try statehousectl(["verify"], port: port)
        #expect(verify.code == 0 && verify.out.hasPrefix("ok: 4 events verified"))
        #expect(daemon.stop() == 0)

        // Tamper with a stored value while stopped: verify exits 1 and names the commit.
        var db: OpaquePointer?
        #expect(sqlite3_open(directory + "/statehouse.db", &db) == SQLITE_OK)
        #expect(
            sqlite3_exec(
                db, "UPDATE versions SET value = CAST('{\"step\":9}' AS BLOB) WHERE commit_ts = 2", nil, nil, nil)
                == SQLITE_OK)
        sqlite3_close(db)
        let restarted = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--data-dir", directory])
        let newPort = try restarted.port()
        let tampered = try statehousectl(["verify"], port: newPort)
        #expect(tampered.code == 1 && tampered.err.contains("history does not verify at commit_ts 2"))
        #expect(restarted.stop() == 0)
    }

    @Test("retention set/show, compact, reading a removed version, verify after compaction, put --ttl")
    func retention() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try DaemonProcess(arguments: [
            "--listen", "127.0.0.1:0", "--data-dir", directory, "--retention-keep-versions", "5",
        ])
        let port = try daemon.port()
        let shown = try statehousectl(["retention", "show"], port: port)
        #expect(shown.code == 0 && shown.out.contains("the newest 5 versions") && shown.out.contains("default"))
        for index in 1...4 { #expect(try statehousectl(["put", "a", "k", "\(index)"], port: port).code == 0) }
        #expect(try statehousectl(["retention", "set", "--keep-versions", "-1"], port: port).code == 2)
        let set = try statehousectl(["retention", "set", "--keep-versions", "1", "-o", "json"], port: port)
        #expect(set.code == 0 && set.out.contains(#""source":"namespace""#) && set.out.contains(#""keep_versions":1"#))
        let compact = try statehousectl(["compact", "-o", "json"], port: port)
        #expect(compact.code == 0 && compact.out.contains(#""values_removed":3"#))
        let removed = try statehousectl(["get", "a", "k", "--version", "2"], port: port)
        #expect(
            removed.code == 3
                && removed.err.contains("version 2 of agent 'a' key 'k' was removed by the retention policy (kept: "))
        #expect(try statehousectl(["get", "a", "k"], port: port).out == "4\n")
        let verify = try statehousectl(["verify"], port: port)
        #expect(verify.code == 0 && verify.out.contains("3 of them hold values removed by retention"))
        let replay = try statehousectl(["replay", "--to", "1"], port: port)
        #expect(replay.out.contains("(value removed by retention)"))
        #expect(try statehousectl(["put", "a", "brief", "1", "--ttl", "0"], port: port).code == 2)
        #expect(try statehousectl(["put", "a", "brief", "1", "--ttl", "3600"], port: port).code == 0)
        let brief = try statehousectl(["get", "a", "brief", "-o", "json"], port: port)
        #expect(brief.out.contains(#""expires_at":"#))
        #expect(try statehousectl(["retention", "set", "--use-default"], port: port).out.contains("default"))
        #expect(daemon.stop() == 0)
    }

    @Test("bench runs each workload over the session and unary calls, bounded by --ops, and reports JSON")
    func bench() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        for workload in ["put", "txn", "interactive", "get", "scan", "replay"] {
            for mode in [[], ["--unary"]] {
                let result = try statehousectl(
                    [
                        "bench", "-n", "bench", "--workload", workload, "--clients", "4", "--ops", "40", "--keys", "50",
                        "--duration", "60", "-o", "json", "--daemon-pid", "\(daemon.process.processIdentifier)",
                    ] + mode,
                    port: port
                )
                #expect(result.code == 0, "\(workload) \(mode): \(result.err)")
                #expect(result.out.contains(#""ops":40"#) && result.out.contains(#""p99_us":"#), "\(result.out)")
                #expect(result.out.contains(#""daemon_cpu_us_per_op":"#))
                #expect(result.out.contains(mode.isEmpty ? #""mode":"session""# : #""mode":"unary""#))
            }
        }
        #expect(try statehousectl(["bench", "--clients", "0"], port: port).code == 2)
        #expect(daemon.stop() == 0)
    }

    @Test("tail prints the last lines and exits; -f follows new commits")
    func tail() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        for index in 1...4 { _ = try statehousectl(["put", "a", "k\(index)", "\(index)"], port: port) }
        _ = try statehousectl(["put", "b", "other", "0"], port: port)
        // The original's form: `tail AGENT -n N` is the last N lines, and never a namespace called "N".
        let lastTwo = try statehousectl(["tail", "a", "-n", "2"], port: port)
        #expect(lastTwo.code == 0)
        #expect(
            lastTwo.out.split(separator: "\n").map { $0.contains("key=k3") || $0.contains("key=k4") } == [true, true])
        #expect(
            try statehousectl(["tail", "a", "--lines", "3", "-o", "json"], port: port).out.split(separator: "\n").count
                == 3)
        #expect(try statehousectl(["tail", "a"], port: port).out.split(separator: "\n").count == 4)  // default 10
        #expect(try statehousectl(["-n", "empty", "tail"], port: port).out.isEmpty)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent()
            .appendingPathComponent("statehousectl")
        process.arguments = ["tail", "--addr", "127.0.0.1:\(port)", "-f", "-n", "1", "-o", "json"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var seen = ""
        func read(until text: String) {
            let deadline = Date().addingTimeInterval(20)
            while !seen.contains(text) && Date() < deadline {
                var readable = pollfd(fd: out.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
                if poll(&readable, 1, 100) > 0 {
                    seen += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
                }
            }
        }
        read(until: #""commit_ts":5"#)  // printed the last line before following: it has read the head
        for index in 6...8 { _ = try statehousectl(["put", "a", "k", "\(index)"], port: port) }
        read(until: #""commit_ts":8"#)
        // The last event before it started (commit 5), then each new commit once.
        #expect(seen.split(separator: "\n").count == 4)
        #expect(
            seen.contains(#""commit_ts":5"#) && seen.contains(#""commit_ts":6"#) && seen.contains(#""commit_ts":8"#))
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(daemon.stop() == 0)
    }
}
