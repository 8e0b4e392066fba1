import Foundation
import StatehouseModel

/// Output and argument parsing of the lifecycle commands (agents, snapshots, restore, fork, diff).
enum LifecycleRender {
    static func agentTable(_ agents: [AgentRecord], style: Style) -> String {
        Render.table(
            ["AGENT", "NAME", "STATUS", "KEYS", "VERSIONS", "UPDATED"],
            agents.map {
                [
                    $0.agentID, $0.displayName ?? "-", $0.deleted ? "\($0.status) (deleted)" : $0.status,
                    "\($0.keyCount)", "\($0.versionCount)", Render.time($0.updatedAt),
                ]
            },
            styles: [style.bold, nil, nil, style.version, style.version, nil])
    }

    static func snapshotTable(_ snapshots: [SnapshotRecord], style: Style) -> String {
        Render.table(
            ["SNAPSHOT", "AGENT", "COMMIT_TS", "CREATED", "EXPIRES", "DESCRIPTION"],
            snapshots.map {
                [
                    $0.name, $0.agentID ?? "(namespace)", "\($0.commitTS)", Render.time($0.createdAt),
                    $0.expiresAt.map { Render.time($0) } ?? "never", $0.description,
                ]
            },
            styles: [style.bold, nil, style.commitTS, nil, nil, nil])
    }

    static func copySummary(_ result: StateCopyResult, what: String, style: Style) -> String {
        guard result.puts + result.deletes > 0 else {
            return
                "\(what): nothing differed; no commit (head commit_ts \(style.commitTS("\(result.commit.commitTS)")))"
        }
        return "\(what): \(result.puts) put(s), \(result.deletes) delete(s) at commit_ts "
            + style.commitTS("\(result.commit.commitTS)")
    }

    /// A readable diff: `+ key value` added, `- key value` removed, `~ key` changed with its patch operations.
    static func diffText(_ diff: StateDiff, style: Style) -> String {
        var lines = [
            style.dim(
                "agent '\(diff.agentID)': commit_ts \(diff.fromCommitTS) -> \(diff.toCommitTS), "
                    + "\(diff.differences.count) key(s) differ")
        ]
        for difference in diff.differences {
            switch difference.change {
            case .added:
                lines.append(style.good("+ \(difference.key) \(difference.after?.value?.text ?? "")"))
            case .removed:
                lines.append(style.error("- \(difference.key) \(difference.before?.value?.text ?? "")"))
            case .changed:
                lines.append(style.version("~ \(difference.key)"))
                if case .array(let operations) = JSONTree(parsing: difference.patch?.text ?? "[]") {
                    lines += operations.map { "    " + $0.compact }
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One line per event: time, agent, type, session and actor when set, then the content.
    static func eventLines(_ events: [AgentEvent], style: Style) -> String {
        events.map { event in
            var line =
                style.dim(Render.time(event.occurredAt)) + "  " + style.bold(event.agentID) + "  "
                + style.key(event.type)
            if let session = event.sessionID { line += "  session=\(session)" }
            if let actor = event.actor { line += "  actor=\(actor)" }
            return line + "  " + event.content.text
        }.joined(separator: "\n")
    }

    static func sessionTable(_ sessions: [AgentSession]) -> String {
        Render.table(
            ["SESSION", "AGENT", "STATUS", "STARTED", "ENDED"],
            sessions.map {
                [$0.id, $0.agentID, $0.status, Render.time($0.startedAt), $0.endedAt.map { Render.time($0) } ?? "-"]
            })
    }

    static func taskTable(_ tasks: [AgentTask]) -> String {
        Render.table(
            ["TASK", "STATUS", "ASSIGNED", "UPDATED", "TITLE"],
            tasks.map { [$0.id, $0.status, $0.assignedTo ?? "-", Render.time($0.updatedAt), $0.title] })
    }

    /// `kind  where  snippet`, the matched words in bold on a terminal (« » otherwise).
    static func hitLine(_ hit: SearchHit, style: Style) -> String {
        let place: String
        switch hit.kind {
        case .state: place = "\(hit.agentID ?? "")/\(hit.key ?? "") v\(hit.version ?? 0)"
        case .event: place = "\(hit.agentID ?? "") \(hit.type ?? "") \(hit.eventID ?? "")"
        case .commit: place = "commit \(hit.commitTS)" + (hit.actor.map { " by \($0)" } ?? "")
        }
        var snippet = hit.snippet.replacingOccurrences(of: "\n", with: " ")
        if style.enabled {
            snippet = snippet.replacingOccurrences(of: "«", with: "\u{1B}[1m").replacingOccurrences(
                of: "»", with: "\u{1B}[0m")
        }
        return style.dim(hit.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)) + " "
            + style.key(place) + "  " + snippet
    }

    /// A point argument: `latest`, a commit_ts, an RFC 3339 time, `snapshot:NAME` or a snapshot name.
    static func point(_ text: String) throws -> StatePoint {
        if text == "latest" { return .latest }
        if text.hasPrefix("snapshot:") { return .snapshot(String(text.dropFirst("snapshot:".count))) }
        if let commitTS = UInt64(text) { return .commit(commitTS) }
        if let time = try? TimeArgument.micros(text) { return .time(time) }
        guard !text.isEmpty else { throw UsageError("a point must not be empty") }
        return .snapshot(text)
    }

    /// A duration argument: seconds, or a number followed by s, m, h or d; in microseconds.
    static func duration(_ text: String) throws -> Microseconds {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let seconds = units[last] {
            number = text.dropLast()
            unit = seconds
        }
        guard let count = Int64(number), count > 0, count <= Int64.max / 1_000_000 / unit else {
            throw UsageError("'\(text)' is not a duration (for example 90, 30m, 12h or 7d)")
        }
        return count * unit * 1_000_000
    }

    static func json(_ text: String) throws -> JSONValue {
        do {
            return try JSONValue(validating: text)
        } catch let error as StatehouseError {
            throw UsageError("\(error)")
        }
    }
}
