import Foundation
import StatehouseModel

/// A capture manifest (`statehousectl manifest validate|show|run`): what to capture for an agent, as JSON or (a file
/// named `*.yaml` or `*.yml`) YAML with the same members (docs/api.md, "Manifests"):
///
/// ```json
/// {"agent": "planner",
///  "capture": [{"kind": "git", "path": "."}, {"kind": "env"}, {"kind": "config", "files": ["agent.yaml"]},
///              {"kind": "model", "provider": "anthropic", "name": "claude", "parameters": {"temperature": 0}},
///              {"kind": "tool", "name": "search", "version": "2"}, {"kind": "config", "files": ["a"], "store": true},
///              {"kind": "record", "provenance": "mutation", "payload": {...}}]}
/// ```
///
/// Every member is checked: an unknown one, a missing one or one of the wrong type is a usage error naming the entry.
struct CaptureManifest {
    enum Entry {
        case git(path: String)
        case env
        case config(files: [String], store: Bool)
        case model(provider: String, name: String, version: String?, parameters: [String], promptTemplate: String?)
        case tool(name: String, version: String?, file: String?)
        case record(kind: ProvenanceKind, payload: JSONValue)
    }

    var agent: String
    var entries: [Entry]

    /// The config files whose content `manifest run` stores as artifacts (entries with `"store": true`).
    var storedFiles: [String] {
        self.entries.flatMap { entry -> [String] in
            if case .config(let files, true) = entry { files } else { [] }
        }
    }

    /// Members each entry kind takes (besides `kind`), and which are required.
    static let members: [String: (required: Set<String>, optional: Set<String>)] = [
        "git": ([], ["path"]),
        "env": ([], []),
        "config": (["files"], ["store"]),
        "model": (["provider", "name"], ["version", "parameters", "prompt_template"]),
        "tool": (["name"], ["version", "file"]),
        "record": (["provenance", "payload"], []),
    ]

    init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("cannot read the manifest \(path)")
        }
        let parsed: Any?
        if Self.isYAML(path) {
            guard let text = String(data: data, encoding: .utf8) else {
                throw UsageError("\(path): a YAML manifest must be UTF-8")
            }
            parsed = try ManifestYAML.object(text, path: path)
        } else {
            parsed = try? JSONSerialization.jsonObject(with: data)
        }
        guard let root = parsed as? [String: Any] else {
            throw UsageError("\(path): a manifest is an object with \"agent\" and \"capture\"")
        }
        for key in root.keys where !["agent", "capture"].contains(key) {
            throw UsageError("\(path): unknown member '\(key)' (a manifest has agent and capture)")
        }
        guard let agent = root["agent"] as? String, !agent.isEmpty else {
            throw UsageError("\(path): \"agent\" must be a non-empty string")
        }
        guard let capture = root["capture"] as? [Any], !capture.isEmpty else {
            throw UsageError("\(path): \"capture\" must be a non-empty array of entries")
        }
        self.agent = agent
        self.entries = try capture.enumerated().map { index, item in
            try Self.entry(item, at: "\(path): capture[\(index)]")
        }
    }

    /// A manifest named `*.yaml` or `*.yml` is YAML; any other is JSON.
    static func isYAML(_ path: String) -> Bool {
        let lowered = path.lowercased()
        return lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml")
    }

    static func entry(_ item: Any, at place: String) throws -> Entry {
        guard let object = item as? [String: Any], let kind = object["kind"] as? String,
            let allowed = Self.members[kind]
        else {
            throw UsageError(
                "\(place): an entry is an object whose \"kind\" is one of "
                    + Self.members.keys.sorted().joined(separator: ", "))
        }
        for key in object.keys where key != "kind" && !allowed.required.contains(key) && !allowed.optional.contains(key)
        {
            throw UsageError(
                "\(place): \(kind) takes no member '\(key)'"
                    + (allowed.required.union(allowed.optional).isEmpty
                        ? ""
                        : " (it takes " + allowed.required.union(allowed.optional).sorted().joined(separator: ", ")
                            + ")"))
        }
        for key in allowed.required.sorted() where object[key] == nil {
            throw UsageError("\(place): \(kind) needs '\(key)'")
        }
        func string(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String, !text.isEmpty else {
                throw UsageError("\(place): '\(key)' must be a non-empty string")
            }
            return text
        }
        switch kind {
        case "git":
            return .git(path: try string("path") ?? ".")
        case "env":
            return .env
        case "config":
            guard let files = object["files"] as? [String], !files.isEmpty else {
                throw UsageError("\(place): 'files' must be a non-empty array of paths")
            }
            var store = false
            if let value = object["store"] {
                // JSON's true and false (and YAML's) are NSNumbers of a Bool, whose type code is "c"; 1 and 0 are not.
                guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else {
                    throw UsageError("\(place): 'store' must be true or false")
                }
                store = number.boolValue
            }
            return .config(files: files, store: store)
        case "model":
            var parameters: [String] = []
            if let value = object["parameters"] {
                guard let dictionary = value as? [String: Any] else {
                    throw UsageError("\(place): 'parameters' must be an object")
                }
                parameters = try dictionary.keys.sorted().map { key in
                    let data = try JSONSerialization.data(
                        withJSONObject: dictionary[key]!, options: [.fragmentsAllowed])
                    return key + "=" + String(decoding: data, as: UTF8.self)
                }
            }
            return .model(
                provider: try string("provider")!, name: try string("name")!, version: try string("version"),
                parameters: parameters, promptTemplate: try string("prompt_template"))
        case "tool":
            return .tool(name: try string("name")!, version: try string("version"), file: try string("file"))
        default:
            guard let kindName = try string("provenance"), let provenanceKind = ProvenanceKind(rawValue: kindName)
            else {
                throw UsageError(
                    "\(place): 'provenance' must be one of "
                        + ProvenanceKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let payload = object["payload"] as? [String: Any] else {
                throw UsageError("\(place): 'payload' must be an object")
            }
            let data = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
            let value = try JSONValue(validating: Array(data))
            do {
                try ProvenanceSchema.validate(value, kind: provenanceKind)
            } catch let error as StatehouseError {
                throw UsageError("\(place): \(error)")
            }
            return .record(kind: provenanceKind, payload: value)
        }
    }

    /// Runs the collectors: each entry's payloads, in order.
    func capture() throws -> [(ProvenanceKind, JSONValue)] {
        var captured: [(ProvenanceKind, JSONValue)] = []
        func add(_ kind: ProvenanceKind, _ payload: JSONOutput) throws {
            let value = try JSONValue(validating: payload.text)
            try ProvenanceSchema.validate(value, kind: kind)
            captured.append((kind, value))
        }
        for entry in self.entries {
            switch entry {
            case .git(let path): try add(.code, try Collectors.code(at: path))
            case .env: try add(.environment, Collectors.environment())
            case .config(let files, let store):
                for file in files { try add(.config, try Collectors.config(file: file, stored: store)) }
            case .model(let provider, let name, let version, let parameters, let promptTemplate):
                try add(
                    .model,
                    try Collectors.model(
                        provider: provider, name: name, version: version, parameters: parameters,
                        promptTemplate: promptTemplate))
            case .tool(let name, let version, let file):
                var fields: [(String, JSONOutput)] = [("name", .string(name))]
                if let version { fields.append(("version", .string(version))) }
                if let file { fields.append(("sha256", .string(try Collectors.digest(ofFile: file).sha256))) }
                try add(.tool, .object(fields))
            case .record(let kind, let payload): captured.append((kind, payload))
            }
        }
        return captured
    }
}
