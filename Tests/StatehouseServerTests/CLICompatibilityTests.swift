import Foundation
import Testing

#if canImport(Glibc)
import Glibc
import StatehouseTesting
#endif

/// statehousectl as a user of the original Statehouse CLI uses it (its flags, its backup instruction), and the
/// frictions a new user met: addresses, exit codes, colour, versions.
@Suite("statehousectl: the original CLI's forms, addresses, exit codes", .timeLimit(.minutes(3)))
struct CLICompatibilityTests {
    @Test("addresses: host names, --address, STATEHOUSE_ADDRESS, bracketed IPv6; a bad one is a usage error")
    func addresses() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "localhost:0", "--memory"])
        let port = try daemon.port()
        #expect(try statehousectl(["--addr", "localhost:\(port)", "health"]).out == "ok\n")
        #expect(try statehousectl(["--address", "127.0.0.1:\(port)", "health"]).out == "ok\n")
        #expect(try statehousectl(["health", "--address", "localhost:\(port)"]).out == "ok\n")
        #expect(try statehousectl(["health"], environment: ["STATEHOUSE_ADDRESS": "localhost:\(port)"]).out == "ok\n")
        #expect(try statehousectl(["health"], environment: ["STATEHOUSE_ADDR": "localhost:\(port)"]).out == "ok\n")
        for bad in ["localhost", "::1:50051", "localhost:99999", "[::1]"] {
            let result = try statehousectl(["--addr", bad, "health"])
            #expect(result.code == 2 && result.err.contains("--addr:"), "\(bad): \(result.err)")
        }
        #expect(daemon.stop() == 0)

        let v6 = try DaemonProcess(arguments: ["--listen", "[::1]:0", "--memory"])
        let v6Port = try v6.port()
        #expect(v6.stderr().contains("address=[::1]:\(v6Port)"))
        #expect(try statehousectl(["--addr", "[::1]:\(v6Port)", "put", "a", "k", "1"]).code == 0)
        #expect(try statehousectl(["--addr", "[::1]:\(v6Port)", "get", "a", "k"]).out == "1\n")
        #expect(v6.stop() == 0)
    }

    @Test("one exit-code table: 0 ok, 1 failure, 2 usage or bad input, 3 not found, 4 conflict")
    func exitCodes() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        #expect(try statehousectl(["put", "a", "k", #"{"v":1}"#], port: port).code == 0)
        let cases: [([String], Int32, String)] = [
            (["get", "a", "missing"], 3, "not found"),
            (
                ["get", "a", "k", "--version", "9"], 3,
                "version 9 of agent 'a' key 'k' does not exist (its versions are 1 to 1)"
            ),
            (["-n", "typo", "verify"], 3, "namespace 'typo' has no commits"),
            (["get", "a", "k", "--at", "99"], 2, "commit_ts 99 is beyond the end of the log of namespace 'default'"),
            (["put", "a", "k", "{bad"], 2, "JSON"),
            (["put", "a", "", "1"], 2, "key"),
            (["put", "a", "k", "2", "--expect-version", "-1"], 2, "The value '-1' is invalid for '--expect-version"),
            (["put", "a", "k", "2", "--expect-version", "5"], 4, "conflict on agent 'a' key 'k'"),
            (["keys", "a", "-o", "yaml"], 2, "-o takes text or json"),
            (["frobnicate"], 2, "unknown command 'frobnicate'"),
        ]
        for (arguments, code, message) in cases {
            let result = try statehousectl(arguments, port: port)
            #expect(result.code == code, "\(arguments): \(result.err)")
            #expect(result.err.contains(message), "\(arguments): \(result.err)")
        }
        #expect(daemon.stop() == 0)
        let unreachable = try statehousectl(["health"], port: port)
        #expect(unreachable.code == 1 && unreachable.err.contains("127.0.0.1:\(port)"))
    }

    @Test("versions are embedded at build time: the daemon's and the CLI's name their git commit")
    func versions() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonProcess.binary)
        process.arguments = ["--version"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let daemonVersion = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(
            daemonVersion.hasPrefix("statehoused 0.1.0 (") && !daemonVersion.contains("unknown"), "\(daemonVersion)")
        let sha = daemonVersion.split(separator: "(").last!.split(separator: ")").first!.prefix(12)
        #expect(sha.count == 12 && sha.allSatisfy(\.isHexDigit), "\(daemonVersion)")

        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        let version = try statehousectl(["version"], port: port).out
        #expect(version.hasPrefix("Version: 0.1.0\nGit SHA: \(sha)"), "\(version)")
        #expect(version.contains("Client: statehousectl 0.1.0 (\(sha)"))
        #expect(try statehousectl(["--version"]).out.hasPrefix("statehousectl 0.1.0 (\(sha)"))
        #expect(daemon.stop() == 0)
        // With the daemon gone, `version` still says what this CLI is, then fails.
        let alone = try statehousectl(["version"], port: port)
        #expect(alone.code == 1 && alone.out.hasPrefix("Client: statehousectl 0.1.0 (\(sha)"))
    }

    @Test("colour on request or on a terminal, never in a pipe by default, and NO_COLOR is respected")
    func colour() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        _ = try statehousectl(["put", "a", "k", "1"], port: port)
        let plain = try statehousectl(["replay"], port: port).out
        #expect(!plain.contains("\u{1B}[") && plain.contains("WRITE  key=k"))
        let coloured = try statehousectl(["--color", "always", "replay"], port: port).out
        #expect(coloured.contains("\u{1B}[32mWRITE\u{1B}[0m") && coloured.contains("\u{1B}[36mk"))
        #expect(!(try statehousectl(["--color", "never", "keys", "a"], port: port).out.contains("\u{1B}[")))
        #expect(!(try statehousectl(["--color", "auto", "keys", "a"], port: port).out.contains("\u{1B}[")))
        // On a terminal, auto colours unless NO_COLOR is set (script(1) gives the command a pseudo-terminal).
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/script") {
            let ctl = URL(fileURLWithPath: DaemonProcess.binary).deletingLastPathComponent().appendingPathComponent(
                "statehousectl"
            ).path
            func onTerminal(_ environment: [String: String]) throws -> String {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
                process.arguments = ["-qec", "\(ctl) --addr 127.0.0.1:\(port) keys a", "/dev/null"]
                process.environment = ["PATH": "/usr/bin:/bin", "TERM": "xterm"].merging(environment) { $1 }
                let out = Pipe()
                process.standardOutput = out
                try process.run()
                process.waitUntilExit()
                return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            }
            #expect(try onTerminal([:]).contains("\u{1B}[36m"))
            #expect(!(try onTerminal(["NO_COLOR": "1"]).contains("\u{1B}[36m")))
        }
        #expect(daemon.stop() == 0)
    }

    @Test("dump AGENT -o backup.json writes the file; load writes it back as one commit, elsewhere too")
    func dumpAndLoad() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        _ = try statehousectl(["put", "agent-1", "task", #"{"goal":"research","n":12345678901234567890}"#], port: port)
        _ = try statehousectl(["put", "agent-1", "step/1", #""searched""#], port: port)
        _ = try statehousectl(["put", "agent-2", "x", "true"], port: port)
        _ = try statehousectl(["put", "agent-1", "step/1", #""searched twice""#], port: port)

        let file = directory + "/backup.json"
        let dumped = try statehousectl(["dump", "agent-1", "-o", file], port: port)
        #expect(dumped.code == 0 && dumped.out.contains("State dumped to \(file): 2 keys of 1 agent"), "\(dumped.err)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.contains(#""statehouse_dump": 1"#) && text.contains(#""commit_ts": 4"#))
        #expect(text.contains(#""task": {"value": {"goal":"research","n":12345678901234567890}, "version": 1"#))
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
        // -o text and -o json still choose the format; --out is the explicit file form.
        #expect(try statehousectl(["dump", "agent-1", "-o", "text"], port: port).out.contains("Version: 2"))
        #expect(
            try statehousectl(["dump", "agent-1", "-o", "json"], port: port).out.hasPrefix(
                "{\n  \"statehouse_dump\": 1"))
        #expect(
            try statehousectl(["dump", "--out", directory + "/all.json"], port: port).out.contains("3 keys of 2 agents")
        )
        // As of an earlier commit: the first value of step/1.
        #expect(
            try statehousectl(["dump", "agent-1", "--at", "2"], port: port).out.contains(#""searched", "version": 1"#))
        #expect(try statehousectl(["scan", "agent-1", "--at", "1"], port: port).out.contains("task"))
        #expect(!(try statehousectl(["scan", "agent-1", "--at", "1"], port: port).out.contains("step/1")))
        #expect(try statehousectl(["scan", "agent-1", "--as-of", "2000-01-01T00:00:00Z"], port: port).out.isEmpty)

        // Back into another namespace (same agent), and into another agent, each as one commit.
        let loaded = try statehousectl(["-n", "restore", "load", file], port: port)
        #expect(
            loaded.code == 0 && loaded.out.contains("loaded 2 keys of 1 agent into namespace 'restore' at commit_ts 1"))
        #expect(
            try statehousectl(["-n", "restore", "get", "agent-1", "task"], port: port).out
                == #"{"goal":"research","n":12345678901234567890}"# + "\n")
        #expect(try statehousectl(["load", file, "--agent", "agent-9"], port: port).out.contains("at commit_ts 5"))
        #expect(try statehousectl(["get", "agent-9", "step/1"], port: port).out == "\"searched twice\"\n")
        #expect(try statehousectl(["load", directory + "/all.json", "--agent", "one"], port: port).code == 2)

        // The original CLI's dump ({"KEY": {"value": ...}}) loads when told the agent.
        let original = directory + "/original.json"
        try #"{"task": {"value": {"description": "Research"}, "version": 1, "commit_ts": 1770488000}}"#
            .write(toFile: original, atomically: true, encoding: .utf8)
        let needsAgent = try statehousectl(["load", original], port: port)
        #expect(needsAgent.code == 2 && needsAgent.err.contains("--agent"))
        #expect(try statehousectl(["load", original, "--agent", "legacy"], port: port).code == 0)
        #expect(try statehousectl(["get", "legacy", "task"], port: port).out == #"{"description": "Research"}"# + "\n")
        try "{not json".write(toFile: original, atomically: true, encoding: .utf8)
        #expect(try statehousectl(["load", original, "--agent", "x"], port: port).code == 2)
        #expect(try statehousectl(["load", directory + "/none.json"], port: port).code == 2)
        #expect(daemon.stop() == 0)
    }

    @Test("the original's flags: --json, --verbose, --pretty, --limit, --start-ts/--end-ts, --key-prefix, inspect")
    func originalFlags() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        _ = try statehousectl(["put", "research-1", "context", #"{"topic":"databases"}"#], port: port)
        _ = try statehousectl(["put", "research-1", "tool/search", #"{"query":"raft vs paxos"}"#], port: port)
        _ = try statehousectl(["put", "research-1", "final/answer", #""Raft is simpler""#], port: port)
        _ = try statehousectl(["delete", "research-1", "context"], port: port)

        let json = try statehousectl(["replay", "research-1", "--json"], port: port).out.split(separator: "\n")
        #expect(
            json.count == 4 && json[0].contains(#""agent_id":"research-1""#) && json[0].contains(#""key":"context""#))
        #expect(
            try statehousectl(["replay", "research-1", "--limit", "2"], port: port).out.split(separator: "\n").count
                == 2)
        let range = try statehousectl(["replay", "research-1", "--start-ts", "2", "--end-ts", "3"], port: port).out
        #expect(
            range.contains("TOOL   key=tool/search") && range.contains("FINAL  key=final/answer")
                && !range.contains("context"))
        #expect(
            try statehousectl(["replay", "--key-prefix", "tool/"], port: port).out.split(separator: "\n").count == 1)
        let verbose = try statehousectl(["replay", "research-1", "--verbose"], port: port).out
        #expect(
            verbose.contains("txn=") && verbose.contains("event=2")
                && verbose.contains(#"  payload: {"query":"raft vs paxos"}"#))
        let pretty = try statehousectl(["get", "research-1", "tool/search", "--pretty"], port: port).out
        #expect(
            pretty.hasPrefix("Key:       tool/search\nVersion:   1\nTimestamp: ")
                && pretty.contains(#"Value: {"query":"raft vs paxos"}"#))
        #expect(
            try statehousectl(["get", "research-1", "tool/search", "--json-output"], port: port).out.contains(
                #""value":{"query""#))

        let inspect = try statehousectl(["inspect", "research-1"], port: port).out
        #expect(inspect.contains("=== Agent Inspect: research-1 ===") && inspect.contains("Total Keys: 2"))
        #expect(inspect.contains("Total Events: 4") && inspect.contains("DEL    key=context"))
        #expect(try statehousectl(["inspect", "research-1", "-o", "json"], port: port).out.contains(#""events":4"#))
        #expect(daemon.stop() == 0)
    }

    @Test("bench writes into its own namespace unless told otherwise, and says where")
    func benchNamespace() throws {
        let daemon = try DaemonProcess(arguments: ["--listen", "127.0.0.1:0", "--memory"])
        let port = try daemon.port()
        let result = try statehousectl(["bench", "--ops", "20", "--clients", "2"], port: port)
        #expect(result.code == 0 && result.out.contains("namespace bench"), "\(result.err)")
        #expect(try statehousectl(["namespaces"], port: port).out.contains("bench"))
        #expect(try statehousectl(["-n", "default", "agents"], port: port).out.isEmpty)
        #expect(daemon.stop() == 0)
    }
}
