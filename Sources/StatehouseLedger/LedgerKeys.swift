import Crypto
import Foundation
public import StatehouseModel

/// The public half of a daemon's ledger key (Ed25519), which is all a verifier needs to trust.
///
/// Exported as PEM "PUBLIC KEY" (SubjectPublicKeyInfo, RFC 8410), which OpenSSL and Python's `cryptography` read.
public struct LedgerPublicKey: Sendable, Hashable {
    /// The 32-byte Ed25519 public key.
    public let rawRepresentation: [UInt8]

    /// - Throws: ``LedgerKeyError`` unless `rawRepresentation` is 32 bytes of a valid Ed25519 public key.
    public init(rawRepresentation: [UInt8]) throws(LedgerKeyError) {
        guard rawRepresentation.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil
        else { throw LedgerKeyError("an Ed25519 public key is 32 bytes; got \(rawRepresentation.count)") }
        self.rawRepresentation = rawRepresentation
    }

    /// Reads a PEM "PUBLIC KEY" block holding an Ed25519 key.
    public init(pem: String) throws(LedgerKeyError) {
        let der = try PEM.decode(pem, label: "PUBLIC KEY")
        guard der.count == DER.publicKeyPrefix.count + 32, der.starts(with: DER.publicKeyPrefix) else {
            throw LedgerKeyError("the PUBLIC KEY is not an Ed25519 key (expected RFC 8410 SubjectPublicKeyInfo)")
        }
        try self.init(rawRepresentation: Array(der.dropFirst(DER.publicKeyPrefix.count)))
    }

    /// The key as PEM "PUBLIC KEY".
    public var pem: String { PEM.encode(DER.publicKeyPrefix + self.rawRepresentation, label: "PUBLIC KEY") }

    /// The first 8 bytes of SHA-256 of the raw public key, in hexadecimal: names the key in every signed head.
    public var keyID: String { EventHash.hex(Array(SHA256.hash(data: self.rawRepresentation).prefix(8))) }

    /// Whether `head` carries this key's id and a valid signature over its documented bytes.
    public func verify(_ head: SignedTreeHead) -> Bool {
        guard head.keyID == self.keyID,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: self.rawRepresentation)
        else { return false }
        return key.isValidSignature(head.signature, for: TreeHeadEncoding.signedBytes(head))
    }
}

/// The daemon's ledger key: signs tree heads.
public struct TreeHeadSigner: Sendable {
    private let privateKey: Curve25519.Signing.PrivateKey
    public let publicKey: LedgerPublicKey

    /// A new random key.
    public init() {
        self.init(privateKey: Curve25519.Signing.PrivateKey())
    }

    private init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        // Safe: a key the library made has a valid 32-byte public key.
        self.publicKey = try! LedgerPublicKey(rawRepresentation: Array(privateKey.publicKey.rawRepresentation))
    }

    /// Reads a PEM "PRIVATE KEY" block holding an Ed25519 key (PKCS#8, RFC 8410), as `openssl genpkey -algorithm
    /// ed25519` writes it.
    public init(pem: String) throws(LedgerKeyError) {
        let der = try PEM.decode(pem, label: "PRIVATE KEY")
        guard der.count == DER.privateKeyPrefix.count + 32, der.starts(with: DER.privateKeyPrefix) else {
            throw LedgerKeyError("the PRIVATE KEY is not an Ed25519 key (expected RFC 8410 PKCS#8)")
        }
        guard
            let key = try? Curve25519.Signing.PrivateKey(
                rawRepresentation: Array(der.dropFirst(DER.privateKeyPrefix.count)))
        else { throw LedgerKeyError("the PRIVATE KEY does not hold a valid Ed25519 seed") }
        self.init(privateKey: key)
    }

    /// The key as PEM "PRIVATE KEY" (PKCS#8), for the key file.
    public var pem: String {
        PEM.encode(DER.privateKeyPrefix + Array(self.privateKey.rawRepresentation), label: "PRIVATE KEY")
    }

    /// Signs `head` as of `timestamp`.
    public func sign(_ head: TreeHead, timestamp: Microseconds) throws -> SignedTreeHead {
        var signed = SignedTreeHead(head: head, timestamp: timestamp, keyID: self.publicKey.keyID, signature: [])
        signed.signature = Array(try self.privateKey.signature(for: TreeHeadEncoding.signedBytes(signed)))
        return signed
    }
}

/// The bytes a tree head's signature covers.
///
/// ```
/// signed = "statehouse.tree-head.v1" · 0x00 · str namespace · u64 tree_size · 32-byte root hash
///          · i64 timestamp (µs since the Unix epoch) · str key_id
/// str    = u32 byte_length · UTF-8 bytes          integers big-endian
/// ```
public enum TreeHeadEncoding {
    public static let domainTag: [UInt8] = Array("statehouse.tree-head.v1".utf8) + [0]

    public static func signedBytes(_ head: SignedTreeHead) -> [UInt8] {
        var bytes = Self.domainTag
        CanonicalEncoding.appendString(head.head.namespace, to: &bytes)
        CanonicalEncoding.appendUInt64(head.head.treeSize, to: &bytes)
        head.head.rootHash.append(to: &bytes)
        CanonicalEncoding.appendUInt64(UInt64(bitPattern: head.timestamp), to: &bytes)
        CanonicalEncoding.appendString(head.keyID, to: &bytes)
        return bytes
    }
}

/// A key that cannot be read or used, with the reason.
public struct LedgerKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The fixed DER prefixes of RFC 8410 Ed25519 keys: everything before the 32 key bytes.
enum DER {
    /// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (0 unused bits) }
    static let publicKeyPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
    /// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32 bytes) } }
    static let privateKeyPrefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]
}

/// PEM armour (RFC 7468): base64 between BEGIN and END lines.
enum PEM {
    static func encode(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines = ["-----BEGIN \(label)-----"]
        var index = base64.startIndex
        while index < base64.endIndex {
            let end = base64.index(index, offsetBy: 64, limitedBy: base64.endIndex) ?? base64.endIndex
            lines.append(String(base64[index..<end]))
            index = end
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }

    static func decode(_ text: String, label: String) throws(LedgerKeyError) -> [UInt8] {
        let begin = "-----BEGIN \(label)-----"
        let end = "-----END \(label)-----"
        // Lines compared without any whitespace, so that indentation and CRLF line ends do not matter.
        func squeezed(_ line: some StringProtocol) -> String { String(line.filter { !$0.isWhitespace }) }
        let lines = text.split(whereSeparator: \.isNewline).map(squeezed)
        guard let first = lines.firstIndex(of: squeezed(begin)), let last = lines.firstIndex(of: squeezed(end)),
            first < last
        else {
            throw LedgerKeyError("not a PEM \(label) (no '\(begin)' … '\(end)' block)")
        }
        guard let der = Data(base64Encoded: lines[(first + 1)..<last].joined()).map(Array.init) else {
            throw LedgerKeyError("the PEM \(label) block is not valid base64")
        }
        return der
    }
}
