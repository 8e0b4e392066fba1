import ArgumentParser
import Foundation
import StatehouseCore

/// `statehousectl`: the command line for a running statehoused.
///
/// Exit codes: 0 success, 1 failure (one line on standard error), 2 usage error, 3 a missing key under `get`.
@main
struct Statehousectl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statehousectl",
        abstract: "Drive a running statehoused: state, history, the log and verification.",
        discussion: "Exit codes: 0 success, 1 failure, 2 usage error, 3 key not found (get).",
        subcommands: [
            Health.self, VersionCommand.self, Put.self, Delete.self, Get.self, Keys.self, Scan.self, History.self,
            Agents.self, Namespaces.self, Replay.self, Tail.self, Dump.self, Verify.self, Bench.self,
        ]
    )

    /// Global options may come before the command (`statehousectl --addr H:P get a k`); ArgumentParser reads options
    /// of the command only, so they are moved behind the command name.
    static func movingGlobalOptions(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["--addr", "-n", "--namespace", "-o", "--output"]
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if withValue.contains(argument), index + 1 < arguments.count {
                leading += [argument, arguments[index + 1]]
                index += 2
            } else if withValue.contains(where: { argument.hasPrefix($0 + "=") }) {
                leading.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, index < arguments.count else { return arguments }
        return [arguments[index]] + leading + arguments[(index + 1)...]
    }

    /// Runs the command line with the exit codes of the documentation (ArgumentParser's own usage code is 64).
    static func main() async {
        do {
            var command = try Self.parseAsRoot(Self.movingGlobalOptions(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("statehousectl: \(error)\n".utf8))
            Foundation.exit(2)
        } catch let error as StatehouseError {
            FileHandle.standardError.write(Data("statehousectl: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            let code = Self.exitCode(for: error)
            if code == .success {
                print(Self.fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("\(Self.fullMessage(for: error))\n".utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Address of statehoused, HOST:PORT (env STATEHOUSE_ADDR).")
    var addr: String = ProcessInfo.processInfo.environment["STATEHOUSE_ADDR"] ?? "127.0.0.1:50051"

    @Option(name: [.short, .long], help: "Namespace.")
    var namespace: String = "default"

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    /// Host and port from `--addr`.
    func endpoint() throws -> (host: String, port: Int) {
        let parts = self.addr.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (1...65535).contains(port) else {
            throw ValidationError("--addr must be HOST:PORT, got '\(self.addr)'")
        }
        return (parts.dropLast().joined(separator: ":"), port)
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}
