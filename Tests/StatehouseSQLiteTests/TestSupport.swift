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
/// written "by an older build"; the search documents' index goes with `DROP TABLE search_docs`.
let undoMigration5 =
    "DROP INDEX versions_by_expiry; ALTER TABLE versions DROP COLUMN expires_at; "
    + "ALTER TABLE versions DROP COLUMN value_digest; "
