/// One well-formed JSON text (RFC 8259), kept byte-for-byte as the client sent it.
///
/// Statehouse never parses a value into numbers or dictionaries: big integers, key order and whitespace survive
/// unchanged. Construction validates the grammar, UTF-8 and nesting depth once; afterwards the bytes are trusted.
public struct JSONValue: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 bytes of the JSON text.
    public let utf8: [UInt8]

    /// Validates `bytes` as one JSON text.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 encoded JSON text.
    ///   - maxDepth: deepest nesting of arrays and objects accepted.
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` naming the byte offset of the first error.
    public init(validating bytes: [UInt8], maxDepth: Int = EngineLimits().maxJSONDepth) throws {
        try JSONValidator.validate(bytes, maxDepth: maxDepth)
        self.utf8 = bytes
    }

    /// Validates `text` as one JSON text.
    public init(validating text: String, maxDepth: Int = EngineLimits().maxJSONDepth) throws {
        try self.init(validating: Array(text.utf8), maxDepth: maxDepth)
    }

    /// Wraps bytes that were validated before (read back from storage).
    package init(trusted bytes: [UInt8]) {
        self.utf8 = bytes
    }

    /// The JSON text as a string.
    public var text: String { String(decoding: self.utf8, as: UTF8.self) }

    public var description: String { self.text }
}

/// A strict, allocation-light RFC 8259 validator.
///
/// It is iterative (an explicit stack of container kinds) so that hostile nesting cannot overflow the thread's
/// stack, and it reports the first error with its byte offset.
enum JSONValidator {
    private enum Container { case array, object }

    static func validate(_ bytes: [UInt8], maxDepth: Int) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer, maxDepth: maxDepth)
            try parser.parseDocument()
        }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var index = 0
        var stack: [Container] = []

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func fail(_ what: String) -> StatehouseError {
            .invalidArgument("value is not valid JSON: \(what) at byte \(self.index)")
        }

        mutating func skipWhitespace() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        mutating func parseDocument() throws {
            self.skipWhitespace()
            guard self.current != nil else { throw self.fail("empty input") }
            try self.parseValue()
            self.skipWhitespace()
            guard self.index == self.bytes.count else { throw self.fail("unexpected data after the value") }
        }

        /// Parses one value; containers are handled by an explicit loop so depth costs heap, not stack.
        mutating func parseValue() throws {
            while true {
                self.skipWhitespace()
                guard let byte = self.current else { throw self.fail("unexpected end of input") }
                var scalarDone = true
                switch byte {
                case UInt8(ascii: "{"):
                    try self.push(.object)
                    self.index += 1
                    self.skipWhitespace()
                    if self.current == UInt8(ascii: "}") {
                        self.index += 1
                        self.stack.removeLast()
                    } else {
                        try self.parseObjectKey()
                        scalarDone = false
                    }
                case UInt8(ascii: "["):
                    try self.push(.array)
                    self.index += 1
                    self.skipWhitespace()
                    if self.current == UInt8(ascii: "]") {
                        self.index += 1
                        self.stack.removeLast()
                    } else {
                        scalarDone = false
                    }
                case UInt8(ascii: "\""):
                    try self.parseString()
                case UInt8(ascii: "t"):
                    try self.expectLiteral("true")
                case UInt8(ascii: "f"):
                    try self.expectLiteral("false")
                case UInt8(ascii: "n"):
                    try self.expectLiteral("null")
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    try self.parseNumber()
                default:
                    throw self.fail("unexpected character")
                }
                if !scalarDone { continue }
                // A value ended: close containers or continue with the next element.
                while let container = self.stack.last {
                    self.skipWhitespace()
                    guard let next = self.current else { throw self.fail("unexpected end of input") }
                    if next == UInt8(ascii: ",") {
                        self.index += 1
                        if container == .object {
                            self.skipWhitespace()
                            try self.parseObjectKey()
                        }
                        break
                    }
                    let closing = container == .object ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    guard next == closing else { throw self.fail("expected ',' or a closing bracket") }
                    self.index += 1
                    self.stack.removeLast()
                }
                if self.stack.isEmpty { return }
            }
        }

        mutating func push(_ container: Container) throws {
            guard self.stack.count < self.maxDepth else {
                throw StatehouseError.invalidArgument(
                    "value nests arrays and objects deeper than the limit of \(self.maxDepth)"
                )
            }
            self.stack.append(container)
        }

        mutating func parseObjectKey() throws {
            guard self.current == UInt8(ascii: "\"") else { throw self.fail("expected a string key") }
            try self.parseString()
            self.skipWhitespace()
            guard self.current == UInt8(ascii: ":") else { throw self.fail("expected ':'") }
            self.index += 1
        }

        mutating func expectLiteral(_ literal: String) throws {
            let expected = literal.utf8
            let count = expected.count
            guard self.index + count <= self.bytes.count else { throw self.fail("invalid literal") }
            for (offset, byte) in expected.enumerated() where self.bytes[self.index + offset] != byte {
                throw self.fail("invalid literal")
            }
            self.index += count
        }

        mutating func parseNumber() throws {
            if self.current == UInt8(ascii: "-") { self.index += 1 }
            guard let first = self.current, Self.isDigit(first) else { throw self.fail("invalid number") }
            if first == UInt8(ascii: "0") {
                self.index += 1
            } else {
                self.skipDigits()
            }
            if self.current == UInt8(ascii: ".") {
                self.index += 1
                guard let digit = self.current, Self.isDigit(digit) else { throw self.fail("invalid number") }
                self.skipDigits()
            }
            if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
                self.index += 1
                if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.index += 1 }
                guard let digit = self.current, Self.isDigit(digit) else { throw self.fail("invalid number") }
                self.skipDigits()
            }
        }

        mutating func skipDigits() {
            while let byte = self.current, Self.isDigit(byte) { self.index += 1 }
        }

        static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            Self.isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
        }

        /// Parses a string starting at its opening quote, validating escapes and UTF-8.
        mutating func parseString() throws {
            self.index += 1
            while true {
                guard let byte = self.current else { throw self.fail("unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    self.index += 1
                    return
                case UInt8(ascii: "\\"):
                    self.index += 1
                    guard let escaped = self.current else { throw self.fail("unterminated string") }
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        self.index += 1
                    case UInt8(ascii: "u"):
                        self.index += 1
                        for _ in 0..<4 {
                            guard let hex = self.current, Self.isHexDigit(hex) else {
                                throw self.fail("invalid \\u escape")
                            }
                            self.index += 1
                        }
                    default:
                        throw self.fail("invalid escape")
                    }
                case 0x00..<0x20:
                    throw self.fail("unescaped control character in string")
                case 0x20..<0x80:
                    self.index += 1
                default:
                    try self.skipUTF8Scalar(lead: byte)
                }
            }
        }

        /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
        mutating func skipUTF8Scalar(lead: UInt8) throws {
            let length: Int
            var lowerBound: UInt8 = 0x80
            var upperBound: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                lowerBound = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                upperBound = 0x9F
            case 0xF0:
                length = 4
                lowerBound = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                upperBound = 0x8F
            default: throw self.fail("invalid UTF-8")
            }
            guard self.index + length <= self.bytes.count else { throw self.fail("invalid UTF-8") }
            let second = self.bytes[self.index + 1]
            guard second >= lowerBound && second <= upperBound else { throw self.fail("invalid UTF-8") }
            for offset in 2..<length where self.bytes[self.index + offset] & 0xC0 != 0x80 {
                throw self.fail("invalid UTF-8")
            }
            self.index += length
        }
    }
}
