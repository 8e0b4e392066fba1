import Foundation
import StatehouseModel

/// The pretty replay format: one line per operation, as the original Statehouse documents it with a stability
/// promise (docs/api.md, "The pretty format"), printed by `replay`, `tail` and `inspect`. The Python SDK's
/// `replay_pretty()` is a second, independent implementation of the same rules; a test feeds both the same log and
/// compares every line (python/tests/test_pretty_agreement.py).
///
/// ```
/// 12:31:04Z  agent=research-1  WRITE  key=context               v=3  {"topic":"distributed db"}
/// 12:31:06Z  agent=research-1  TOOL   key=tool/search           v=4  {"query":"raft vs paxos"}
/// 12:35:35Z  agent=research-2  DEL    key=draft                 v=5  reason="superseded"
/// ```
///
/// The time is the commit's wall-clock time (UTC). Lengths count Unicode scalars, as Python's `len` does.
enum PrettyFormat {
    static let maxKeyLength = 48
    static let keyColumn = 20
    static let maxAgentLength = 20
    static let maxSummaryLength = 120
    /// What a put whose value the retention policy removed shows instead of its value.
    static let removedValue = "(value removed by retention)"
    /// Objects and arrays whose compact JSON is shorter than this are shown whole.
    static let compactLimit = 80
    static let ellipsis = "..."

