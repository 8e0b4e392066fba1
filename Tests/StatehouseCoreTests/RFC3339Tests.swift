import Foundation
import StatehouseCore
import Testing

/// The hand-written RFC 3339 formatter against Foundation's ISO 8601 formatter, the implementation it replaced: the
/// same text for edge cases and for 20,000 pseudo-random times from 1583 to 9999. Foundation switches to the Julian
/// calendar before the Gregorian reform of 1582, where RFC 3339 keeps the Gregorian one; and it rounds a time exactly
/// half-way between two milliseconds through a Double, either way: neither is compared.
@Suite("RFC 3339 times")
struct RFC3339Tests {
    static func foundation(_ micros: Int64) -> String {
        ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: Double(micros) / 1_000_000), timeZone: .gmt,
            formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }

    @Test(
        "edge cases match Foundation",
        arguments: [
            0, 1, -1, 499, 501, 999_999, -1_500_000, 1_764_944_643_169_499, 1_764_944_643_169_500,
            1_764_944_643_999_999, 951_782_400_000_000, 4_107_542_399_999_000, -12_212_553_600_000_000,
            253_402_300_799_999_000,
        ] as [Int64]
    )
    func edgeCases(_ micros: Int64) {
        #expect(RFC3339.text(micros) == Self.foundation(micros))
    }

    @Test(
        "parses offsets, fractions and the forms RFC 3339 allows",
        arguments: [
            ("2026-12-05T14:30:00Z", 1_796_481_000_000_000), ("2026-12-05t14:30:00z", 1_796_481_000_000_000),
            ("2026-12-05 14:30:00Z", 1_796_481_000_000_000), ("2026-12-05T15:30:00+01:00", 1_796_481_000_000_000),
            ("2026-12-05T09:00:00-05:30", 1_796_481_000_000_000),
            ("2026-12-05T14:30:00.123456Z", 1_796_481_000_123_456),
            ("2026-12-05T14:30:00.1Z", 1_796_481_000_100_000), ("2026-12-05T14:30:00.1234567Z", 1_796_481_000_123_456),
            ("1969-12-31T23:59:59.999999Z", -1), ("2024-02-29T00:00:00Z", 1_709_164_800_000_000),
        ] as [(String, Int64)]
    )
    func parses(_ text: String, _ micros: Int64) {
        #expect(RFC3339.micros(text) == micros)
    }

    @Test(
        "refuses what is not an RFC 3339 date-time",
        arguments: [
            "", "2026-12-05", "2026-12-05T14:30Z", "2026-12-05T14:30:00", "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z", "2026-12-05T24:00:00Z", "2026-12-05T14:60:00Z", "2026-12-05T14:30:00.Z",
            "2026-12-05T14:30:00+0100", "2026-12-05T14:30:00Zjunk", "yesterday", "26-12-05T14:30:00Z",
        ]
    )
    func refuses(_ text: String) {
        #expect(RFC3339.micros(text) == nil)
    }

    @Test("proleptic Gregorian before 1583")
    func prolepticGregorian() {
        #expect(RFC3339.text(-62_135_596_800_000_000) == "0001-01-01T00:00:00.000Z")
        #expect(RFC3339.text(-12_219_292_800_000_000) == "1582-10-15T00:00:00.000Z")
    }

    @Test("random times match Foundation and parse back")
    func randomTimes() {
        var generator = SplitMix64(seed: 0x5EED)
        let low: Int64 = -12_212_553_600_000_000  // 1583-01-01
        let high: Int64 = 253_402_300_799_000_000  // 9999-12-31
        for _ in 0..<20_000 {
            // Whole milliseconds, so that Foundation's Double round trip cannot land on the other side of a half.
            let micros = Int64.random(in: low...high, using: &generator) / 1000 * 1000
            let text = RFC3339.text(micros)
            #expect(text == Self.foundation(micros))
            #expect(RFC3339.micros(text) == micros)
        }
    }
}

/// A small seeded generator, so that a failure repeats.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { self.state = seed }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
