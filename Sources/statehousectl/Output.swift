import Foundation
import StatehouseModel

enum Render {
    static func time(_ micros: Microseconds) -> String {
        micros > 0 ? RFC3339.text(micros) : "-"
    }

    /// Aligned columns for text output; `styles` colour the cells of each column (not the header) after padding.
    static func table(_ header: [String], _ rows: [[String]], styles: [((String) -> String)?] = []) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return all.enumerated().map { rowIndex, row in
            row.enumerated().map { index, cell in
                let padded =
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                guard rowIndex > 0, index < styles.count, let style = styles[index] else { return padded }
                return style(padded)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Parses RFC 3339 times for `--as-of`, `--since` and `--until`.
enum TimeArgument {
    static func micros(_ text: String) throws -> Microseconds {
        if let micros = RFC3339.micros(text) { return micros }
        throw UsageError("'\(text)' is not an RFC 3339 time (for example 2026-11-22T10:00:00Z)")
    }
}

/// A usage problem found after parsing (exit code 2).
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Follows a listing's cursors to the end.
func allPages<Item>(_ read: (String?) async throws -> Page<Item>) async throws -> [Item] {
    var items: [Item] = []
    var cursor: String?
    repeat {
        let page = try await read(cursor)
        items += page.items
        cursor = page.nextCursor
    } while cursor != nil
    return items
}
