public import StatehouseModel

/// Writing bundle lines: compact JSON with member names in byte order, so one bundle always has the same bytes.
///
/// Each kind of line is written straight into a byte buffer, its member names listed here already sorted: building a
/// JSON tree and sorting its members cost more than half of an export (920,000 events: 37 % of the client's CPU in
/// the tree, 15 % in the line structs built for it). The codec tests decode every kind of line and check the order.
extension AuditBundle {
    /// A line as bytes with a trailing newline.
    public static func encode(_ line: Line) -> [UInt8] {
        var writer = LineWriter()
        writer.line(line)
        return writer.bytes
    }

    /// A head as one compact JSON object (no newline), as it stands inside a manifest.
    public static func encode(_ head: Head) -> [UInt8] {
        var writer = LineWriter()
        writer.head(head)
        return writer.bytes
    }

    /// A witness (an event and its inclusion proof) as one compact JSON object (no newline).
    public static func encode(_ witness: WitnessLine) -> [UInt8] {
        var writer = LineWriter()
        writer.witness(witness)
        return writer.bytes
    }

    /// Appends the `event` line of an event read from the log, newline included: the export's path, with no line
    /// struct in between (values go from the event's bytes to the line's).
    public static func appendEventLine(_ event: Event, leafHash: EventHash, to bytes: inout [UInt8]) {
        var writer = LineWriter(bytes: [])
        swap(&writer.bytes, &bytes)
        writer.wrapped("event") { $0.event(event, leafHash: leafHash.hex) }
        writer.bytes.append(0x0A)
        swap(&writer.bytes, &bytes)
    }

    /// Appends an export line of an event (`statehousectl export`): an event line with the event's hash-chain link
    /// (`hash`, `prev_hash`) instead of its leaf hash, newline included.
    public static func appendExportLine(_ event: Event, to bytes: inout [UInt8]) {
        var writer = LineWriter(bytes: [])
        swap(&writer.bytes, &bytes)
        writer.wrapped("event") { $0.event(event, leafHash: nil, hash: event.hash.hex, prevHash: event.prevHash.hex) }
        writer.bytes.append(0x0A)
        swap(&writer.bytes, &bytes)
    }
}

/// The fields of an event line, from an ``Event`` (export) or an ``AuditBundle/EventLine`` (witnesses, tests).
protocol BundleEventFields {
    associatedtype Operations: Collection where Operations.Element: BundleOperationFields
    var bundleCommitTS: UInt64 { get }
    var bundleCommittedAt: Int64 { get }
    var bundleMetadata: AuditBundle.Metadata? { get }
    var bundleOperations: Operations { get }
    var bundleTxnID: String { get }
}

protocol BundleOperationFields {
    var bundleAgentID: String { get }
    var bundleKey: String { get }
    var bundleKind: String { get }
    var bundleVersion: UInt64 { get }
    /// The hexadecimal digest kept for a value retention removed.
    var bundleValueDigest: String? { get }
    var bundleExpiresAt: Int64? { get }
    /// Calls `body` with the value's JSON text as UTF-8, or with `nil` for a delete or a removed value.
    func withBundleValue(_ body: (UnsafeBufferPointer<UInt8>?) -> Void)
}

extension Event: BundleEventFields {
    var bundleCommitTS: UInt64 { self.commitTS }
    var bundleCommittedAt: Int64 { self.committedAt }
    var bundleMetadata: AuditBundle.Metadata? {
        self.metadata.isEmpty
            ? nil
            : AuditBundle.Metadata(actor: self.metadata.actor, reason: self.metadata.reason, tags: self.metadata.tags)
    }
    var bundleOperations: [AppliedOperation] { self.operations }
    var bundleTxnID: String { self.txnID }
}

extension AppliedOperation: BundleOperationFields {
    var bundleAgentID: String { self.agentID }
    var bundleKey: String { self.key }
    var bundleKind: String { self.kind == .put ? "put" : "delete" }
    var bundleVersion: UInt64 { self.version }
    var bundleValueDigest: String? { self.removedValueDigest?.hex }
    var bundleExpiresAt: Int64? { self.expiresAt }
    func withBundleValue(_ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
        guard self.kind == .put, !self.valueRemoved else { return body(nil) }
        (self.value?.utf8 ?? []).withUnsafeBufferPointer { body($0) }
    }
}

