import Foundation

/// A fast, strict codec for audit bundle lines: Foundation's JSONDecoder cost about 20 µs a line and half of a
/// verification, so bundles are read and written here byte by byte. It reads any valid JSON object (members in any
/// order, any whitespace, every escape) and refuses anything else; it writes compact lines with sorted member names.
extension AuditBundle {
    /// A parsed JSON value, as much of JSON as bundle lines need: integers only, kept as their text. Not `indirect`:
    /// arrays already hold the nested values, and a box per value was a third of a line's allocations.
    enum JSON {
        case null
        case bool(Bool)
        case number(String)
        case string(String)
        case array([JSON])
        /// Members in the order written: bundle objects are small, so a scan beats hashing every name.
        case object([(String, JSON)])

        subscript(_ name: String) -> JSON? {
            if case .object(let members) = self {
                for (member, value) in members where member == name { return value }
            }
            return nil
        }
    }

    struct CodecError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Decodes one line (without its newline).
    public static func decodeLine(_ bytes: UnsafeRawBufferPointer) throws -> Line {
        var parser = Parser(bytes: bytes)
        let json = try parser.document()
        guard case .object(let members) = json else { throw CodecError("a line must be a JSON object") }
        var line = Line()
        for (name, value) in members {
            switch name {
            case "manifest": line.manifest = try self.manifest(value)
            case "event": line.event = try self.event(value)
            case "leaf":
                line.leaf = LeafLine(commit_ts: try self.uint(value["commit_ts"]), hash: try self.text(value["hash"]))
            case "state":
                line.state = StateLine(
                    agent_id: try self.text(value["agent_id"]), key: try self.text(value["key"]),
                    version: try self.uint(value["version"]), commit_ts: try self.uint(value["commit_ts"]),
                    value: try self.text(value["value"]))
            case "witness":
                guard let event = value["event"] else { throw CodecError("a witness has no event") }
                line.witness = WitnessLine(event: try self.event(event), proof: try self.texts(value["proof"]))
            case "end":
                line.end = EndLine(
                    events: try self.int(value["events"]), leaves: try self.int(value["leaves"]),
                    state: try self.int(value["state"]), witnesses: try self.int(value["witnesses"]))
            default:
                throw CodecError("unknown member '\(name)'")
            }
        }
        return line
    }

    /// Decodes a signed head written on its own (`statehousectl state -o json` prints one; `--since-head` reads it).
    public static func decodeHead(_ bytes: UnsafeRawBufferPointer) throws -> Head {
        var parser = Parser(bytes: bytes)
        return try self.head(try parser.document())
    }

    private static func manifest(_ json: JSON) throws -> Manifest {
        guard let head = json["head"] else { throw CodecError("the manifest has no head") }
        var since: Head?
        if let value = json["since_head"], case .object = value { since = try self.head(value) }
        var sinceConsistency: [String]?
        if let value = json["since_consistency"], case .array = value { sinceConsistency = try self.texts(value) }
        return Manifest(
            format: try self.text(json["format"]), version: try self.int(json["version"]),
            namespace: try self.text(json["namespace"]), agent_id: try self.optionalText(json["agent_id"]),
            from_commit_ts: try self.uint(json["from_commit_ts"]), to_commit_ts: try self.uint(json["to_commit_ts"]),
            head: try self.head(head), public_key: try self.text(json["public_key"]),
            prefix: try self.texts(json["prefix"]), consistency: try self.texts(json["consistency"]),
            since_head: since, since_consistency: sinceConsistency)
    }

    private static func head(_ json: JSON) throws -> Head {
        Head(
            namespace: try self.text(json["namespace"]), tree_size: try self.uint(json["tree_size"]),
            root_hash: try self.text(json["root_hash"]), timestamp_micros: try self.int64(json["timestamp_micros"]),
            key_id: try self.text(json["key_id"]), signature: try self.text(json["signature"]))
    }

    private static func event(_ json: JSON) throws -> EventLine {
        guard case .array(let items)? = json["operations"] else { throw CodecError("an event has no operations") }
        var operations: [Operation] = []
        operations.reserveCapacity(items.count)
        for item in items {
            operations.append(
                Operation(
                    agent_id: try self.text(item["agent_id"]), key: try self.text(item["key"]),
                    kind: try self.text(item["kind"]), version: try self.uint(item["version"]),
                    value: try self.optionalText(item["value"])))
        }
        var metadata: Metadata?
        if let value = json["metadata"], case .object = value {
            var tags: [String: String] = [:]
            if case .object(let members)? = value["tags"] {
                for (name, tag) in members { tags[name] = try self.text(tag) }
            }
            metadata = Metadata(
                actor: try self.optionalText(value["actor"]), reason: try self.optionalText(value["reason"]), tags: tags
            )
        }
        return EventLine(
            commit_ts: try self.uint(json["commit_ts"]), txn_id: try self.text(json["txn_id"]),
            committed_at_micros: try self.int64(json["committed_at_micros"]), metadata: metadata,
            operations: operations, leaf_hash: try self.optionalText(json["leaf_hash"]))
    }

