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
            case "run":
                guard case .object = value, case .string? = value["run_id"] else {
                    throw CodecError("a run line has no run_id")
                }
                line.run = RunLine(body: value)
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
            since_head: since, since_consistency: sinceConsistency, run_id: try self.optionalText(json["run_id"]))
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
                    value: try self.optionalText(item["value"]),
                    value_digest: try self.optionalText(item["value_digest"]),
                    expires_at_micros: try item["expires_at_micros"].map { try self.int64($0) }))
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
            operations: operations, leaf_hash: try self.optionalText(json["leaf_hash"]),
            hash: try self.optionalText(json["hash"]), prev_hash: try self.optionalText(json["prev_hash"]))
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

    /// The JSON reader behind every decode here, and the generic fallback of ``decodeExportEvent(_:namespace:)``.
    struct Parser {
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
                let digits = self.index
                while self.index < self.bytes.count, (0x30...0x39).contains(self.bytes[self.index]) { self.index += 1 }
                // JSON's integers: at least one digit, and no leading zero (`02` is not JSON; any parser refuses it).
                guard self.index > digits else { throw CodecError("unexpected byte at \(start)") }
                guard self.bytes[digits] != UInt8(ascii: "0") || self.index == digits + 1 else {
                    throw CodecError("a number with a leading zero at byte \(start)")
                }
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
        ///
        /// Runs between escapes are copied whole, and a string of ASCII bytes needs no UTF-8 validation: every value in
        /// a bundle is JSON text inside a string, full of `\"`, and this was a third of a verification.
        mutating func string() throws -> String {
            try self.string { bytes, ascii in try Self.text(bytes, ascii: ascii) }
        }

        /// A string literal's decoded UTF-8 bytes, checked as ``string()`` checks them.
        mutating func stringBytes() throws -> [UInt8] {
            try self.string { bytes, ascii in
                guard ascii || String(validating: bytes, as: UTF8.self) != nil else {
                    throw CodecError("invalid UTF-8")
                }
                return Array(bytes)
            }
        }

        /// A string literal, its escapes decoded, handed to `make` as bytes with whether they are all ASCII.
        private mutating func string<Result>(
            _ make: (UnsafeRawBufferPointer, _ ascii: Bool) throws -> Result
        ) throws -> Result {
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw CodecError("expected a string at byte \(self.index)")
            }
            self.index += 1
            var runStart = self.index
            var ascii = true
            var escaped: [UInt8]?  // the decoded bytes so far, once an escape is seen
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                switch byte {
                case UInt8(ascii: "\""):
                    let run = UnsafeRawBufferPointer(rebasing: self.bytes[runStart..<self.index])
                    self.index += 1
                    guard var out = escaped else { return try make(run, ascii) }
                    out.append(contentsOf: run)
                    return try out.withUnsafeBytes { try make($0, ascii) }
                case UInt8(ascii: "\\"):
                    var out = escaped ?? []
                    escaped = nil
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: self.bytes[runStart..<self.index]))
                    self.index += 1
                    if try self.escape(into: &out) { ascii = false }
                    escaped = out
                    runStart = self.index
                case 0..<0x20:
                    throw CodecError("a control character inside a string")
                default:
                    if byte >= 0x80 { ascii = false }
                    self.index += 1
                }
            }
            throw CodecError("the line ends inside a string")
        }

        /// The string of `bytes`, validated as UTF-8 unless they are all ASCII.
        private static func text(_ bytes: UnsafeRawBufferPointer, ascii: Bool) throws -> String {
            if ascii { return String(decoding: bytes, as: UTF8.self) }
            guard let text = String(validating: bytes, as: UTF8.self) else { throw CodecError("invalid UTF-8") }
            return text
        }

        /// Decodes the escape after a backslash into `out`; true when it wrote a non-ASCII character.
        private mutating func escape(into out: inout [UInt8]) throws -> Bool {
            guard self.index < self.bytes.count else { throw CodecError("the line ends inside a string") }
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
                    guard (0xDC00...0xDFFF).contains(low) else { throw CodecError("a lone surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw CodecError("a lone surrogate in a string")
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw CodecError("an invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
                return scalar >= 0x80
            default:
                throw CodecError("an invalid escape in a string")
            }
            return false
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
