import Foundation
import Logging
import StatehouseCore
import StatehouseSQLite
import StatehouseServer
import StatehouseTesting
import Testing

@Suite("Daemon configuration")
struct ConfigurationTests {
    static func load(_ arguments: [String], _ environment: [String: String] = [:]) throws -> ServerConfiguration {
        guard
            case .run(let configuration) = try ServerConfiguration.load(arguments: arguments, environment: environment)
        else {
            throw ServerSettings.InvalidSetting(description: "expected a run command")
        }
        return configuration
    }

    @Test("defaults: loopback, ./statehouse-data, full durability")
    func defaults() throws {
        let configuration = try Self.load([])
        #expect(configuration.listenAddress == "127.0.0.1:50051")
        #expect(configuration.dataDirectory == "./statehouse-data")
        #expect(!configuration.useMemory && configuration.durability == .full)
        #expect(configuration.engine.limits.maxValueBytes == 1 << 20)
        #expect(configuration.storage.cacheSizeKiB == 64 * 1024)
    }

    @Test("the page cache is set per connection in MiB, within 1 ... 65,536")
    func cacheSize() throws {
        #expect(try Self.load(["--cache-mib", "1"]).storage.cacheSizeKiB == 1024)
        #expect(try Self.load([], ["STATEHOUSE_CACHE_MIB": "65536"]).storage.cacheSizeKiB == 65_536 * 1024)
        for bad in ["0", "65537", "lots"] {
            #expect(throws: (any Error).self) { try Self.load(["--cache-mib", bad]) }
        }
    }

    @Test("flags win over environment, environment over the config file")
    func precedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("statehouse-\(UUID()).conf").path
        try "listen = 127.0.0.1:7000\ndata-dir = /from/file  # a comment\nmax-value-bytes = 100\nlog-format = json\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try Self.load(
            ["--config", file, "--listen", "127.0.0.1:9000", "--memory"],
            ["STATEHOUSE_LISTEN": "127.0.0.1:8000", "STATEHOUSE_DATA_DIR": "/from/env"]
        )
        #expect(configuration.port == 9000)
        #expect(configuration.dataDirectory == "/from/env")
        #expect(configuration.engine.limits.maxValueBytes == 100)
        #expect(configuration.logFormat == .json)
        #expect(configuration.useMemory)
        let fromEnvironmentFile = try Self.load([], ["STATEHOUSE_CONFIG": file, "STATEHOUSE_USE_MEMORY": "1"])
        #expect(fromEnvironmentFile.port == 7000 && fromEnvironmentFile.useMemory)
        #expect(try Self.load(["--listen=[::1]:5"]).host == "::1")
        #expect(try Self.load(["--listen", "localhost:50051"]).host == "localhost")
    }

    @Test("the original daemon's variables: STATEHOUSE_LISTEN_ADDR, STATEHOUSE_ADDR and a plain RUST_LOG level")
    func originalEnvironment() throws {
        #expect(try Self.load([], ["STATEHOUSE_LISTEN_ADDR": "127.0.0.1:7001"]).port == 7001)
        #expect(try Self.load([], ["STATEHOUSE_ADDR": "127.0.0.1:7002"]).port == 7002)
        // Our own name wins over the aliases, and the first alias over the second.
        let both = [
            "STATEHOUSE_LISTEN": "127.0.0.1:7003", "STATEHOUSE_LISTEN_ADDR": "127.0.0.1:7004",
            "STATEHOUSE_ADDR": "127.0.0.1:7005",
        ]
        #expect(try Self.load([], both).port == 7003)
        #expect(try Self.load([], both.filter { $0.key != "STATEHOUSE_LISTEN" }).port == 7004)
        #expect(try Self.load([], ["RUST_LOG": "debug"]).logLevel == .debug)
        #expect(try Self.load([], ["RUST_LOG": "warn"]).logLevel == .warning)
        // A per-module filter means nothing here: the default stays.
        #expect(try Self.load([], ["RUST_LOG": "statehouse_core=debug"]).logLevel == .info)
        #expect(try Self.load([], ["RUST_LOG": "debug", "STATEHOUSE_LOG_LEVEL": "error"]).logLevel == .error)
        // They rank below the config file: a STATEHOUSE_ADDR exported for the CLI does not move a configured daemon.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("statehouse-\(UUID()).conf").path
        try "listen = 127.0.0.1:7100\nlog-level = error\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configured = try Self.load(["--config", file], ["STATEHOUSE_ADDR": "0.0.0.0:50051", "RUST_LOG": "debug"])
        #expect(configured.host == "127.0.0.1" && configured.port == 7100 && configured.logLevel == .error)
        #expect(try Self.load(["--config", file], ["STATEHOUSE_LISTEN": "127.0.0.1:7101"]).port == 7101)
    }

    @Test(
        "bad input names the setting",
        arguments: [
            (["--listen", "nope"], [:], "--listen: 'nope' has no port; use HOST:PORT"),
            (["--listen", "::1:50051"], [:], "--listen: '::1:50051': write an IPv6 address in brackets"),
            (["--listen", "localhost:70000"], [:], "--listen: '70000' in 'localhost:70000' is not a port"),
            (["--bogus", "1"], [:], "unknown option --bogus"),
            (["--durability", "sometimes"], [:], "--durability: durability must be full or relaxed"),
            (["--max-value-bytes", "-1"], [:], "--max-value-bytes: max-value-bytes must be a whole number"),
            ([], ["STATEHOUSE_LOG_LEVEL": "loud"], "STATEHOUSE_LOG_LEVEL: log-level must be"),
            (["--data-dir"], [:], "--data-dir needs a value"),
            (["stray"], [:], "unexpected argument 'stray'"),
            (["--transaction-timeout", "700"], [:], "transaction-timeout must not be above max-transaction-timeout"),
        ] as [([String], [String: String], String)]
    )
    func badInput(_ arguments: [String], _ environment: [String: String], _ message: String) {
        do {
            _ = try ServerConfiguration.load(arguments: arguments, environment: environment)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".hasPrefix(message), "\(error)")
        }
    }

    @Test("statehouse.conf.example documents every setting and matches the code")
    func exampleFile() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let committed = try String(
            contentsOf: repository.appendingPathComponent("statehouse.conf.example"), encoding: .utf8)
        #expect(committed == ServerConfiguration.exampleConfigFile)
        // Every example value is valid: uncomment them all and load the file.
        let uncommented = committed.split(separator: "\n").filter { $0.hasPrefix("# ") && $0.contains(" = ") }
            .map { $0.dropFirst(2) }.joined(separator: "\n")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("statehouse-\(UUID()).conf").path
        try uncommented.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let loaded = try Self.load(["--config", file])
        let defaults = try Self.load([])
        #expect(loaded.listenAddress == defaults.listenAddress && loaded.engine.limits == defaults.engine.limits)
        for setting in ServerSettings.all { #expect(ServerConfiguration.helpText.contains("--\(setting.name)")) }
    }
}
