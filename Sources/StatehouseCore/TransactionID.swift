/// Transaction ids: time-ordered UUIDs (version 7 layout).
///
/// Time-ordered ids keep the storage index on txn_id append-mostly, which matters at tens of thousands of
/// commits per second; the 74 random bits keep them unguessable and globally unique across namespaces.
package enum TransactionID {
    package static func make(wallMicroseconds: Microseconds) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, wallMicroseconds / 1000))
        let random1 = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 { bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> UInt64(40 - 8 * index)) }
        for index in 6..<16 { bytes[index] = UInt8(truncatingIfNeeded: (index < 8 ? random1 : random2) >> UInt64(8 * (index % 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = HashChain.hex(bytes)
        let characters = Array(hex)
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-" + String(characters[12..<16]) + "-"
            + String(characters[16..<20]) + "-" + String(characters[20..<32])
    }
}
