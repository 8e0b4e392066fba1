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