extension AuditBundle.EventLine: BundleEventFields {
    var bundleCommitTS: UInt64 { self.commit_ts }
    var bundleCommittedAt: Int64 { self.committed_at_micros }
    var bundleMetadata: AuditBundle.Metadata? { self.metadata }
    var bundleOperations: [AuditBundle.Operation] { self.operations }
    var bundleTxnID: String { self.txn_id }
}

extension AuditBundle.Operation: BundleOperationFields {
    var bundleAgentID: String { self.agent_id }
    var bundleKey: String { self.key }
    var bundleKind: String { self.kind }
    var bundleVersion: UInt64 { self.version }
    var bundleValueDigest: String? { self.value_digest }
    var bundleExpiresAt: Int64? { self.expires_at_micros }
    func withBundleValue(_ body: (UnsafeBufferPointer<UInt8>?) -> Void) {
        guard var value = self.value else { return body(nil) }
        value.withUTF8 { body($0) }
    }
}

/// Compact JSON into a byte buffer. Callers give member names in byte order; a comma goes before a member or element
/// unless it is the first of its object or array (the byte before it is then `{` or `[`, which no value ends with).
struct LineWriter {
    var bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    init() {
        self.bytes = []
        self.bytes.reserveCapacity(512)
    }

    mutating func line(_ line: AuditBundle.Line) {
        if let manifest = line.manifest {
            self.wrapped("manifest") { $0.manifest(manifest) }
        } else if let event = line.event {
            self.wrapped("event") {
                $0.event(event, leafHash: event.leaf_hash, hash: event.hash, prevHash: event.prev_hash)
            }
        } else if let leaf = line.leaf {
            self.wrapped("leaf") { writer in
                writer.object {
                    $0.member("commit_ts", leaf.commit_ts)
                    $0.member("hash", leaf.hash)
                }
            }
        } else if let state = line.state {
            self.wrapped("state") { writer in
                writer.object {
                    $0.member("agent_id", state.agent_id)
                    $0.member("commit_ts", state.commit_ts)
                    $0.member("key", state.key)
                    $0.member("value", state.value)
                    $0.member("version", state.version)
                }
            }
        } else if let witness = line.witness {
            self.wrapped("witness") { $0.witness(witness) }
        } else if let run = line.run {
            self.wrapped("run") { $0.canonical(run.body) }
        } else if let end = line.end {
            self.wrapped("end") { writer in
                writer.object {
                    $0.member("events", UInt64(end.events))
                    $0.member("leaves", UInt64(end.leaves))
                    $0.member("state", UInt64(end.state))
                    $0.member("witnesses", UInt64(end.witnesses))
                }
            }
        } else {
            self.object { _ in }
        }
        self.bytes.append(0x0A)
    }

    /// `{"name":…}`: a line's one member.
    mutating func wrapped(_ name: StaticString, _ body: (inout LineWriter) -> Void) {
        self.object {
            $0.name(name)
            body(&$0)
        }
    }

    mutating func manifest(_ manifest: AuditBundle.Manifest) {
        self.object {
            $0.name("agent_id")
            if let agent = manifest.agent_id { $0.string(agent) } else { $0.raw("null") }
            $0.member("consistency", manifest.consistency)
            $0.member("format", manifest.format)
            $0.member("from_commit_ts", manifest.from_commit_ts)
            $0.name("head")
            $0.head(manifest.head)
            $0.member("namespace", manifest.namespace)
            $0.member("prefix", manifest.prefix)
            $0.member("public_key", manifest.public_key)
            if let run = manifest.run_id { $0.member("run_id", run) }
            if let proof = manifest.since_consistency { $0.member("since_consistency", proof) }
            if let since = manifest.since_head {
                $0.name("since_head")
                $0.head(since)
            }
            $0.member("to_commit_ts", manifest.to_commit_ts)
            $0.member("version", UInt64(manifest.version))
        }
    }

    mutating func head(_ head: AuditBundle.Head) {
        self.object {
            $0.member("key_id", head.key_id)
            $0.member("namespace", head.namespace)
            $0.member("root_hash", head.root_hash)
            $0.member("signature", head.signature)
            $0.member("timestamp_micros", head.timestamp_micros)
            $0.member("tree_size", head.tree_size)
        }
    }

    mutating func witness(_ witness: AuditBundle.WitnessLine) {
        self.object {
            $0.name("event")
            $0.event(witness.event, leafHash: witness.event.leaf_hash)
            $0.member("proof", witness.proof)
        }
    }

