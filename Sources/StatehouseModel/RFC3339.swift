import Foundation

/// RFC 3339 times (`2026-12-05T14:30:00Z`, with or without fractional seconds, any offset) to and from microseconds
/// since the epoch: one parser for every place that takes a time from a person or a model (the CLI's `--as-of`,
/// `--since`, `--until`; the MCP tools' `at_time`).
public enum RFC3339 {
    /// The time `text` names, or `nil` when it is not an RFC 3339 date-time.
    public static func micros(_ text: String) -> Microseconds? {
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                return Microseconds((date.timeIntervalSince1970 * 1_000_000).rounded())
            }
        }
        return nil
    }

    /// `micros` in UTC with milliseconds, e.g. `2026-12-05T14:30:00.123Z`.
    public static func text(_ micros: Microseconds) -> String {
        ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: Double(micros) / 1_000_000), timeZone: .gmt,
            formatOptions: [.withInternetDateTime, .withFractionalSeconds])
    }
}
