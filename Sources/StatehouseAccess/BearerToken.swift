import Crypto
import Foundation
public import StatehouseModel

/// The bearer string of a token, `tok_<16 hex>.<43 base64url>`: the token's id, a dot, and its secret.
///
/// The id is public (listings, audit tags, logs); the secret is 32 random bytes, shown once when the token is made and
/// kept by the daemon only as its SHA-256 (docs/security.md, "Tokens"). A secret of 256 random bits needs no slow
/// password hash: nothing can be guessed from its digest, and checking a request costs one SHA-256 of 43 bytes.
public struct BearerToken: Sendable, Hashable {
    public let id: String
    /// The secret part, base64url without padding.
    let secret: String

    /// `tok_` and 16 lowercase hex digits.
    static let idPrefix = "tok_"
    static let idHexDigits = 16
    static let secretBytes = 32

    /// A new token: a random id and a random secret (from the system's CSPRNG).
    static func generate() -> Self {
        var generator = SystemRandomNumberGenerator()
        let id =
            Self.idPrefix
            + EventHash.hex((0..<Self.idHexDigits / 2).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let secret = Data((0..<Self.secretBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return Self(id: id, secret: Self.base64URL(secret))
    }

    /// Parses the string a client sent. A malformed one is ``StatehouseModel/StatehouseError/unauthenticated(_:)``
    /// whose message never repeats the string.
    public init(parsing text: Substring) throws {
        guard let dot = text.firstIndex(of: "."),
            Self.isID(text[..<dot]),
            text.utf8.count == Self.idPrefix.utf8.count + Self.idHexDigits + 1 + 43
        else {
            throw StatehouseError.unauthenticated(
                "the bearer token is malformed: expected tok_<16 hex digits>.<secret>, as `statehousectl token "
                    + "create` prints it")
        }
        self.id = String(text[..<dot])
        self.secret = String(text[text.index(after: dot)...])
    }

    init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// What the client sends: `tok_….secret`.
    public var text: String { self.id + "." + self.secret }

    /// The SHA-256 of the secret's text, lowercase hex: what the daemon stores.
    var secretDigest: String { Self.digest(self.secret) }

    static func digest(_ secret: String) -> String {
        EventHash.hex(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// Whether `text` is a token id: `tok_` and 16 lowercase hex digits.
    public static func isID<S: StringProtocol>(_ text: S) -> Bool {
        guard text.hasPrefix(Self.idPrefix), text.utf8.count == Self.idPrefix.utf8.count + Self.idHexDigits else {
            return false
        }
        return text.utf8.dropFirst(Self.idPrefix.utf8.count).allSatisfy {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
        }
    }

    /// Compares two digests in time independent of where they differ.
    static func digestsEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension BearerToken: CustomStringConvertible {
    /// The id only: a token printed into a log never shows its secret.
    public var description: String { self.id + ".<secret>" }
}
