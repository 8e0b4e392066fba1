import ArgumentParser
import Foundation
import StatehouseBuildInfo
import StatehouseClient
import StatehouseModel

/// `statehousectl`: the command line for a running statehoused.
///
/// Exit codes (``ExitStatus``): 0 success, 1 failure, 2 usage error or bad input, 3 not found, 4 conflict.
@main
struct Statehousectl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statehousectl",
        abstract: "Drive a running statehoused: state, history, the log and verification.",
        discussion: """
            Exit codes: 0 success; 1 failure (the daemon could not do it, or history does not verify); 2 usage \
            error or bad input (a flag, a name, JSON); 3 not found (a key, a version, a namespace); 4 conflict (a \
            condition such as --expect-version did not hold).
            """,
        version: "statehousectl \(StatehouseBuild.description)",
        subcommands: [
            Health.self, VersionCommand.self, Put.self, Delete.self, Get.self, Keys.self, Scan.self, History.self,
            Agents.self, Namespaces.self, Replay.self, Tail.self, Inspect.self, Dump.self, Load.self, Verify.self,
            Bench.self, LedgerKeyCommand.self, Audit.self, StateCommand.self, AgentCommand.self, SnapshotCommand.self,
            Restore.self, Fork.self, Diff.self, EventCommand.self, Events.self, SessionCommand.self, TaskCommand.self,
            Search.self, Backup.self, Export.self, Import.self, Migrate.self, RetentionCommand.self, Compact.self,
            MCPCommand.self,
            TokenCommand.self, WhoAmI.self, CaptureCommand.self, ProvenanceCommand.self, RunCommand.self,
            Advisory.self, ManifestCommand.self, ArtifactCommand.self,
        ]
    )

    /// Global options that take a value; the flags among them take none.
    static let globalOptionsWithValue: Set<String> = [
        "--addr", "--address", "-n", "--namespace", "-o", "--output", "--color", "--tls-ca", "--tls-cert", "--tls-key",
        "--token", "--token-file",
    ]
    static let globalFlags: Set<String> = ["--json", "--json-output"]

    /// Rewrites the command line into the shape ArgumentParser reads.
    ///
    /// - Global options may come before the command (`statehousectl --addr H:P get a k`); ArgumentParser reads
    ///   options of the command only, so they are moved behind the command name.
    /// - After `tail`, `-n N` is the number of lines, as in the original CLI and in tail(1) (`tail AGENT -n 20`);
    ///   the namespace is `--namespace` there, or `-n` before the command.
    static func normalizedArguments(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if Self.globalOptionsWithValue.contains(argument), index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if Self.globalFlags.contains(argument)
                || Self.globalOptionsWithValue.contains(where: { argument.hasPrefix($0 + "=") })
            {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard index < arguments.count else { return arguments }
        let command = arguments[index]
        guard Self.commandNames.contains(command) else { return arguments }
        var rest = Array(arguments[(index + 1)...])
        if command == "tail" {
            rest = rest.map { $0 == "-n" ? "--lines" : ($0.hasPrefix("-n=") ? "--lines=" + $0.dropFirst(3) : $0) }
        }
        // A command with subcommands (audit export): the global options go after the subcommand, which owns them.
        if let group = Self.configuration.subcommands.first(where: { $0._commandName == command }),
            let sub = rest.first,
            group.configuration.subcommands.contains(where: { $0._commandName == sub })
        {
            return [command, sub] + leading + rest.dropFirst()
        }
        return [command] + leading + rest
    }

    static var commandNames: Set<String> { Set(Self.configuration.subcommands.map { $0._commandName }) }

    /// The first argument after the global options when it names no command (`statehousectl --addr H:P frobnicate`),
    /// which ArgumentParser would report as an unknown option instead.
    static func unknownCommand(in arguments: [String]) -> String? {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if Self.globalOptionsWithValue.contains(argument) {
                index += 2
            } else if argument.hasPrefix("-") {
                index += 1
            } else {
                return Self.commandNames.contains(argument) || argument == "help" ? nil : argument
            }
        }
        return nil
    }

    /// Runs the command line with the exit codes of the documentation (ArgumentParser's own usage code is 64).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let unknown = Self.unknownCommand(in: arguments) {
            Terminal.standardError.failure("statehousectl: unknown command '\(unknown)'; see statehousectl --help")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        do {
            var command = try Self.parseAsRoot(Self.normalizedArguments(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            Terminal.standardError.failure("statehousectl: \(error)")
            Foundation.exit(ExitStatus.usage.rawValue)
        } catch let error as StatehouseError {
            Terminal.standardError.failure("statehousectl: \(error)")
            Foundation.exit(ExitStatus(error).rawValue)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = Self.exitCode(for: error)
            if code == .success {
                print(Self.fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(Self.fullMessage(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

/// The exit codes, one table for every command (`statehousectl --help` prints it).
enum ExitStatus: Int32 {
    case success = 0
    /// The daemon could not do it (unreachable, unavailable, out of capacity, corrupt), or history does not verify.
    case failure = 1
    /// A usage error or bad input: an unknown flag, a bad name or value, JSON that does not parse.
    case usage = 2
    /// What was asked for does not exist: a key, a version, a namespace.
    case notFound = 3
    /// A condition did not hold (`put --expect-version`): re-read and retry.
    case conflict = 4
    /// The daemon refused the credentials (none, unknown, expired, revoked) or the grants do not allow it.
    case denied = 5

    init(_ error: StatehouseError) {
        switch error {
        case .invalidArgument: self = .usage
        case .notFound, .transactionNotFound, .failedPrecondition: self = .notFound
        case .conflict: self = .conflict
        case .unauthenticated, .permissionDenied: self = .denied
        case .transactionExpired, .quotaExceeded, .resourceExhausted, .subscriberTooSlow, .unavailable, .dataCorruption,
            .internalError:
            self = .failure
        }
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: [.customLong("addr"), .customLong("address")],
        help:
            "Address of statehoused: HOST:PORT, e.g. localhost:50051 or [::1]:50051 (env STATEHOUSE_ADDRESS, STATEHOUSE_ADDR or STATEHOUSE_URL)."
    )
    var addr: String = Self.environmentAddress ?? "127.0.0.1:50051"

    @Option(
        name: .customLong("tls-ca"),
        help:
            "Connect over TLS, trusting the CA in this PEM file (env STATEHOUSE_TLS_CA; with --tls-cert and no CA: the system's roots)."
    )
    var tlsCA: String?

    @Option(
        name: .customLong("tls-cert"),
        help: "This client's certificate (PEM) for a daemon that requires one (mutual TLS).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The private key (PEM) of --tls-cert.")
    var tlsKey: String?

    @Option(
        name: .customLong("token"),
        help:
            "Token for a daemon with --auth required (tok_….secret; env STATEHOUSE_TOKEN). Other users can see a command line: prefer --token-file or the environment."
    )
    var tokenText: String?

    @Option(
        name: .customLong("token-file"),
        help: "Read the token from this file (env STATEHOUSE_TOKEN_FILE), e.g. the daemon's admin.token.")
    var tokenFile: String?

    /// The token to send: --token, --token-file, STATEHOUSE_TOKEN, STATEHOUSE_TOKEN_FILE, the first one given.
    func token() throws -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let text = self.tokenText { return text }
        if let path = self.tokenFile { return try Self.readToken(path) }
        if let text = environment["STATEHOUSE_TOKEN"], !text.isEmpty { return text }
        if let path = environment["STATEHOUSE_TOKEN_FILE"], !path.isEmpty { return try Self.readToken(path) }
        return nil
    }

    static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else { throw UsageError("cannot read the token file \(path)") }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw UsageError("the token file \(path) is empty") }
        return token
    }

    /// The first of the variables the original CLI and SDK read, in the order the Python CLI reads them.
    static var environmentAddress: String? {
        let environment = ProcessInfo.processInfo.environment
        return ["STATEHOUSE_ADDRESS", "STATEHOUSE_ADDR", "STATEHOUSE_URL"].lazy.compactMap { environment[$0] }
            .first { !$0.isEmpty }
    }

    @Option(name: [.short, .long], help: "Namespace (default: default).")
    var namespace: String?

    @Option(name: [.short, .long], help: "Output format: text or json (dump and inspect also take a file name).")
    var output: String?

    @Flag(name: [.customLong("json"), .customLong("json-output")], help: "Same as -o json.")
    var json = false

    @Option(
        help: "Colour in text output: auto (when standard output is a terminal and NO_COLOR is unset), always or never."
    )
    var color: ColorChoice = .auto

    /// The namespace, "default" unless given.
    var namespaceName: String { self.namespace ?? "default" }

    /// The output format; `-o` with anything but text or json is a usage error here (only dump takes a file).
    var format: OutputFormat {
        get throws {
            if self.json { return .json }
            guard let output = self.output else { return .text }
            guard let format = OutputFormat(rawValue: output) else {
                throw UsageError(
                    "-o takes text or json, not '\(output)' (dump writes a file with -o FILE or --out FILE)")
            }
            return format
        }
    }

    /// How text output is styled on standard output.
    var style: Style { Style(self.color, fileDescriptor: STDOUT_FILENO) }

    /// TLS to the daemon, when it serves it (`statehoused --tls-cert`).
    func tls() throws -> StatehouseClientTLS? {
        let tlsCA =
            self.tlsCA ?? ProcessInfo.processInfo.environment["STATEHOUSE_TLS_CA"].flatMap { $0.isEmpty ? nil : $0 }
        guard tlsCA != nil || self.tlsCert != nil || self.tlsKey != nil else { return nil }
        guard (self.tlsCert == nil) == (self.tlsKey == nil) else {
            throw UsageError("--tls-cert and --tls-key go together: give both or neither")
        }
        return StatehouseClientTLS(caFile: tlsCA, certificateFile: self.tlsCert, keyFile: self.tlsKey)
    }

    /// Host and port from `--addr`.
    func endpoint() throws -> (host: String, port: Int) {
        do {
            let address = try HostAndPort(parsing: self.addr)
            return (address.host, address.port)
        } catch let error as StatehouseError {
            throw UsageError("--addr: \(error)")
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
