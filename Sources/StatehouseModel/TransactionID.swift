import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Transaction ids: time-ordered UUIDs (version 7 layout).
///
/// Time-ordered ids keep the storage index on txn_id append-mostly, which matters at tens of thousands of
/// commits per second; the 74 random bits keep them unguessable and globally unique across namespaces.
package enum TransactionID {
    /// An id for now, by the system's wall clock (clients, which have no engine clock).
    package static func make() -> String {
        self.make(wallMicroseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
    }

    package static func make(wallMicroseconds: Microseconds) -> String {
        var generator = PooledRandom()
        let milliseconds = UInt64(max(0, wallMicroseconds / 1000))
        // 48 bits of milliseconds, version 7, 12 random bits, variant 10, 62 random bits.
        let high = milliseconds << 16 | 0x7000 | ((generator.next() as UInt64) & 0x0FFF)
        let low = ((generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    if index == 8 || index == 13 || index == 18 || index == 23 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    buffer[index] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            put(high, nibbles: 16)
            put(low, nibbles: 16)
            return index
        }
    }

    /// Whether `text` is an id in the layout `make` produces: 36 characters, lowercase hexadecimal in groups of
    /// 8-4-4-4-12, version 7. Checked for ids a client made (a transaction it began itself), which then share the
    /// daemon's index of transaction ids.
    package static func isWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            switch index {
            case 8, 13, 18, 23:
                guard byte == UInt8(ascii: "-") else { return false }
            case 14:
                guard byte == UInt8(ascii: "7") else { return false }
            default:
                guard
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                else { return false }
            }
        }
        return true
    }
}

/// Random words from the system's generator, read 4 KiB at a time into a pool shared by every thread.
///
/// `SystemRandomNumberGenerator` makes a `getrandom` system call per word, two per transaction id; an import that
/// gives every event a new id spent about 3 % of the daemon's CPU in the kernel's random generator that way. The words
/// are the same kernel CSPRNG's bytes, only fetched in bulk.
struct PooledRandom: RandomNumberGenerator {
    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        var words = [UInt64](repeating: 0, count: 512)
        var next = 512

        mutating func take() -> UInt64 {
            if self.next == self.words.count {
                guard self.refill() else {
                    var system = SystemRandomNumberGenerator()
                    return system.next()
                }
                self.next = 0
            }
            defer { self.next += 1 }
            return self.words[self.next]
        }

        /// Reads a whole pool from /dev/urandom; false when it cannot (then words come from the system generator).
        private mutating func refill() -> Bool {
            #if canImport(Glibc)
            let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            let wanted = self.words.count * MemoryLayout<UInt64>.size
            let got = self.words.withUnsafeMutableBytes { buffer -> Int in
                var filled = 0
                while filled < wanted {
                    let count = read(descriptor, buffer.baseAddress! + filled, wanted - filled)
                    if count > 0 {
                        filled += count
                    } else if count < 0 && errno == EINTR {
                        continue
                    } else {
                        break
                    }
                }
                return filled
            }
            return got == wanted
            #else
            return false
            #endif
        }
    }

    mutating func next() -> UInt64 {
        Self.pool.withLock { $0.take() }
    }
}