    /// `HH:MM:SSZ` of a commit time.
    static func time(_ micros: Microseconds) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let day = Int(((seconds % 86_400) + 86_400) % 86_400)
        return String(format: "%02d:%02d:%02dZ", day / 3600, day / 60 % 60, day % 60)
    }

    /// The OP column: `DEL` for a delete; for a write, by key prefix `TOOL`, `NOTE` or `FINAL`, else `WRITE`.
    static func label(_ kind: WriteOperation.Kind, key: String) -> String {
        if kind == .delete { return "DEL" }
        if key.hasPrefix("tool/") { return "TOOL" }
        if key.hasPrefix("note/") || key.hasPrefix("annotation/") { return "NOTE" }
        if key.hasPrefix("final/") || key.hasPrefix("answer/") { return "FINAL" }
        return "WRITE"
    }

    // ---- text ----

    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// The first `count` Unicode scalars of `text`.
    static func prefix(_ text: String, _ count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(max(0, count)))
        return String(scalars)
    }

    /// `text` cut to at most `maxLength` scalars, the last three `...` when cut.
    static func cut(_ text: String, _ maxLength: Int) -> String {
        guard self.length(text) > maxLength else { return text }
        guard maxLength > self.ellipsis.count else { return self.prefix(text, maxLength) }
        return self.prefix(text, maxLength - self.ellipsis.count) + self.ellipsis
    }

    /// One scalar as it shows on one line: quotes, backslashes, newlines and tabs escaped, and every scalar that is not
    /// printable (controls, format characters, separators other than the space, unassigned and private-use code
    /// points) as `\uXXXX` / `\UXXXXXXXX`.
    static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case " ": return " "
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
            .spaceSeparator:
            let hex = String(scalar.value, radix: 16)
            return scalar.value <= 0xFFFF
                ? "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                : "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
        default:
            return String(scalar)
        }
    }

    static func escaped(_ text: String) -> String {
        text.unicodeScalars.map { self.escaped($0) }.joined()
    }

    /// `"text"`, escaped, at most `maxLength` scalars with the quotes: a longer one is cut (never inside an escape)
    /// and closed with `..."`.
    static func quoted(_ text: String, _ maxLength: Int) -> String {
        let whole = self.escaped(text)
        if self.length(whole) + 2 <= maxLength { return "\"" + whole + "\"" }
        let budget = maxLength - 2 - self.ellipsis.count
        var pieces = ""
        var used = 0
        for scalar in text.unicodeScalars {
            let piece = self.escaped(scalar)
            if used + self.length(piece) > budget { break }
            pieces += piece
            used += self.length(piece)
        }
        return "\"" + pieces + self.ellipsis + "\""
    }

    /// A key, escaped and cut to `maxLength`; a path keeps its first and last parts (`first/.../last`) when that fits.
    static func key(_ key: String, maxLength: Int = maxKeyLength) -> String {
        let text = self.escaped(key)
        guard self.length(text) > maxLength else { return text }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 3, !parts[0].isEmpty, !parts[parts.count - 1].isEmpty {
            let shortened = "\(parts[0])/\(self.ellipsis)/\(parts[parts.count - 1])"
            if self.length(shortened) <= maxLength { return shortened }
        }
        return self.cut(text, maxLength)
    }

    static func agent(_ agentID: String) -> String { self.cut(self.escaped(agentID), self.maxAgentLength) }

    // ---- summaries ----

    /// The summary of a scalar (nil for an object or array).
    static func scalar(_ value: JSONTree, _ maxLength: Int) -> String? {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let text): return self.cut(JSONTree.pythonNumber(text), maxLength)
        case .string(let text): return self.quoted(text, maxLength)
        case .array, .object: return nil
        }
    }

    /// A short preview of an array element: a scalar (strings cut at 24), `{...}` or `[...]`.
    static func element(_ value: JSONTree) -> String {
        if let scalar = self.scalar(value, 24) { return scalar }
        switch value {
        case .object(let members): return members.isEmpty ? "{}" : "{...}"
        case .array(let items): return items.isEmpty ? "[]" : "[...]"
        default: return ""
        }
    }

    /// A value as a short summary: scalars as they are, strings quoted and cut, objects and arrays as compact JSON
    /// when that is shorter than 80, else `{k1:..., k2:..., n_fields=N}` (the first keys that fit, at most three) and
    /// `[a, b, ...] len=N`.
    static func summary(_ value: JSONTree, maxLength: Int = maxSummaryLength) -> String {
        if let scalar = self.scalar(value, maxLength) { return scalar }
        if let compact = value.finiteCompact, self.length(compact) < self.compactLimit,
            self.length(compact) <= maxLength
        {
            return compact
        }
        switch value {
        case .object(let members):
            let tail = "n_fields=\(members.count)}"
            var fields: [String] = []
            for (name, _) in members.prefix(3) {
                let field = self.key(name, maxLength: 24) + ":" + self.ellipsis
                if self.length("{" + (fields + [field, tail]).joined(separator: ", ")) > maxLength { break }
                fields.append(field)
            }
            return "{" + (fields + [tail]).joined(separator: ", ")
        case .array(let items):
            var shown = items.prefix(2).map(self.element)
            while true {
                let more = items.count > shown.count ? [self.ellipsis] : []
                let text = "[" + (shown + more).joined(separator: ", ") + "] len=\(items.count)"
                if self.length(text) <= maxLength || shown.isEmpty { return text }
                shown.removeLast()
            }
        default:
            return ""
        }
    }

    // ---- lines ----

    /// The lines of one event: one per operation; with `verbose` a header and a `payload:` line per operation.
    static func lines(_ event: Event, verbose: Bool, style: Style) -> [String] {
        var lines: [String] = []
        for operation in event.operations {
            let label = self.label(operation.kind, key: operation.key)
            var fields = [self.time(event.committedAt)]
            if event.namespace != "default" { fields.append("ns=\(self.escaped(event.namespace))") }
            fields.append("agent=\(self.agent(operation.agentID))")
            fields.append(style.operation(label.padding(toLength: max(5, label.count), withPad: " ", startingAt: 0)))
            let key = self.key(operation.key)
            let reason =
                operation.kind == .delete
                ? event.metadata.reason.map { "reason=" + self.quoted($0, self.maxSummaryLength) } : nil
            if verbose {
                fields.append("key=\(style.key(key))")
                fields.append("v=\(style.version("\(operation.version)"))")
                fields.append("txn=\(self.prefix(self.escaped(event.txnID), 12))")
                fields.append("event=\(style.commitTS("\(event.commitTS)"))")
                if let reason { fields.append(reason) }
                let payload =
                    operation.valueRemoved
                    ? Self.removedValue : operation.value.map { JSONTree(parsing: $0.text).compact } ?? "null"
                lines.append(fields.joined(separator: "  "))
                lines.append("  payload: " + payload)
            } else {
                let padding = String(repeating: " ", count: max(0, self.keyColumn - self.length(key)))
                fields.append("key=" + style.key(key + padding))
                fields.append("v=\(style.version("\(operation.version)"))")
                if operation.kind == .delete {
                    fields.append(reason ?? "tombstone")
                } else if operation.valueRemoved {
                    fields.append(Self.removedValue)
                } else {
                    fields.append(self.summary(JSONTree(parsing: operation.value?.text ?? "null")))
                }
                lines.append(fields.joined(separator: "  "))
            }
        }
        return lines
    }
}

extension JSONTree {
    /// The compact serialisation, or nil when a number in it is beyond the double range (Python's json refuses to
    /// write "Infinity" without allow_nan, and the summary then describes the value instead).
    var finiteCompact: String? { self.hasNonFiniteNumber ? nil : self.compact }

    var hasNonFiniteNumber: Bool {
        switch self {
        case .number(let text): return JSONTree.pythonNumber(text).hasSuffix("Infinity")
        case .array(let items): return items.contains { $0.hasNonFiniteNumber }
        case .object(let members): return members.contains { $0.1.hasNonFiniteNumber }
        case .null, .bool, .string: return false
        }
    }
}
