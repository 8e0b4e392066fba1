import Foundation
import MCP
import StatehouseClient
import StatehouseModel

/// The resources: an agent's current state and its recent timeline, as JSON.
///
/// URIs are `statehouse://agents/AGENT/state` and `statehouse://agents/AGENT/timeline`, with AGENT percent-encoded
/// (RFC 3986 unreserved characters kept).
enum MCPResources {
    static let stateTemplate = "statehouse://agents/{agent_id}/state"
    static let timelineTemplate = "statehouse://agents/{agent_id}/timeline"
    /// Keys of the state resource, and events of the timeline resource, at most.
    static let stateKeys = 1000
    static let timelineEvents = 50

    static let templates = [
        Resource.Template(
            uriTemplate: stateTemplate, name: "agent-state", title: "An agent's memory",
            description: "Every key of the agent with its current value and version, as one JSON object.",
            mimeType: "application/json"),
        Resource.Template(
            uriTemplate: timelineTemplate, name: "agent-timeline", title: "An agent's recent timeline",
            description: "The agent's last \(timelineEvents) commits: when, by whom, why, and what they wrote.",
            mimeType: "application/json"),
    ]

    static func uri(agentID: String, _ kind: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = agentID.addingPercentEncoding(withAllowedCharacters: allowed) ?? agentID
        return "statehouse://agents/\(encoded)/\(kind)"
    }

    /// Two resources per agent, a page of agents at a time.
    static func list(
        client: StatehouseClient, namespace: String, cursor: String?
    ) async throws
        -> ListResources.Result
    {
        let page = try await client.listAgents(namespace: namespace, limit: 100, cursor: cursor)
        let resources = page.items.flatMap { agentID in
            [
                Resource(
                    name: "\(agentID) state", uri: Self.uri(agentID: agentID, "state"),
                    description: "The memory of agent \(agentID).", mimeType: "application/json"),
                Resource(
                    name: "\(agentID) timeline", uri: Self.uri(agentID: agentID, "timeline"),
                    description: "The recent commits of agent \(agentID).", mimeType: "application/json"),
            ]
        }
        return ListResources.Result(resources: resources, nextCursor: page.nextCursor)
    }

    static func read(uri: String, client: StatehouseClient, namespace: String) async throws -> ReadResource.Result {
        let prefix = "statehouse://agents/"
        guard uri.hasPrefix(prefix) else { throw MCPError.invalidParams("unknown resource \(uri)") }
        let rest = uri.dropFirst(prefix.count)
        guard let slash = rest.lastIndex(of: "/"),
            let agentID = String(rest[..<slash]).removingPercentEncoding, !agentID.isEmpty
        else { throw MCPError.invalidParams("unknown resource \(uri)") }
        let body: JSONText
        do {
            switch rest[rest.index(after: slash)...] {
            case "state": body = try await Self.state(agentID: agentID, client: client, namespace: namespace)
            case "timeline": body = try await Self.timeline(agentID: agentID, client: client, namespace: namespace)
            default: throw MCPError.invalidParams("unknown resource \(uri) (an agent has /state and /timeline)")
            }
        } catch let error as StatehouseError {
            throw MCPError.invalidParams("\(uri): \(error)")
        }
        return ReadResource.Result(contents: [.text(body.text, uri: uri, mimeType: "application/json")])
    }

    static func state(agentID: String, client: StatehouseClient, namespace: String) async throws -> JSONText {
        let head = try await client.head(namespace: namespace)
        // Read as of one commit, so that the keys of the object are one consistent state.
        let page = try await client.scan(
            namespace: namespace, agentID: agentID, at: head.commitTS > 0 ? .commit(head.commitTS) : .latest,
            limit: Self.stateKeys)
        return .object([
            "agent_id": .string(agentID), "commit_ts": .number(head.commitTS),
            "keys": .object(
                page.items.map { record in
                    (record.key, JSONText.object(["value": .value(record.value), "version": .number(record.version)]))
                }),
            "truncated": .bool(page.nextCursor != nil),
        ])
    }

    static func timeline(agentID: String, client: StatehouseClient, namespace: String) async throws -> JSONText {
        let head = try await client.head(namespace: namespace)
        // The last commits of the agent: read backwards in windows of the log until enough are found.
        var events: [Event] = []
        var upper = head.commitTS
        var window: CommitTS = 256
        while upper > 0, events.count < Self.timelineEvents {
            let lower = upper > window ? upper - window + 1 : 1
            var found: [Event] = []
            var cursor: String?
            repeat {
                let page = try await client.readLog(
                    LogFilter(namespace: namespace, agentID: agentID, fromCommitTS: lower, toCommitTS: upper),
                    limit: 1000, cursor: cursor)
                found += page.items
                cursor = page.nextCursor
            } while cursor != nil
            events = found + events
            upper = lower - 1
            window = min(window * 4, 1 << 20)
        }
        let recent = events.suffix(Self.timelineEvents)
        return .object([
            "agent_id": .string(agentID), "head_commit_ts": .number(head.commitTS),
            "events": .array(recent.reversed().map(MCPToolCatalog.event)),
        ])
    }
}
