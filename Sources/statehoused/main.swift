// statehoused: flags, environment and config file → ServerConfiguration → run.
import Foundation
import Logging
import StatehouseServer

let environment = ProcessInfo.processInfo.environment
let command: ServerConfiguration.Command
do {
    command = try ServerConfiguration.load(
        arguments: Array(CommandLine.arguments.dropFirst()), environment: environment)
} catch {
    FileHandle.standardError.write(Data("statehoused: \(error)\n".utf8))
    exit(2)
}

let configuration: ServerConfiguration
switch command {
case .help(let text):
    print(text)
    exit(0)
case .version:
    print("statehoused \(StatehouseDaemon.version) (\(StatehouseDaemon.gitSHA))")
    exit(0)
case .exampleConfig:
    print(ServerConfiguration.exampleConfigFile, terminator: "")
    exit(0)
case .openAPI:
    print(try await StatehouseDaemon.openAPIDocument(), terminator: "")
    exit(0)
case .run(let loaded):
    configuration = loaded
}

let level = configuration.logLevel
switch configuration.logFormat {
case .text:
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
case .json:
    LoggingSystem.bootstrap { label in
        var handler = JSONLogHandler(label: label)
        handler.logLevel = level
        return handler
    }
}
let logger = Logger(label: "statehoused")
do {
    try await StatehouseDaemon.run(configuration: configuration, gitSHA: StatehouseDaemon.gitSHA, logger: logger)
    exit(0)
} catch {
    // One line naming the cause; the details (if any) were logged above.
    FileHandle.standardError.write(Data("statehoused: \(error)\n".utf8))
    exit(1)
}
