import StatehouseModel

/// A stored JSON value parsed into a tree, for the summaries of the pretty format.
///
/// The pretty format's summaries are specified as the original Python SDK's `json.dumps(value, ensure_ascii=False,
/// separators=(",", ":"))` of the parsed value, so that the Swift CLI and the Python SDK (`replay_pretty`) print the
/// same lines for the same log. ``compact`` is that serialisation: object members in stored order, strings with
/// Python's escapes, integers as written, other numbers as Python's `repr` of the double (which Swift's
/// `description` matches).
indirect enum JSONTree: Equatable {
    case null
    case bool(Bool)
    /// The number's text as stored.
    case number(String)
    case string(String)
    case array([JSONTree])
    case object([(String, JSONTree)])

    static func == (lhs: JSONTree, rhs: JSONTree) -> Bool { lhs.compact == rhs.compact }

    /// Parses JSON text that the daemon already validated (so errors are not expected; a malformed text gives
    /// ``string(_:)`` of itself rather than failing a listing).
    init(parsing text: String) {
        var parser = Parser(bytes: Array(text.utf8))
        if let value = try? parser.value(), parser.atEnd() {
            self = value
        } else {
            self = .string(text)
        }
    }

    /// The members of a JSON object with the raw text of each value (byte for byte as written), or nil when `text`
    /// is not one object. Lets `load` write back stored values without re-encoding them.
    static func rawMembers(ofObject text: String) -> [(String, String)]? {
        var parser = Parser(bytes: Array(text.utf8))
        return try? parser.rawMembers()
    }

    /// The compact serialisation (see the type's discussion).
    var compact: String {
        var out = ""
        self.write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let text): out += Self.pythonNumber(text)
        case .string(let string): JSONString.append(string, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (name, value)) in members.enumerated() {
                if index > 0 { out += "," }
                JSONString.append(name, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// A number as Python's json module writes the value it parsed: an integer as is (without a sign on zero), a
    /// fraction or exponent as the double's shortest text.
    static func pythonNumber(_ text: String) -> String {
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return text == "-0" ? "0" : text
        }
        guard let number = Double(text) else { return text }
        return JSONNumber.pythonRepr(number)
    }

    /// A recursive-descent parser over UTF-8 bytes.
    private struct Parser {
        struct Malformed: Error {}

        let bytes: [UInt8]
        var index = 0

        mutating func skipWhitespace() {
            while self.index < self.bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[self.index]) {
                self.index += 1
            }
        }

        mutating func atEnd() -> Bool {
            self.skipWhitespace()
            return self.index == self.bytes.count
        }

        mutating func value() throws -> JSONTree {
            self.skipWhitespace()
            guard self.index < self.bytes.count else { throw Malformed() }
            switch self.bytes[self.index] {
            case UInt8(ascii: "{"):
                self.index += 1
                var members: [(String, JSONTree)] = []
                var positions: [String: Int] = [:]
                self.skipWhitespace()
                if self.peek(UInt8(ascii: "}")) { return .object(members) }
                repeat {
                    self.skipWhitespace()
                    let name = try self.string()
                    self.skipWhitespace()
                    guard self.peek(UInt8(ascii: ":")) else { throw Malformed() }
                    let member = try self.value()
                    // A repeated name keeps its first place and takes the last value, as Python's json.loads does.
                    if let index = positions[name] {
                        members[index].1 = member
                    } else {
                        positions[name] = members.count
                        members.append((name, member))
                    }
                    self.skipWhitespace()
                } while self.peek(UInt8(ascii: ","))
                guard self.peek(UInt8(ascii: "}")) else { throw Malformed() }
                return .object(members)
            case UInt8(ascii: "["):
                self.index += 1
                var items: [JSONTree] = []
                self.skipWhitespace()
                if self.peek(UInt8(ascii: "]")) { return .array(items) }
                repeat {
                    items.append(try self.value())
                    self.skipWhitespace()
                } while self.peek(UInt8(ascii: ","))
                guard self.peek(UInt8(ascii: "]")) else { throw Malformed() }
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
                while self.index < self.bytes.count, "+-0123456789.eE".utf8.contains(self.bytes[self.index]) {
                    self.index += 1
                }
                guard self.index > start else { throw Malformed() }
                return .number(String(decoding: self.bytes[start..<self.index], as: UTF8.self))
            }
        }

        mutating func rawMembers() throws -> [(String, String)] {
            self.skipWhitespace()
            guard self.peek(UInt8(ascii: "{")) else { throw Malformed() }
            var members: [(String, String)] = []
            self.skipWhitespace()
            if !self.peek(UInt8(ascii: "}")) {
                repeat {
                    self.skipWhitespace()
                    let name = try self.string()
                    self.skipWhitespace()
                    guard self.peek(UInt8(ascii: ":")) else { throw Malformed() }
                    self.skipWhitespace()
                    let start = self.index
                    _ = try self.value()
                    members.append((name, String(decoding: self.bytes[start..<self.index], as: UTF8.self)))
                    self.skipWhitespace()
                } while self.peek(UInt8(ascii: ","))
                guard self.peek(UInt8(ascii: "}")) else { throw Malformed() }
            }
            guard self.atEnd() else { throw Malformed() }
            return members
        }

        /// Consumes `byte` if it is next.
        mutating func peek(_ byte: UInt8) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        mutating func literal(_ word: String) throws {
            let expected = Array(word.utf8)
            guard self.index + expected.count <= self.bytes.count,
                Array(self.bytes[self.index..<self.index + expected.count]) == expected
            else { throw Malformed() }
            self.index += expected.count
        }

        mutating func string() throws -> String {
            guard self.peek(UInt8(ascii: "\"")) else { throw Malformed() }
            var scalars = String.UnicodeScalarView()
            var run: [UInt8] = []
            func flush() {
                if !run.isEmpty {
                    scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                    run.removeAll()
                }
            }
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard self.index < self.bytes.count else { throw Malformed() }
                    let escaped = self.bytes[self.index]
                    self.index += 1
                    switch escaped {
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "u"):
                        var code = try self.hex4()
                        // A high surrogate followed by an escaped low one is one character; anything else leaves a
                        // lone surrogate, which a Swift string cannot hold: it becomes U+FFFD.
                        if (0xD800..<0xDC00).contains(code), self.index + 6 <= self.bytes.count,
                            self.bytes[self.index] == UInt8(ascii: "\\"),
                            self.bytes[self.index + 1] == UInt8(ascii: "u"),
                            let low = UInt32(
                                String(decoding: self.bytes[self.index + 2..<self.index + 6], as: UTF8.self), radix: 16),
                            (0xDC00..<0xE000).contains(low)
                        {
                            self.index += 6
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                    default: scalars.append(Unicode.Scalar(escaped))  // \" \\ \/
                    }
                default:
                    run.append(byte)
                }
            }
            throw Malformed()
        }

        mutating func hex4() throws -> UInt32 {
            guard self.index + 4 <= self.bytes.count,
                let code = UInt32(String(decoding: self.bytes[self.index..<self.index + 4], as: UTF8.self), radix: 16)
            else { throw Malformed() }
            self.index += 4
            return code
        }
    }
}