    private static func text(_ json: JSON?) throws -> String {
        guard case .string(let text)? = json else { throw CodecError("a string is missing or of another type") }
        return text
    }

    private static func optionalText(_ json: JSON?) throws -> String? {
        switch json {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw CodecError("a string is of another type")
        }
    }

    private static func texts(_ json: JSON?) throws -> [String] {
        guard case .array(let items)? = json else { throw CodecError("a list is missing") }
        return try items.map { try self.text($0) }
    }

    private static func uint(_ json: JSON?) throws -> UInt64 {
        guard case .number(let text)? = json, let value = UInt64(text) else {
            throw CodecError("an unsigned integer is missing or malformed")
        }
        return value
    }

    private static func int64(_ json: JSON?) throws -> Int64 {
        guard case .number(let text)? = json, let value = Int64(text) else {
            throw CodecError("an integer is missing or malformed")
        }
        return value
    }

    private static func int(_ json: JSON?) throws -> Int {
        Int(try self.int64(json))
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func document() throws -> JSON {
            let value = try self.value(depth: 0)
            self.skipWhitespace()
            guard self.index == self.bytes.count else { throw CodecError("text after the JSON value") }
            return value
        }

        mutating func skipWhitespace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8) throws {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else {
                throw CodecError("expected '\(Character(Unicode.Scalar(byte)))' at byte \(self.index)")
            }
            self.index += 1
        }

