import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseModel

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise an agent: its keys, how many commits touched it, and its recent activity.",
        discussion: "The original CLI's `inspect AGENT`; reads the agent's whole log once to count its events."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id.") var agent: String
    @Option(help: "How many recent events to show.") var recent = 5

    func validate() throws {
        guard self.recent >= 0 else { throw ValidationError("--recent must be 0 or more") }
    }

    func run() async throws {
        let namespace = self.global.namespaceName
        let format = try self.global.format
        let style = self.global.style
        let (host, port) = try self.global.endpoint()
        let recentCount = self.recent
        let (keys, events, recent) = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let keys = try await allPages {
                try await client.listKeys(namespace: namespace, agentID: self.agent, cursor: $0)
            }
            let (events, recent) = try await client.replay(LogFilter(namespace: namespace, agentID: self.agent)) {
                events in
                var count = 0
                var recent: [Event] = []
                for try await event in events {
                    count += 1
                    recent.append(event)
                    if recent.count > recentCount { recent.removeFirst() }
                }
                return (count, recent)
            }
            return (keys, events, recent)
        }
        if format == .json {
            emit(
                JSONOutput.object([
                    ("namespace", .string(namespace)), ("agent_id", .string(self.agent)), ("keys", .int(keys.count)),
                    ("first_keys", .array(keys.prefix(10).map { .string($0.key) })), ("events", .int(events)),
                    ("last_commit_ts", recent.last.map { .int($0.commitTS) } ?? .null),
                    ("last_committed_at", recent.last.map { ModelJSON.time($0.committedAt) } ?? .null),
                    ("recent", .array(recent.map { ModelJSON.event($0, agentID: self.agent) })),
                ]).text)
            return
        }
        var lines = [
            "", style.bold("=== Agent Inspect: \(self.agent) ==="), "Namespace: \(namespace)", "",
            "Total Keys: \(keys.count)",
        ]
        if !keys.isEmpty {
            lines += ["", "Keys (showing first \(min(10, keys.count))):"]
            lines += keys.prefix(10).map { "  • \(style.key($0.key))  v\($0.version)" }
            if keys.count > 10 { lines.append("  ... and \(keys.count - 10) more") }
        }
        lines += ["", "Total Events: \(events)"]
        if let last = recent.last {
            lines.append(
                "Last commit: commit_ts \(style.commitTS("\(last.commitTS)")) at \(Render.time(last.committedAt))")
            lines += ["", "Recent Activity (last \(recent.count) event\(recent.count == 1 ? "" : "s")):"]
            for event in recent {
                lines += PrettyFormat.lines(event, verbose: false, style: style).map { "  " + $0 }
            }
        }
        emit(lines.joined(separator: "\n") + "\n")
    }
}
