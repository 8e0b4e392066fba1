import Foundation
import Logging
import StatehouseCore

extension ServerConfiguration {
    /// What the command line asked for.
    public enum Command: Sendable {
        case run(ServerConfiguration)
        case help(String)
        case version
        /// `--example-config`: print a config file with every setting and its default.
        case exampleConfig
        /// `--openapi`: print the HTTP API's OpenAPI document (docs/openapi.json).
        case openAPI
    }

    /// Builds the configuration: defaults, then the config file (`--config FILE` or `STATEHOUSE_CONFIG`), then
    /// environment variables, then flags. A later source wins.
    ///
    /// - Throws: ``ServerSettings/InvalidSetting`` naming the flag, variable or file line that is wrong.
    public static func load(arguments: [String], environment: [String: String]) throws -> Command {
        var flags: [(name: String, value: String)] = []
        var configFile = environment["STATEHOUSE_CONFIG"]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            switch argument {
            case "-h", "--help": return .help(Self.helpText)
            case "--version": return .version
            case "--example-config": return .exampleConfig
            case "--openapi": return .openAPI
            default: break
            }
            guard argument.hasPrefix("--") else {
                throw ServerSettings.InvalidSetting(description: "unexpected argument '\(argument)'; see --help")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if name == "config" {
                guard let path = value ?? (index < arguments.count ? arguments[index] : nil) else {
                    throw ServerSettings.InvalidSetting(description: "--config needs a file path")
                }
                if value == nil { index += 1 }
                configFile = path
                continue
            }
            guard let setting = ServerSettings.setting(named: name) else {
                throw ServerSettings.InvalidSetting(description: "unknown option --\(name); see --help")
            }
            if value == nil {
                if setting.isSwitch {
                    value = "true"
                } else {
                    guard index < arguments.count else {
                        throw ServerSettings.InvalidSetting(description: "--\(name) needs a value")
                    }
                    value = arguments[index]
                    index += 1
                }
            }
            flags.append((name, value!))
        }

        var configuration = ServerConfiguration()
        // The original daemon's variables (STATEHOUSE_ADDR, RUST_LOG, ...) rank below the config file: they are
        // often exported for other programs (STATEHOUSE_ADDR is also the CLI's address), and must not override
        // what the file says.
        for setting in ServerSettings.all where environment[setting.environment] == nil {
            if let (variable, value) = setting.value(in: environment) {
                try Self.apply(setting, value, from: variable, to: &configuration)
            }
        }
        if let configFile {
            try Self.applyFile(configFile, to: &configuration)
        }
        for setting in ServerSettings.all {
            if let value = environment[setting.environment] {
                try Self.apply(setting, value, from: setting.environment, to: &configuration)
            }
        }

        for (name, value) in flags {
            do {
                try ServerSettings.setting(named: name)!.apply(&configuration, value)
            } catch let error as ServerSettings.InvalidSetting {
                throw ServerSettings.InvalidSetting(description: "--\(name): \(error.description)")
            }
        }
        guard configuration.engine.limits.defaultTransactionTimeout <= configuration.engine.limits.maxTransactionTimeout
        else {
            throw ServerSettings.InvalidSetting(
                description: "transaction-timeout must not be above max-transaction-timeout"
            )
        }
        guard (configuration.tlsCertificatePath == nil) == (configuration.tlsKeyPath == nil) else {
            throw ServerSettings.InvalidSetting(description: "tls-cert and tls-key go together: give both or neither")
        }
        guard configuration.tlsClientCAPath == nil || configuration.tlsCertificatePath != nil else {
            throw ServerSettings.InvalidSetting(description: "tls-client-ca needs tls-cert and tls-key")
        }
        return .run(configuration)
    }

    /// Applies one environment variable's value, naming the variable when it is wrong.
    static func apply(
        _ setting: ServerSettings.Setting,
        _ value: String,
        from variable: String,
        to configuration: inout ServerConfiguration
    ) throws {
        // The original daemon's RUST_LOG may name per-module filters ("statehouse_core=debug"); only a plain level is
        // meaningful here, anything else is left alone.
        if variable == "RUST_LOG" && Logger.Level(rawValue: value == "warn" ? "warning" : value) == nil { return }
        do {
            try setting.apply(&configuration, value)
        } catch let error as ServerSettings.InvalidSetting {
            throw ServerSettings.InvalidSetting(description: "\(variable): \(error.description)")
        }
    }

    /// Applies `key = value` lines; `#` starts a comment.
    static func applyFile(_ path: String, to configuration: inout ServerConfiguration) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ServerSettings.InvalidSetting(description: "cannot read config file \(path)")
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let setting = ServerSettings.setting(named: parts[0]) else {
                throw ServerSettings.InvalidSetting(
                    description:
                        "\(path):\(number + 1): expected 'setting = value' with a known setting, got '\(trimmed)'"
                )
            }
            do {
                try setting.apply(&configuration, parts[1])
            } catch let error as ServerSettings.InvalidSetting {
                throw ServerSettings.InvalidSetting(description: "\(path):\(number + 1): \(error.description)")
            }
        }
    }

    /// `statehoused --help`.
    public static var helpText: String {
        var lines = [
            "USAGE: statehoused [--NAME VALUE ...] [--config FILE]",
            "",
            "Serves the Statehouse gRPC API. Flags override environment variables, which override the config file",
            "(--config FILE or STATEHOUSE_CONFIG), which overrides the defaults.",
            "",
            "OPTIONS:",
        ]
        for setting in ServerSettings.all {
            let flag = setting.isSwitch ? "--\(setting.name)" : "--\(setting.name) VALUE"
            lines.append("  \(flag.padding(toLength: 40, withPad: " ", startingAt: 0))\(setting.help)")
            let variables = ([setting.environment] + setting.environmentAliases).joined(separator: " or ")
            lines.append("  \(String(repeating: " ", count: 40))env \(variables); default \(setting.example)")
        }
        lines.append("  --config FILE                           Read settings from FILE (lines of 'setting = value').")
        lines.append(
            "  --example-config                        Print a config file with every setting and its default.")
        lines.append("  --openapi                               Print the HTTP API's OpenAPI 3.1 document.")
        lines.append("  --version                               Print the version and exit.")
        lines.append("  -h, --help                              Print this help and exit.")
        return lines.joined(separator: "\n")
    }

    /// The text of `statehouse.conf.example`: every setting with its default.
    public static var exampleConfigFile: String {
        var lines = [
            "# statehoused configuration: every setting with its default. Flags and STATEHOUSE_* variables win."
        ]
        for setting in ServerSettings.all {
            lines.append("")
            let aliases =
                setting.environmentAliases.isEmpty
                ? "" : "; also read from \(setting.environmentAliases.joined(separator: ", "))"
            lines.append("# \(setting.help) (env \(setting.environment)\(aliases))")
            lines.append("# \(setting.name) = \(setting.example)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
