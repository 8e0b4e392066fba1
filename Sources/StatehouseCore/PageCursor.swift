import Crypto

/// Opaque pagination cursors.
///
/// A cursor carries the position to continue from and is bound to the query it came from: the kind of listing
/// and a digest of its parameters, so a cursor passed to another query, or altered, is refused with a clear error
/// instead of silently skipping or repeating items. Encoding: base64url of
/// `u8 format · u8 kind · 8-byte query digest · position · 8-byte checksum`.
package enum PageCursor {
    package enum Kind: UInt8 {
        case keys = 1
        case scan = 2
        case history = 3
        case agents = 4
        case namespaces = 5
        case log = 6
    }

    private static let format: UInt8 = 1
    private static let checksumTag = Array("statehouse.cursor.v1".utf8)

    package static func encode(kind: Kind, query: [String], position: [UInt8]) -> String {
        var bytes: [UInt8] = [self.format, kind.rawValue]
        bytes.append(contentsOf: self.digest(query))
        bytes.append(contentsOf: position)
        bytes.append(contentsOf: self.checksum(bytes))
        return Base64URL.encode(bytes)
    }

    /// Returns the position, or throws ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a cursor that was
    /// altered or belongs to another query.
    package static func decode(_ cursor: String, kind: Kind, query: [String]) throws -> [UInt8] {
        let invalid = StatehouseError.invalidArgument("cursor is invalid or belongs to a different query")
        guard let bytes = Base64URL.decode(cursor), bytes.count >= 18 else { throw invalid }
        let body = Array(bytes[..<(bytes.count - 8)])
        guard Array(bytes[(bytes.count - 8)...]) == self.checksum(body), body[0] == self.format,
            body[1] == kind.rawValue, Array(body[2..<10]) == self.digest(query)
        else { throw invalid }
        return Array(body[10...])
    }

    package static func encodeString(kind: Kind, query: [String], position: String) -> String {
        self.encode(kind: kind, query: query, position: Array(position.utf8))
    }

    package static func decodeString(_ cursor: String, kind: Kind, query: [String]) throws -> String {
        let bytes = try self.decode(cursor, kind: kind, query: query)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw StatehouseError.invalidArgument("cursor is invalid or belongs to a different query")
        }
        return text
    }

    package static func encodeNumber(kind: Kind, query: [String], position: UInt64) -> String {
        var bytes: [UInt8] = []
        CanonicalEncoding.appendUInt64(position, to: &bytes)
        return self.encode(kind: kind, query: query, position: bytes)
    }

    package static func decodeNumber(_ cursor: String, kind: Kind, query: [String]) throws -> UInt64 {
        var reader = ByteReader(bytes: try self.decode(cursor, kind: kind, query: query))
        guard let number = reader.readUInt64(), reader.isAtEnd else {
            throw StatehouseError.invalidArgument("cursor is invalid or belongs to a different query")
        }
        return number
    }

    private static func digest(_ query: [String]) -> [UInt8] {
        var buffer: [UInt8] = []
        for part in query { CanonicalEncoding.appendString(part, to: &buffer) }
        return Array(SHA256.hash(data: buffer).prefix(8))
    }

    private static func checksum(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: self.checksumTag + bytes).prefix(8))
    }
}

/// URL-safe base64 without padding (RFC 4648 §5).
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    package static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(self.alphabet[Int((n >> UInt32(shift)) & 63)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            var n = UInt32(bytes[index]) << 16
            if rest == 2 { n |= UInt32(bytes[index + 1]) << 8 }
            out.append(self.alphabet[Int((n >> 18) & 63)])
            out.append(self.alphabet[Int((n >> 12) & 63)])
            if rest == 2 { out.append(self.alphabet[Int((n >> 6) & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    package static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(byte - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(byte - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        if values.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var n: UInt32 = 0
            for (offset, value) in chunk.enumerated() { n |= UInt32(value) << UInt32(18 - 6 * offset) }
            out.append(UInt8((n >> 16) & 0xFF))
            if chunk.count > 2 { out.append(UInt8((n >> 8) & 0xFF)) }
            if chunk.count > 3 { out.append(UInt8(n & 0xFF)) }
            index += 4
        }
        guard self.encode(out) == text else { return nil }  // reject non-canonical trailing bits
        return out
    }
}