        mutating func next(_ byte: UInt8) -> Bool {
            self.skipWhitespace()
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 64 else { throw CodecError("nested too deeply") }
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw CodecError("the line ends inside a value") }
            switch self.bytes[self.index] {
            case UInt8(ascii: "{"):
                self.index += 1
                var members: [(String, JSON)] = []
                if self.next(UInt8(ascii: "}")) { return .object(members) }
                repeat {
                    self.skipWhitespace()
                    let name = try self.string()
                    try self.expect(UInt8(ascii: ":"))
                    let value = try self.value(depth: depth + 1)
                    guard !members.contains(where: { $0.0 == name }) else {
                        throw CodecError("member '\(name)' is given twice")
                    }
                    members.append((name, value))
                } while self.next(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "}"))
                return .object(members)
            case UInt8(ascii: "["):
                self.index += 1
                var items: [JSON] = []
                if self.next(UInt8(ascii: "]")) { return .array(items) }
                repeat { items.append(try self.value(depth: depth + 1)) } while self.next(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "]"))
                return .array(items)
            case UInt8(ascii: "\""):
                return .string(try self.string())
            case UInt8(ascii: "t"):
                try self.literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try self.literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try self.literal("null")
                return .null
            default:
                let start = self.index
                if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
                while self.index < self.bytes.count, (0x30...0x39).contains(self.bytes[self.index]) { self.index += 1 }
                guard self.index > start else { throw CodecError("unexpected byte at \(start)") }
                if self.index < self.bytes.count,
                    [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(self.bytes[self.index])
                {
                    throw CodecError("a bundle holds integers only (byte \(start))")
                }
                return .number(
                    String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self))
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let count = word.utf8CodeUnitCount
            guard self.index + count <= self.bytes.count,
                memcmp(self.bytes.baseAddress! + self.index, word.utf8Start, count) == 0
            else { throw CodecError("unexpected byte at \(self.index)") }
            self.index += count
        }

        /// A string literal, its escapes decoded; invalid UTF-8 and raw control characters are refused.
        mutating func string() throws -> String {
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw CodecError("expected a string at byte \(self.index)")
            }
            self.index += 1
            let start = self.index
            // Fast path: no escape before the closing quote.
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index])
                    self.index += 1
                    guard let text = String(validating: raw, as: UTF8.self) else { throw CodecError("invalid UTF-8") }
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw CodecError("a control character inside a string") }
                self.index += 1
            }
            var out: [UInt8] = Array(UnsafeRawBufferPointer(rebasing: self.bytes[start..<self.index]))
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: out, as: UTF8.self) else { throw CodecError("invalid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    guard self.index < self.bytes.count else { break }
                    let escape = self.bytes[self.index]
                    self.index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try self.hex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"),
                                self.bytes[self.index + 1] == UInt8(ascii: "u")
                            else { throw CodecError("a lone surrogate in a string") }
                            self.index += 2
                            let low = try self.hex4()
                            guard (0xDC00...0xDFFF).contains(low) else {
                                throw CodecError("a lone surrogate in a string")
                            }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw CodecError("a lone surrogate in a string")
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw CodecError("an invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default:
                        throw CodecError("an invalid escape in a string")
                    }
                default:
                    guard byte >= 0x20 else { throw CodecError("a control character inside a string") }
                    out.append(byte)
                }
            }
            throw CodecError("the line ends inside a string")
        }

        mutating func hex4() throws -> UInt32 {
            guard self.index + 4 <= self.bytes.count else { throw CodecError("a short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = self.bytes[self.index]
                self.index += 1
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                default: throw CodecError("a malformed \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}

extension AuditBundle {
    /// A line as bytes with a trailing newline: compact, member names sorted, so one bundle always has the same bytes.
    public static func encode(_ line: Line) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        self.write(self.json(line), to: &out)
        out.append(0x0A)
        return out
    }

    /// A head as one compact JSON object (no newline), as it stands inside a manifest.
    public static func encode(_ head: Head) -> [UInt8] {
        var out: [UInt8] = []
        self.write(self.json(head), to: &out)
        return out
    }

    /// A witness (an event and its inclusion proof) as one compact JSON object (no newline).
    public static func encode(_ witness: WitnessLine) -> [UInt8] {
        var out: [UInt8] = []
        self.write(self.json(witness), to: &out)
        return out
    }

    private static func json(_ witness: WitnessLine) -> JSON {
        self.object(["event": self.json(witness.event), "proof": .array(witness.proof.map(JSON.string))])
    }

    private static func json(_ line: Line) -> JSON {
        if let manifest = line.manifest {
            var members: [String: JSON] = [
                "format": .string(manifest.format), "version": .number("\(manifest.version)"),
                "namespace": .string(manifest.namespace), "agent_id": manifest.agent_id.map(JSON.string) ?? .null,
                "from_commit_ts": .number("\(manifest.from_commit_ts)"),
                "to_commit_ts": .number("\(manifest.to_commit_ts)"), "head": self.json(manifest.head),
                "public_key": .string(manifest.public_key), "prefix": .array(manifest.prefix.map(JSON.string)),
                "consistency": .array(manifest.consistency.map(JSON.string)),
                "since_head": manifest.since_head.map { self.json($0) } ?? .null,
                "since_consistency": manifest.since_consistency.map { .array($0.map(JSON.string)) } ?? .null,
            ]
            if manifest.since_head == nil { members["since_head"] = nil }
            if manifest.since_consistency == nil { members["since_consistency"] = nil }
            return self.object(["manifest": self.object(members)])
        }
        if let event = line.event { return self.object(["event": self.json(event)]) }
        if let leaf = line.leaf {
            return self.object([
                "leaf": self.object(["commit_ts": .number("\(leaf.commit_ts)"), "hash": .string(leaf.hash)])
            ])
        }
        if let state = line.state {
            return self.object([
                "state": self.object([
                    "agent_id": .string(state.agent_id), "key": .string(state.key),
                    "version": .number("\(state.version)"), "commit_ts": .number("\(state.commit_ts)"),
                    "value": .string(state.value),
                ])
            ])
        }
        if let witness = line.witness { return self.object(["witness": self.json(witness)]) }
        if let end = line.end {
            return self.object([
                "end": self.object([
                    "events": .number("\(end.events)"), "leaves": .number("\(end.leaves)"),
                    "state": .number("\(end.state)"), "witnesses": .number("\(end.witnesses)"),
                ])
            ])
        }
        return self.object([:])
    }

    private static func json(_ head: Head) -> JSON {
        self.object([
            "namespace": .string(head.namespace), "tree_size": .number("\(head.tree_size)"),
            "root_hash": .string(head.root_hash), "timestamp_micros": .number("\(head.timestamp_micros)"),
            "key_id": .string(head.key_id), "signature": .string(head.signature),
        ])
    }

    private static func json(_ event: EventLine) -> JSON {
        var members: [String: JSON] = [
            "commit_ts": .number("\(event.commit_ts)"), "txn_id": .string(event.txn_id),
            "committed_at_micros": .number("\(event.committed_at_micros)"),
            "operations": .array(
                event.operations.map { operation in
                    var op: [String: JSON] = [
                        "agent_id": .string(operation.agent_id), "key": .string(operation.key),
                        "kind": .string(operation.kind), "version": .number("\(operation.version)"),
                    ]
                    if let value = operation.value { op["value"] = .string(value) }
                    return self.object(op)
                }),
        ]
        if let metadata = event.metadata {
            var meta: [String: JSON] = ["tags": self.object(metadata.tags.mapValues(JSON.string))]
            if let actor = metadata.actor { meta["actor"] = .string(actor) }
            if let reason = metadata.reason { meta["reason"] = .string(reason) }
            members["metadata"] = self.object(meta)
        }
        if let leaf = event.leaf_hash { members["leaf_hash"] = .string(leaf) }
        return self.object(members)
    }

    /// An object with its members sorted by name (bytes), as every line is written.
    private static func object(_ members: [String: JSON]) -> JSON {
        .object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) })
    }

    private static func write(_ json: JSON, to out: inout [UInt8]) {
        switch json {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): self.write(string: text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                self.write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (name, value) in members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                self.write(string: name, to: &out)
                out.append(UInt8(ascii: ":"))
                self.write(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal: `"` and `\` escaped, control characters as `\n \r \t \b \f` or `\u00XX`, every other
    /// byte of the UTF-8 as is.
    private static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        let plain = string.withUTF8 { utf8 -> Bool in
            // Most strings (ids, keys, hashes) need no escape: copy them whole.
            guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
            else { return false }
            out.append(contentsOf: utf8)
            return true
        }
        if plain {
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex: StaticString = "0123456789abcdef"
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
