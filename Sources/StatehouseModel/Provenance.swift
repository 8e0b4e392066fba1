/// Provenance: what produced an agent's state (docs/architecture.md, "Provenance").
///
/// A provenance record says which code, configuration, environment, model, tool or consumed mutation was in effect; it
/// is stored as a commit in the namespace's log, so it is chained and provable like the state it explains. Each kind's
/// payload has a strict schema (``ProvenanceSchema``): unknown members are refused, missing required ones are named.

/// The kinds of provenance record.
public enum ProvenanceKind: String, Sendable, Hashable, CaseIterable {
    /// Source code: repository, commit, dirty or not, artifacts and lock files with digests.
    case code
    /// A configuration file or source: where it came from and its SHA-256.
    case config
    /// The machine and runtime: OS, kernel, architecture, runtime versions, locale, time zone, clock source.
    case environment
    /// Something the run consumed from outside, in order per source (a Kafka offset, a database sequence).
    case mutation
    /// The model: provider, name, version, parameters, prompt template digest.
    case model
    /// A tool the agent called: name, version, digest.
    case tool

    /// The kind a name spells; anything else is an invalid argument naming the kinds.
    public static func parse(_ text: String) throws -> Self {
        guard let kind = Self(rawValue: text) else {
            throw StatehouseError.invalidArgument(
                "provenance kind '\(text.prefix(32))' is not one of "
                    + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return kind
    }
}

/// The payload schema of each kind: member name, type and whether it is required. Documented in
/// docs/api.md, "Provenance"; the one place the rules live.
public enum ProvenanceSchema {
    public enum FieldType: Sendable, Hashable {
        case string
        case boolean
        /// A whole number from 0.
        case count
        /// 64 lowercase hex digits (a SHA-256).
        case sha256
        /// An object whose members are all strings (`{"python": "3.11.2"}`).
        case stringMap
        /// Any JSON object (model parameters).
        case object
        /// An array of `{"path": string, "sha256": sha256}` (artifacts, lock files).
        case files

        var name: String {
            switch self {
            case .string: "a string"
            case .boolean: "true or false"
            case .count: "a whole number from 0"
            case .sha256: "a SHA-256 as 64 lowercase hex digits"
            case .stringMap: "an object of strings"
            case .object: "an object"
            case .files: "an array of {\"path\", \"sha256\"} objects"
            }
        }
    }

    public struct Field: Sendable, Hashable {
        public var name: String
        public var type: FieldType
        public var required: Bool
    }

    static func required(_ name: String, _ type: FieldType) -> Field { Field(name: name, type: type, required: true) }
    static func optional(_ name: String, _ type: FieldType) -> Field { Field(name: name, type: type, required: false) }

    /// The fields of a kind, in the order the documentation lists them.
    public static func fields(of kind: ProvenanceKind) -> [Field] {
        switch kind {
        case .code:
            [
                required("repository", .string), required("commit", .string), optional("dirty", .boolean),
                optional("branch", .string), optional("artifacts", .files), optional("lockfiles", .files),
            ]
        case .config:
            [
                required("source", .string), required("sha256", .sha256), optional("size", .count),
                optional("artifact", .sha256),
            ]
        case .environment:
            [
                required("os", .string), required("arch", .string), optional("kernel", .string),
                optional("runtime", .stringMap), optional("locale", .string), optional("time_zone", .string),
                optional("clock_source", .string), optional("hostname", .string),
            ]
        case .mutation:
            [
                required("type", .string), required("id", .string), required("source", .string),
                required("sequence", .count), optional("hash", .sha256), optional("namespace", .string),
                optional("config_sha256", .sha256),
            ]
        case .model:
            [
                required("provider", .string), required("name", .string), optional("version", .string),
                optional("parameters", .object), optional("prompt_template_sha256", .sha256),
            ]
        case .tool:
            [required("name", .string), optional("version", .string), optional("sha256", .sha256)]
        }
    }

    /// Checks a payload against its kind's schema.
    ///
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` naming the first problem: not an object, an unknown member
    ///   (with the members the kind takes), a missing required member, or a member of the wrong type.
    public static func validate(_ payload: JSONValue, kind: ProvenanceKind) throws {
        let parsed: ParsedJSON
        do {
            parsed = try ParsedJSON(parsing: payload.utf8)
        } catch {
            throw StatehouseError.invalidArgument("\(kind.rawValue) provenance payload is not JSON")
        }
        guard case .object(let members) = parsed else {
            throw StatehouseError.invalidArgument("\(kind.rawValue) provenance payload must be a JSON object")
        }
        let fields = self.fields(of: kind)
        for member in members where !fields.contains(where: { $0.name == member.name }) {
            throw StatehouseError.invalidArgument(
                "\(kind.rawValue) provenance has no member '\(member.name.prefix(64))'; it takes "
                    + fields.map(\.name).joined(separator: ", "))
        }
        for field in fields {
            guard let value = members.first(where: { $0.name == field.name })?.value else {
                if field.required {
                    throw StatehouseError.invalidArgument(
                        "\(kind.rawValue) provenance needs '\(field.name)' (\(field.type.name))")
                }
                continue
            }
            guard self.matches(value, field.type) else {
                throw StatehouseError.invalidArgument(
                    "\(kind.rawValue) provenance '\(field.name)' must be \(field.type.name)")
            }
        }
    }

    static func matches(_ value: ParsedJSON, _ type: FieldType) -> Bool {
        switch (type, value) {
        case (.string, .string(let text)): return !text.isEmpty
        case (.boolean, .bool): return true
        case (.count, .number(let text)): return !text.hasPrefix("-") && UInt64(text) != nil  // not "-0"
        case (.sha256, .string(let text)): return self.isSHA256(text)
        case (.stringMap, .object(let members)):
            return members.allSatisfy { if case .string = $0.value { true } else { false } }
        case (.object, .object): return true
        case (.files, .array(let items)):
            return items.allSatisfy { item in
                guard case .object(let members) = item, members.count == 2,
                    case .string(let path)? = item[member: "path"], !path.isEmpty,
                    case .string(let digest)? = item[member: "sha256"]
                else { return false }
                return self.isSHA256(digest)
            }
        default: return false
        }
    }

    /// Whether `text` is 64 lowercase hex digits.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
    }
}

/// A provenance record to make: its kind, an optional id (nil: one the daemon makes), the payload (checked against
/// its kind's schema) and when it was captured (nil: when the daemon receives it). The engine and the Swift client
/// both take it.
public struct ProvenanceDraft: Sendable, Hashable {
    public var kind: ProvenanceKind
    public var id: String?
    public var payload: JSONValue
    public var capturedAt: Microseconds?

    public init(kind: ProvenanceKind, id: String? = nil, payload: JSONValue, capturedAt: Microseconds? = nil) {
        self.kind = kind
        self.id = id
        self.payload = payload
        self.capturedAt = capturedAt
    }
}

/// A provenance record as stored: its kind and id, the agent it belongs to, when it was captured, and its payload.
public struct ProvenanceRecord: Sendable, Hashable {
    public var kind: ProvenanceKind
    /// Unique within the namespace and kind; a version 7 UUID when the caller gives none.
    public var id: String
    public var agentID: String
    public var capturedAt: Microseconds
    public var payload: JSONValue
    /// The run it was recorded with, if any.
    public var runID: String?
    /// The commit that recorded it; 0 before it is stored.
    public var commitTS: CommitTS

    public init(
        kind: ProvenanceKind, id: String, agentID: String, capturedAt: Microseconds, payload: JSONValue,
        runID: String? = nil, commitTS: CommitTS = 0
    ) {
        self.kind = kind
        self.id = id
        self.agentID = agentID
        self.capturedAt = capturedAt
        self.payload = payload
        self.runID = runID
        self.commitTS = commitTS
    }

    /// The record's key under the reserved agent `@provenance`: `KIND/ID`.
    public var key: String { "\(self.kind.rawValue)/\(self.id)" }
}

/// A run: an agent's stretch of work under the provenance recorded at its start. Commits of the run carry the
/// metadata tag `run_id`.
public struct AgentRun: Sendable, Hashable {
    public var id: String
    public var agentID: String
    /// `running` until it ends, then the status it ended with (`succeeded`, `failed`, or the caller's word).
    public var status: String
    public var startedAt: Microseconds
    public var endedAt: Microseconds?
    /// The commit that started it.
    public var startCommitTS: CommitTS
    /// The commit that ended it; `nil` while it runs.
    public var endCommitTS: CommitTS?
    /// The keys (`KIND/ID`) of the provenance records in effect.
    public var provenance: [String]
    public var metadata: JSONValue?

    public init(
        id: String, agentID: String, status: String, startedAt: Microseconds, endedAt: Microseconds? = nil,
        startCommitTS: CommitTS, endCommitTS: CommitTS? = nil, provenance: [String], metadata: JSONValue? = nil
    ) {
        self.id = id
        self.agentID = agentID
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.startCommitTS = startCommitTS
        self.endCommitTS = endCommitTS
        self.provenance = provenance
        self.metadata = metadata
    }

    /// The commit metadata tag that ties a commit to its run.
    public static let runTag = "run_id"
}
