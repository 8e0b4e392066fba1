import Crypto
import Foundation
import StatehouseBuildInfo
import StatehouseClient
import StatehouseModel

/// The provenance collectors of `statehousectl capture`: each looks at the real thing (a git work tree, this machine,
/// files) and returns a payload that fits its kind's schema (docs/api.md, "Provenance").
enum Collectors {
    /// Lock files looked for at the root of a repository, in this order.
    static let lockFileNames = [
        "Package.resolved", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "uv.lock",
        "Pipfile.lock", "requirements.txt", "Cargo.lock", "go.sum", "Gemfile.lock", "composer.lock",
    ]

    /// The SHA-256 of a file's bytes, lowercase hex, and its size.
    static func digest(ofFile path: String) throws -> (sha256: String, size: Int) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read \(path)")
        }
        return (EventHash.hex(Array(SHA256.hash(data: data))), data.count)
    }

    /// Runs git in `path`; its output trimmed, or nil when it fails (not a repository, no remote).
    static func git(_ arguments: [String], in path: String) -> String? {
        self.run(["git", "-C", path] + arguments)
    }

    /// `code`: the repository (its origin URL, else its top directory), HEAD's commit, whether the work tree differs
    /// from it (untracked files included), the branch, and the lock files at its root with digests.
    static func code(at path: String) throws -> JSONOutput {
        guard let top = self.git(["rev-parse", "--show-toplevel"], in: path),
            let commit = self.git(["rev-parse", "HEAD"], in: path)
        else { throw UsageError("\(path) is not in a git repository with a commit") }
        let repository = self.git(["remote", "get-url", "origin"], in: path) ?? top
        let dirty = !(self.git(["status", "--porcelain"], in: path) ?? "").isEmpty
        var fields: [(String, JSONOutput)] = [
            ("repository", .string(repository)), ("commit", .string(commit)), ("dirty", .bool(dirty)),
        ]
        if let branch = self.git(["rev-parse", "--abbrev-ref", "HEAD"], in: path), branch != "HEAD" {
            fields.append(("branch", .string(branch)))
        }
        let lockfiles = try self.lockFileNames.compactMap { name -> JSONOutput? in
            let file = top + "/" + name
            guard FileManager.default.fileExists(atPath: file) else { return nil }
            return .object([("path", .string(name)), ("sha256", .string(try self.digest(ofFile: file).sha256))])
        }
        if !lockfiles.isEmpty { fields.append(("lockfiles", .array(lockfiles))) }
        return .object(fields)
    }

    /// `environment`: OS, kernel, architecture, runtimes, locale, time zone, clock source and host name of this
    /// machine.
    static func environment() -> JSONOutput {
        var name = utsname()
        uname(&name)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let environment = ProcessInfo.processInfo.environment
        var fields: [(String, JSONOutput)] = [
            ("os", .string(text(name.sysname))), ("arch", .string(text(name.machine))),
            ("kernel", .string(text(name.release))),
        ]
        var runtimes: [(String, JSONOutput)] = [("statehousectl", .string(StatehouseBuild.version))]
        if let python = self.run(["python3", "-c", "import platform; print(platform.python_version())"]),
            !python.isEmpty
        {
            runtimes.append(("python", .string(python)))
        }
        fields.append(("runtime", .object(runtimes)))
        if let locale = environment["LC_ALL"] ?? environment["LANG"], !locale.isEmpty {
            fields.append(("locale", .string(locale)))
        }
        fields.append(("time_zone", .string(TimeZone.current.identifier)))
        if let source = try? String(
            contentsOfFile: "/sys/devices/system/clocksource/clocksource0/current_clocksource", encoding: .utf8)
        {
            fields.append(("clock_source", .string(source.trimmingCharacters(in: .whitespacesAndNewlines))))
        }
        fields.append(("hostname", .string(ProcessInfo.processInfo.hostName)))
        return .object(fields)
    }

    /// Runs a command found on PATH; its standard output trimmed, or nil when it cannot run or fails.
    static func run(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `config`: a file's path as given, its SHA-256 and size.
    /// `config`: the file's path as given, SHA-256 and size; with `stored`, also `artifact` (the same digest: the
    /// content is stored as an artifact under it).
    static func config(file: String, stored: Bool = false) throws -> JSONOutput {
        let (sha256, size) = try self.digest(ofFile: file)
        var fields: [(String, JSONOutput)] = [
            ("source", .string(file)), ("sha256", .string(sha256)), ("size", .int(UInt64(size))),
        ]
        if stored { fields.append(("artifact", .string(sha256))) }
        return .object(fields)
    }

    /// Stores each file's content as an artifact of the namespace, checked against the digest `config` computed (a
    /// file that changed in between fails instead of storing other content).
    static func storeConfigs(_ payloads: [JSONOutput], files: [String], global: GlobalOptions) async throws {
        let (host, port) = try global.endpoint()
        try await withStatehouseClient(host: host, port: port, tls: try global.tls(), token: try global.token()) {
            client in
            for (file, payload) in zip(files, payloads) {
                guard case .object(let fields) = payload,
                    case .string(let digest)? = fields.first(where: {
                        $0.0 == "sha256"
                    })?.1
                else { continue }
                _ = try await client.putArtifact(namespace: global.namespaceName, file: file, expectedSHA256: digest)
            }
        }
    }

    /// `model`: provider, name, version, parameters (`key=value`, each value JSON when it parses, else a string) and
    /// the digest of a prompt template file.
    static func model(
        provider: String, name: String, version: String?, parameters: [String], promptTemplate: String?
    ) throws -> JSONOutput {
        var fields: [(String, JSONOutput)] = [("provider", .string(provider)), ("name", .string(name))]
        if let version { fields.append(("version", .string(version))) }
        if !parameters.isEmpty {
            fields.append(
                (
                    "parameters",
                    .object(
                        try parameters.map { parameter in
                            guard let equals = parameter.firstIndex(of: "="), equals != parameter.startIndex else {
                                throw UsageError("--param takes KEY=VALUE, got '\(parameter)'")
                            }
                            let value = String(parameter[parameter.index(after: equals)...])
                            let json = (try? JSONValue(validating: value)).map { JSONOutput.raw($0.text) }
                            return (String(parameter[..<equals]), json ?? .string(value))
                        })
                ))
        }
        if let promptTemplate {
            fields.append(("prompt_template_sha256", .string(try self.digest(ofFile: promptTemplate).sha256)))
        }
        return .object(fields)
    }
}
