/// A JSON text parsed into a tree, for ``JSONPatch``: the one place in the model where a value is looked into.
///
/// Numbers keep their exact text, so a patch never rounds a big integer or rewrites `1.0` as `1`. Object members
/// keep their stored order so that writing a tree back changes as little as possible. A repeated member name keeps
/// the position of its first occurrence and the value of its last, as Python's `json.loads` and JavaScript's
/// `JSON.parse` do, so names in a tree are unique and a JSON Pointer names at most one member.
///
/// Equality (`==`) is the structural equality of RFC 6902's "test": member order does not matter, strings and
/// names compare by Unicode code points (not by Swift's canonical equivalence, under which "é" and "e" + U+0301
/// would be equal), and numbers compare by exact decimal value (see ``numbersEqual(_:_:)``).
package enum ParsedJSON: Sendable {
    case null
    case bool(Bool)
    /// The number's text as written.
    case number(String)
    case string(String)
    case array([ParsedJSON])
    /// Members in stored order, names unique.
    case object([Member])

    package typealias Member = (name: String, value: ParsedJSON)

    /// Parses one JSON text.
    ///
    /// The parser is iterative, so nesting costs heap rather than stack; it expects text that ``JSONValue`` already
    /// validated and checks only what it must to stay in bounds. A `\u` escape of an unpaired surrogate, which a
    /// Swift string cannot hold, becomes U+FFFD.
    ///
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` when `bytes` is not JSON after all.
    package init(parsing bytes: [UInt8]) throws {
        var parser = Parser(bytes: bytes)
        self = try parser.parseDocument()
    }

    /// Whether two strings hold the same code points (Swift's `==` would equate canonically equivalent strings).
    package static func sameText(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.elementsEqual(rhs.utf8)
    }
}

// MARK: - Writing

extension ParsedJSON {
    /// The compact JSON text: no whitespace, numbers as written, strings escaped by ``JSONString``.
    package var compactText: String {
        var out = ""
        self.write(to: &out)
        return out
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let text): out += text
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
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSONString.append(member.name, to: &out)
                out += ":"
                member.value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Nesting depth: 0 for a scalar, 1 + the deepest element for an array or object (as ``JSONValue`` counts).
    package var depth: Int {
        switch self {
        case .null, .bool, .number, .string: return 0
        case .array(let items): return 1 + (items.lazy.map(\.depth).max() ?? 0)
        case .object(let members): return 1 + (members.lazy.map(\.value.depth).max() ?? 0)
        }
    }

    /// The length of the compact text (not counting escapes), or nil as soon as it exceeds `limit`: a bound that
    /// costs at most `limit` steps however large the value is.
    package func compactSize(limit: Int) -> Int? {
        var total = 0
        return self.addSize(to: &total, limit: limit) ? total : nil
    }

    private func addSize(to total: inout Int, limit: Int) -> Bool {
        switch self {
        case .null: total += 4
        case .bool(let flag): total += flag ? 4 : 5
        case .number(let text): total += text.utf8.count
        case .string(let string): total += string.utf8.count + 2
        case .array(let items):
            total += 1 + max(items.count, 1)
            for item in items where total <= limit {
                guard item.addSize(to: &total, limit: limit) else { return false }
            }
        case .object(let members):
            total += 1 + max(members.count, 1)
            for member in members where total <= limit {
                total += member.name.utf8.count + 3
                guard member.value.addSize(to: &total, limit: limit) else { return false }
            }
        }
        return total <= limit
    }
}

// MARK: - Structural equality

extension ParsedJSON: Equatable {
    package static func == (lhs: ParsedJSON, rhs: ParsedJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let left), .bool(let right)): return left == right
        case (.number(let left), .number(let right)): return Self.numbersEqual(left, right)
        case (.string(let left), .string(let right)): return Self.sameText(left, right)
        case (.array(let left), .array(let right)): return left.elementsEqual(right)
        case (.object(let left), .object(let right)):
            guard left.count == right.count else { return false }
            let byName = Dictionary(right.map { (Array($0.name.utf8), $0.value) }, uniquingKeysWith: { $1 })
            return left.allSatisfy { member in byName[Array(member.name.utf8)].map { $0 == member.value } ?? false }
        default: return false
        }
    }

    /// Whether two JSON number texts have the same exact decimal value: `1`, `1.0`, `10e-1` and `0.1e1` are equal,
    /// and so are `0` and `-0`.
    ///
    /// Exact rather than as `Double`, because Statehouse keeps big integers exactly: `9007199254740993` and
    /// `9007199254740992` are the same double but different values. Only when an exponent does not fit in 60 bits
    /// are the texts compared instead.
    package static func numbersEqual(_ lhs: String, _ rhs: String) -> Bool {
        if Self.sameText(lhs, rhs) { return true }
        guard let left = DecimalValue(lhs), let right = DecimalValue(rhs) else { return false }
        return left == right
    }

    /// A number as sign, significant digits without leading or trailing zeros, and the power of ten of the last one.
    private struct DecimalValue: Equatable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int

        init?(_ text: String) {
            let bytes = Array(text.utf8)
            var index = 0
            self.negative = bytes.first == UInt8(ascii: "-")
            if self.negative { index += 1 }
            self.digits = []
            var fractionDigits = 0
            var inFraction = false
            while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
                if bytes[index] == UInt8(ascii: ".") {
                    inFraction = true
                } else {
                    self.digits.append(bytes[index])
                    if inFraction { fractionDigits += 1 }
                }
                index += 1
            }
            var written = 0
            if index < bytes.count {
                let exponentText = String(decoding: bytes[(index + 1)...], as: UTF8.self)
                guard let value = Int(exponentText), value.magnitude < 1 << 60 else { return nil }
                written = value
            }
            let leading = self.digits.prefix { $0 == UInt8(ascii: "0") }.count
            self.digits.removeFirst(leading)
            let trailing = self.digits.reversed().prefix { $0 == UInt8(ascii: "0") }.count
            self.digits.removeLast(trailing)
            if self.digits.isEmpty {  // zero, whatever its sign and exponent
                self.negative = false
                self.exponent = 0
            } else {
                self.exponent = written - fractionDigits + trailing
            }
        }
    }
}

// MARK: - Parsing

extension ParsedJSON {
    /// The recursive-descent grammar of JSON unrolled into a loop over an explicit stack of open containers.
    private struct Parser {
        enum Frame {
            case array([ParsedJSON])
            /// `pending` is the name whose value is being parsed; `positions` finds repeated names.
            case object(members: [Member], positions: [[UInt8]: Int], pending: String)

            var isArray: Bool {
                if case .array = self { return true }
                return false
            }

            var finished: ParsedJSON {
                switch self {
                case .array(let items): return .array(items)
                case .object(let members, _, _): return .object(members)
                }
            }

            /// Sets the name of the member whose value comes next.
            mutating func expect(_ name: String) {
                if case .object(let members, let positions, _) = self {
                    self = .object(members: members, positions: positions, pending: name)
                }
            }

            /// Adds an element or member; the payload is taken out first so that its storage grows in place.
            mutating func append(_ value: ParsedJSON) {
                switch self {
                case .array(var items):
                    self = .array([])
                    items.append(value)
                    self = .array(items)
                case .object(var members, var positions, let pending):
                    self = .array([])
                    let key = Array(pending.utf8)
                    if let position = positions[key] {
                        members[position].value = value
                    } else {
                        positions[key] = members.count
                        members.append((pending, value))
                    }
                    self = .object(members: members, positions: positions, pending: pending)
                }
            }
        }

        let bytes: [UInt8]
        var index = 0
        var stack: [Frame] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        func fail(_ what: String) -> StatehouseError {
            .invalidArgument("value is not valid JSON: \(what) at byte \(self.index)")
        }

        var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        mutating func skipWhitespace() {
            while let byte = self.current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                self.index += 1
            }
        }

        mutating func parseDocument() throws -> ParsedJSON {
            parsing: while true {
                guard var value = try self.parseScalarOrOpen() else { continue }
                // A value ended: add it to the open container, then start the next element or close the container.
                while !self.stack.isEmpty {
                    self.stack[self.stack.count - 1].append(value)
                    let isArray = self.stack[self.stack.count - 1].isArray
                    self.skipWhitespace()
                    guard let next = self.current else { throw self.fail("unexpected end of input") }
                    switch next {
                    case UInt8(ascii: ","):
                        self.index += 1
                        if !isArray {
                            self.skipWhitespace()
                            self.stack[self.stack.count - 1].expect(try self.key())
                        }
                        continue parsing
                    case UInt8(ascii: "]") where isArray, UInt8(ascii: "}") where !isArray:
                        self.index += 1
                        value = self.stack.removeLast().finished
                    default:
                        throw self.fail("expected ',' or a closing bracket")
                    }
                }
                self.skipWhitespace()
                guard self.current == nil else { throw self.fail("unexpected data after the value") }
                return value
            }
        }

        /// Parses a scalar, or opens a container and returns nil (an empty container is returned whole).
        mutating func parseScalarOrOpen() throws -> ParsedJSON? {
            self.skipWhitespace()
            guard let byte = self.current else { throw self.fail("unexpected end of input") }
            switch byte {
            case UInt8(ascii: "["):
                self.index += 1
                self.skipWhitespace()
                if self.current == UInt8(ascii: "]") {
                    self.index += 1
                    return .array([])
                }
                self.stack.append(.array([]))
                return nil
            case UInt8(ascii: "{"):
                self.index += 1
                self.skipWhitespace()
                if self.current == UInt8(ascii: "}") {
                    self.index += 1
                    return .object([])
                }
                self.stack.append(.object(members: [], positions: [:], pending: try self.key()))
                return nil
            case UInt8(ascii: "\""): return .string(try self.string())
            case UInt8(ascii: "t"): return try self.literal("true", .bool(true))
            case UInt8(ascii: "f"): return try self.literal("false", .bool(false))
            case UInt8(ascii: "n"): return try self.literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = self.index
                while let next = self.current, Self.isNumberByte(next) { self.index += 1 }
                return .number(String(decoding: self.bytes[start..<self.index], as: UTF8.self))
            default:
                throw self.fail("unexpected character")
            }
        }

        static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                UInt8(ascii: "e"), UInt8(ascii: "E"):
                return true
            default:
                return false
            }
        }

        mutating func literal(_ text: String, _ value: ParsedJSON) throws -> ParsedJSON {
            let end = self.index + text.utf8.count
            guard end <= self.bytes.count, self.bytes[self.index..<end].elementsEqual(text.utf8) else {
                throw self.fail("invalid literal")
            }
            self.index = end
            return value
        }

        /// Parses a member name and the `:` after it.
        mutating func key() throws -> String {
            guard self.current == UInt8(ascii: "\"") else { throw self.fail("expected a string key") }
            let name = try self.string()
            self.skipWhitespace()
            guard self.current == UInt8(ascii: ":") else { throw self.fail("expected ':'") }
            self.index += 1
            return name
        }

        /// Parses a string from its opening quote; text without escapes is decoded in one step.
        mutating func string() throws -> String {
            self.index += 1
            let start = self.index
            while let byte = self.current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") { self.index += 1 }
            if self.current == UInt8(ascii: "\"") {
                self.index += 1
                return String(decoding: self.bytes[start..<(self.index - 1)], as: UTF8.self)
            }
            var decoded = Array(self.bytes[start..<self.index])
            while let byte = self.current {
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: decoded, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = self.current else { throw self.fail("unterminated string") }
                    self.index += 1
                    switch escaped {
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        UTF8.encode(try self.unicodeEscape(), into: { decoded.append($0) })
                    default: decoded.append(escaped)  // " \ /
                    }
                default:
                    decoded.append(byte)
                }
            }
            throw self.fail("unterminated string")
        }

        /// The scalar of a `\u` escape (its `\u` already read), joining a surrogate pair written as two escapes.
        mutating func unicodeEscape() throws -> Unicode.Scalar {
            let first = try self.hex4()
            if (0xD800..<0xDC00).contains(first), self.index + 1 < self.bytes.count,
                self.bytes[self.index] == UInt8(ascii: "\\"), self.bytes[self.index + 1] == UInt8(ascii: "u")
            {
                let saved = self.index
                self.index += 2
                let second = try self.hex4()
                if (0xDC00..<0xE000).contains(second) {
                    return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))!
                }
                self.index = saved
            }
            return Unicode.Scalar(first) ?? "\u{FFFD}"
        }

        mutating func hex4() throws -> UInt32 {
            guard self.index + 4 <= self.bytes.count else { throw self.fail("invalid \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(self.bytes[self.index])).hexDigitValue else {
                    throw self.fail("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                self.index += 1
            }
            return value
        }
    }
}
