/// A SHA-256 hash of the chain: 32 bytes, stored inline.
///
/// A fixed-size value rather than a byte array: every event carries two of them, and keeping them out of the heap
/// saves two allocations per event on every log read.
public struct EventHash: Sendable, Hashable, CustomStringConvertible {
    // The 32 bytes as four big-endian words.
    private var w0: UInt64
    private var w1: UInt64
    private var w2: UInt64
    private var w3: UInt64

    /// 32 zero bytes: the previous hash of a namespace's first event.
    public static let zero = EventHash(w0: 0, w1: 0, w2: 0, w3: 0)

    private init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// A hash from exactly 32 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 32 else { return nil }
        // Contiguous bytes (arrays, Data, slices): four loads, no allocation. Every event a client decodes has two.
        if let hash = bytes.withContiguousStorageIfAvailable({ EventHash(unsafeBytes: $0.baseAddress!) }) {
            self = hash
            return
        }
        var words: [UInt64] = [0, 0, 0, 0]
        for (index, byte) in bytes.enumerated() { words[index / 8] = words[index / 8] << 8 | UInt64(byte) }
        self.init(w0: words[0], w1: words[1], w2: words[2], w3: words[3])
    }

    /// A hash from 32 bytes at `pointer` (no allocation).
    package init(unsafeBytes pointer: UnsafeRawPointer) {
        func word(_ offset: Int) -> UInt64 {
            UInt64(bigEndian: pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        self.init(w0: word(0), w1: word(8), w2: word(16), w3: word(24))
    }

    /// The 32 bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        self.append(to: &out)
        return out
    }

    /// Appends the 32 bytes to `buffer`.
    public func append(to buffer: inout [UInt8]) {
        // Four big-endian words copied whole: hashing a Merkle node appends two hashes, every proof step one node.
        Swift.withUnsafeBytes(of: (self.w0.bigEndian, self.w1.bigEndian, self.w2.bigEndian, self.w3.bigEndian)) {
            buffer.append(contentsOf: $0)
        }
    }

    /// Calls `body` with the 32 bytes, from the stack (hashing a Merkle node needs no array).
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(
            of: (self.w0.bigEndian, self.w1.bigEndian, self.w2.bigEndian, self.w3.bigEndian), body)
    }

    /// Lowercase hexadecimal, 64 characters (written in place: an audit bundle has one per event).
    public var hex: String {
        String(unsafeUninitializedCapacity: 64) { out in
            let digits: StaticString = "0123456789abcdef"
            self.withUnsafeBytes { bytes in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    out[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                }
            }
            return 64
        }
    }

    /// Lowercase hexadecimal of any bytes.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public var description: String { self.hex }
}
