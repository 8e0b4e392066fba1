import Crypto
import Foundation
import Logging
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// SHA-256 through swift-crypto's public API, for checking documented hashes independently of the engine.
func sha256(_ bytes: [UInt8]) throws -> [UInt8] {
    Array(SHA256.hash(data: bytes))
}

/// SQL that turns a database back to before migration 5 (retention and expiry columns), for tests that reopen a file
/// written "by an older build"; the search documents' indexes (migrations 5 and 6) go with `DROP TABLE search_docs`.
let undoMigration5 =
    "DROP INDEX versions_by_expiry; ALTER TABLE versions DROP COLUMN expires_at; "
    + "ALTER TABLE versions DROP COLUMN value_digest; "

/// The chain's hashed bytes of a first event (genesis prev_hash) with one put of agent "a" key "k" = `1`, version 1,
/// no metadata, written out by hand from docs/architecture.md ("Hash chain") to check the engine's encoding
/// independently; `expiresAt` makes the put kind 3.
func handEncodedFirstPut(txnID: String, committedAt: UInt64, expiresAt: UInt64? = nil) -> [UInt8] {
    var content: [UInt8] = HashChain.domainTag + [UInt8](repeating: 0, count: 32)
    func u64(_ value: UInt64) { content += (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) } }
    func u32(_ value: Int) { content += (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
    func str(_ text: String) {
        u32(text.utf8.count)
        content += Array(text.utf8)
    }
    u64(1)
    str("default")
    str(txnID)
    u64(committedAt)
    content += [0, 0]
    u32(0)  // no actor, no reason, no tags
    u32(1)
    str("a")
    str("k")
    content.append(expiresAt == nil ? 1 : 3)
    u64(1)
    u32(1)
    content += Array("1".utf8)
    if let expiresAt { u64(expiresAt) }
    return content
}
