import Foundation
import StatehouseCore

/// The pretty replay format: one line per operation, as the original Statehouse documents it with a stability
/// promise (docs/api.md, "The pretty format"), printed by `replay` and `tail`; the Python SDK's `replay_pretty()`
/// prints the same lines (a test compares the two).
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
    static let maxSummaryLength = 120
    static let maxAgentLength = 20

    /// `HH:MM:SSZ` of a commit time.
    static func time(_ micros: Microseconds) -> String {
        let seconds = Int(micros.dividedRoundingDown(by: 1_000_000))
        let day = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02dZ", day / 3600, day / 60 % 60, day % 60)
    }

    /// The OP column: by key prefix for tool calls, notes and final answers, else by what the operation did.
    static func label(_ kind: WriteOperation.Kind, key: String) -> String {
        if kind == .delete { return "DEL" }
        if key.hasPrefix("tool/") { return "TOOL" }
        if key.hasPrefix("note/") || key.hasPrefix("annotation/") { return "NOTE" }
        if key.hasPrefix("final/") || key.hasPrefix("answer/") { return "FINAL" }
        return "WRITE"
    }

    /// A key cut to 48 characters; a path keeps its first and last parts (`agent/.../final_part`).
    static func key(_ key: String) -> String {
        let scalars = key.unicodeScalars
        guard scalars.count > self.maxKeyLength else { return key }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 2 {
            let first = parts[0].unicodeScalars.count
            let last = parts[parts.count - 1].unicodeScalars.count
            if self.maxKeyLength - first - last - 5 > 0 { return "\(parts[0])/.../\(parts[parts.count - 1])" }
        }
        return self.prefix(key, self.maxKeyLength - 3) + "..."
    }

    static func agent(_ agentID: String) -> String {
        agentID.unicodeScalars.count <= self.maxAgentLength ? agentID : self.prefix(agentID, self.maxAgentLength - 3) + "..."
    }

    /// A value as a short summary: scalars as is, strings quoted and cut, small objects and lists as compact JSON,
    /// big ones as `{a:..., b:..., n_fields=N}` and `[x, y, ...] len=N`.
    static func summary(_ value: JSONTree, maxLength: Int = maxSummaryLength) -> String {
        switch value {
        case .null, .bool, .number:
            return value.compact
        case .string(let text):
            let escaped = text.replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r")
                .replacingOccurrences(of: "\t", with: "\\t")
            if escaped.unicodeScalars.count <= maxLength { return "\"\(escaped)\"" }
            return "\"" + self.prefix(escaped, maxLength - 6) + "...\""
        case .array(let items):
            if items.isEmpty { return "[]" }
            let compact = value.compact
            if compact.unicodeScalars.count <= maxLength { return compact }
            let preview = items.prefix(2).map { self.summary($0, maxLength: 30) }.joined(separator: ", ")
            return items.count <= 2 ? "[\(preview)]" : "[\(preview), ...] len=\(items.count)"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let compact = value.compact
            if compact.unicodeScalars.count <= maxLength { return compact }
            let preview = members.prefix(2).map { "\($0.0):..." }.joined(separator: ", ")
            return members.count <= 2 ? "{\(preview)}" : "{\(preview), n_fields=\(members.count)}"
        }
    }

    /// The lines of one event: one per operation, and with `verbose` a `payload:` line under each write.
    static func lines(_ event: Event, verbose: Bool, style: Style) -> [String] {
        let time = self.time(event.committedAt)
        var lines: [String] = []
        for operation in event.operations {
            let label = self.label(operation.kind, key: operation.key)
            let paddedLabel = label.padding(toLength: max(5, label.count), withPad: " ", startingAt: 0)
            let key = self.key(operation.key)
            var head = "\(time)  "
            if event.namespace != "default" { head += "ns=\(event.namespace)  " }
            head += "agent=\(self.agent(operation.agentID))  \(style.operation(paddedLabel))  "
            if verbose {
                let txn = String(event.txnID.prefix(12))
                lines.append(
                    head + "key=\(style.key(key))  v=\(style.version("\(operation.version)"))  txn=\(txn)  "
                        + "event=\(style.commitTS("\(event.commitTS)"))"
                )
                if let value = operation.value {
                    lines.append("  payload: " + JSONTree(parsing: value.text).compact)
                }
                continue
            }
            let paddedKey = key.unicodeScalars.count >= 20 ? key : key + String(repeating: " ", count: 20 - key.unicodeScalars.count)
            var line = head + "key=\(style.key(paddedKey))  v=\(style.version("\(operation.version)"))"
            if let value = operation.value {
                line += "  " + self.summary(JSONTree(parsing: value.text))
            } else if let reason = event.metadata.reason {
                line += "  reason=" + self.summary(.string(reason))
            }
            lines.append(line)
        }
        return lines
    }

    /// The first `count` Unicode scalars of `text`.
    static func prefix(_ text: String, _ count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(max(0, count)))
        return String(scalars)
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (times before 1970 keep their time of day).
    fileprivate func dividedRoundingDown(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