    mutating func event(
        _ event: some BundleEventFields, leafHash: String?, hash: String? = nil, prevHash: String? = nil
    ) {
        self.object {
            $0.member("commit_ts", event.bundleCommitTS)
            $0.member("committed_at_micros", event.bundleCommittedAt)
            if let hash { $0.member("hash", hash) }
            if let leafHash { $0.member("leaf_hash", leafHash) }
            if let metadata = event.bundleMetadata {
                $0.name("metadata")
                $0.object {
                    if let actor = metadata.actor { $0.member("actor", actor) }
                    if let reason = metadata.reason { $0.member("reason", reason) }
                    $0.name("tags")
                    $0.object { writer in
                        for (name, value) in metadata.tags.sorted(by: {
                            $0.key.utf8.lexicographicallyPrecedes($1.key.utf8)
                        }) {
                            writer.separate()
                            writer.string(name)
                            writer.bytes.append(UInt8(ascii: ":"))
                            writer.string(value)
                        }
                    }
                }
            }
            $0.name("operations")
            $0.bytes.append(UInt8(ascii: "["))
            for operation in event.bundleOperations {
                $0.separate()
                $0.object { writer in
                    writer.member("agent_id", operation.bundleAgentID)
                    if let expiresAt = operation.bundleExpiresAt { writer.member("expires_at_micros", expiresAt) }
                    writer.member("key", operation.bundleKey)
                    writer.member("kind", operation.bundleKind)
                    operation.withBundleValue { value in
                        guard let value else { return }
                        writer.name("value")
                        writer.string(utf8: value)
                    }
                    if let digest = operation.bundleValueDigest { writer.member("value_digest", digest) }
                    writer.member("version", operation.bundleVersion)
                }
            }
            $0.bytes.append(UInt8(ascii: "]"))
            if let prevHash { $0.member("prev_hash", prevHash) }
            $0.member("txn_id", event.bundleTxnID)
        }
    }

    // MARK: Primitives

    mutating func object(_ body: (inout LineWriter) -> Void) {
        self.separate()
        self.bytes.append(UInt8(ascii: "{"))
        body(&self)
        self.bytes.append(UInt8(ascii: "}"))
    }

    /// A comma, unless what follows is the first member or element of its object or array or a member's value, or a
    /// comma is already there.
    mutating func separate() {
        switch self.bytes.last {
        case nil, UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: ":"), UInt8(ascii: ","), 0x0A: return
        default: self.bytes.append(UInt8(ascii: ","))
        }
    }

    /// `"name":` (names are ASCII with nothing to escape).
    mutating func name(_ name: StaticString) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        self.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    mutating func raw(_ text: StaticString) {
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func member(_ name: StaticString, _ value: String) {
        self.name(name)
        self.string(value)
    }

    mutating func member(_ name: StaticString, _ value: UInt64) {
        self.name(name)
        self.decimal(value)
    }

    mutating func member(_ name: StaticString, _ value: Int64) {
        self.name(name)
        if value < 0 { self.bytes.append(UInt8(ascii: "-")) }
        self.decimal(value.magnitude)
    }

    mutating func member(_ name: StaticString, _ values: [String]) {
        self.name(name)
        self.bytes.append(UInt8(ascii: "["))
        for value in values {
            self.separate()
            self.string(value)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    mutating func decimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold the 20 digits of UInt64.max
        withUnsafeMutableBytes(of: &digits) { buffer in
            var index = buffer.count
            var rest = value
            repeat {
                index -= 1
                buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            self.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index...]))
        }
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { self.string(utf8: $0) }
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n \r \t \b \f` or `\u00XX`, every other
    /// byte of the UTF-8 as is. Runs with nothing to escape are copied whole.
    mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        self.separate()
        self.bytes.append(UInt8(ascii: "\""))
        var start = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            start = index + 1
            self.bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.bytes.append(byte)
            case 0x0A: self.bytes.append(UInt8(ascii: "n"))
            case 0x0D: self.bytes.append(UInt8(ascii: "r"))
            case 0x09: self.bytes.append(UInt8(ascii: "t"))
            case 0x08: self.bytes.append(UInt8(ascii: "b"))
            case 0x0C: self.bytes.append(UInt8(ascii: "f"))
            default:
                let hex: StaticString = "0123456789abcdef"
                self.raw("u00")
                self.bytes.append(hex.utf8Start[Int(byte >> 4)])
                self.bytes.append(hex.utf8Start[Int(byte & 0x0F)])
            }
        }
        self.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        self.bytes.append(UInt8(ascii: "\""))
    }
}
