/// RFC 3339 times (`2026-12-05T14:30:00Z`, with or without fractional seconds, any offset) to and from microseconds
/// since the epoch: one parser for every place that takes a time from a person or a model (the CLI's `--as-of`,
/// `--since`, `--until`; the MCP tools' `at_time`).
public enum RFC3339 {
    /// The time `text` names, or `nil` when it is not an RFC 3339 date-time (`2026-12-05T14:30:00Z`,
    /// `2026-12-05T14:30:00.123456+01:00`; `t`, `z` and a space in place of `T` are accepted, as RFC 3339 allows).
    ///
    /// Exact to the microsecond (digits past the sixth are cut), with no trip through a floating-point `Date`.
    public static func micros(_ text: String) -> Microseconds? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"), let month = scanner.number(digits: 2),
            scanner.skip("-"), let day = scanner.number(digits: 2), scanner.skip(anyOf: "Tt "),
            let hour = scanner.number(digits: 2), scanner.skip(":"), let minute = scanner.number(digits: 2),
            scanner.skip(":"), let second = scanner.number(digits: 2)
        else { return nil }
        guard (1...12).contains(month), (1...Self.daysIn(month: month, year: year)).contains(day), hour < 24,
            minute < 60, second < 61  // a leap second reads as the first second of the next minute
        else { return nil }
        var fraction: Int64 = 0
        if scanner.skip(".") {
            var digits = 0
            while let digit = scanner.digit() {
                if digits < 6 { fraction = fraction * 10 + digit }
                digits += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { fraction *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if scanner.skip(anyOf: "Zz") {
            offsetSeconds = 0
        } else if let sign = scanner.take(anyOf: "+-") {
            guard let offsetHour = scanner.number(digits: 2), scanner.skip(":"),
                let offsetMinute = scanner.number(digits: 2), offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = (offsetHour * 3600 + offsetMinute * 60) * (sign == UInt8(ascii: "-") ? -1 : 1)
        } else {
            return nil
        }
        guard scanner.atEnd else { return nil }
        let days = Self.daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + fraction
    }

    /// Reads ASCII digits and separators.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { self.index == self.bytes.count }

        mutating func digit() -> Int64? {
            guard self.index < self.bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[self.index])
            else { return nil }
            defer { self.index += 1 }
            return Int64(self.bytes[self.index] - UInt8(ascii: "0"))
        }

        mutating func number(digits: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<digits {
                guard let digit = self.digit() else { return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool { self.take(anyOf: String(character)) != nil }

        mutating func skip(anyOf characters: String) -> Bool { self.take(anyOf: characters) != nil }

        mutating func take(anyOf characters: String) -> UInt8? {
            guard self.index < self.bytes.count, characters.utf8.contains(self.bytes[self.index]) else { return nil }
            defer { self.index += 1 }
            return self.bytes[self.index]
        }
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = Self.floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `micros` in UTC with milliseconds (rounded to the nearest, as Foundation's ISO 8601 formatter does), e.g.
    /// `2026-12-05T14:30:00.123Z`.
    ///
    /// Written out by hand: every record and event the HTTP API and the CLI render carries a time, and Foundation's
    /// formatter goes through ICU's date formatting for each one (measured: a third of the daemon's CPU per HTTP PUT).
    public static func text(_ micros: Microseconds) -> String {
        let (rounded, overflow) = micros.addingReportingOverflow(500)
        let milliseconds = Self.floorDivide(overflow ? micros : rounded, 1000)
        let days = Self.floorDivide(milliseconds, 86_400_000)
        let ofDay = milliseconds - days * 86_400_000
        let (year, month, day) = Self.civilDate(daysSinceEpoch: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        if year < 0 { bytes.append(UInt8(ascii: "-")) }
        Self.append(year.magnitude, digits: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(UInt64(month), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(UInt64(day), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Self.append(UInt64(ofDay / 3_600_000), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.append(UInt64(ofDay / 60_000 % 60), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.append(UInt64(ofDay / 1000 % 60), digits: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Self.append(UInt64(ofDay % 1000), digits: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = Self.floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func append(_ value: UInt64, digits: Int, to bytes: inout [UInt8]) {
        let text = String(value)
        if text.utf8.count < digits {
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits - text.utf8.count))
        }
        bytes.append(contentsOf: text.utf8)
    }
}
