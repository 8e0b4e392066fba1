import NIOCore
import StatehouseModel

/// How Statehouse's values sit in PostgreSQL's columns: commit_ts, versions and counters as BIGINT (their values stay
/// below 2^63, like SQLite's INTEGER), hashes and blobs as BYTEA.
enum PostgresColumns {
    static func bytes(_ value: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: value)
    }

    static func bytes(_ hash: EventHash) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        hash.append(to: &bytes)
        return ByteBuffer(bytes: bytes)
    }

    static func array(_ buffer: ByteBuffer) -> [UInt8] {
        Array(buffer.readableBytesView)
    }

    /// A stored hash; a damaged one (not 32 bytes) is data corruption of that event.
    static func hash(_ buffer: ByteBuffer, commitTS: CommitTS) throws -> EventHash {
        guard let hash = EventHash(bytes: buffer.readableBytesView) else {
            throw StatehouseError.dataCorruption(commitTS: commitTS, reason: "a stored hash is not 32 bytes")
        }
        return hash
    }

    static func int(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
    /// A bound in a comparison: values beyond BIGINT's range (a caller's "up to the end") become its largest.
    static func bound(_ value: UInt64) -> Int64 { Int64(clamping: value) }
    static func uint(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }
}
