import AsyncAlgorithms
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StatehouseAccess
import StatehouseCore
import StatehouseModel

/// Commits and the log: one-shot commits, the events (StateLedger's records) by page or by commit_ts, a timeline
/// newest first, replay as NDJSON and watch as Server-Sent Events.
extension HTTPAPI {
    static let lastEventIDHeader = HTTPField.Name("Last-Event-ID")!

    /// The log filter's query parameters.
    static let logFilterQuery = ["from", "to", "since", "until", "agent_id", "key_prefix"]

    var logRoutes: [HTTPRoute] {
        [
            HTTPRoute(
                method: .post, path: "/v1/namespaces/{namespace}/commits", operationID: "commit",
                summary:
                    "One atomic commit: puts and deletes, conditions on key versions, an idempotency key and metadata. "
                    + "All or nothing: a failed condition is 409 and changes nothing.",
                body: .schema("CommitRequest"),
                answers: [
                    .init(status: 200, description: "Committed.", content: .schema("CommitResult")),
                    .init(
                        status: 409, description: "A condition failed; nothing was written.",
                        content: .schema("Problem")),
                    .init(
                        status: 413, description: "The body is over the transaction size limit.",
                        content: .schema("Problem")),
                ]
            ) { request, _, input in
                try Self.requireJSON(request)
                let bytes = try await Self.body(
                    request, limit: self.limits.maxTransactionBytes + (1 << 20), what: "a commit")
                let commit = try HTTPCommitBody.parse(
                    bytes, namespace: try input.path("namespace"), limits: self.limits)
                return try await self.commitResponse(commit, conditional: false, status: .ok)
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/commits", operationID: "listCommits",
                summary:
                    "Committed events in commit_ts order (StateLedger's records list), filtered by commit_ts or time "
                    + "range, agent and key prefix.",
                query: Self.logFilterQuery + ["limit", "cursor"],
                answers: [.init(status: 200, description: "A page of events.", content: .schema("EventPage"))]
            ) { _, _, input in
                let page = try await self.engine.readLog(
                    try self.logFilter(input), limit: try input.limit(default: 100, maximum: self.limits.maxPageSize),
                    cursor: try input.nonEmpty("cursor"))
                return HTTPResponses.page(page) { ModelJSON.event($0) }
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/commits/{commit_ts}", operationID: "getCommit",
                summary: "One event by its commit_ts (StateLedger's record by id).",
                answers: [
                    .init(status: 200, description: "The event.", content: .schema("Event")),
                    .init(status: 404, description: "No commit with this commit_ts.", content: .schema("Problem")),
                ]
            ) { _, _, input in
                let namespace = try input.path("namespace")
                let text = try input.path("commit_ts")
                guard let commitTS = UInt64(text), commitTS >= 1 else {
                    throw HTTPProblem.badRequest("commit_ts must be a positive integer, got '\(text)'")
                }
                let page = try await self.engine.readLog(
                    LogFilter(namespace: namespace, fromCommitTS: commitTS, toCommitTS: commitTS), limit: 1)
                guard let event = page.items.first else {
                    throw StatehouseError.notFound("namespace '\(namespace)' has no commit \(commitTS)")
                }
                return HTTPResponses.json(ModelJSON.event(event))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/timeline", operationID: "timeline",
                summary:
                    "The newest events first (of one agent or key prefix if given), a page at a time: pass next_before "
                    + "as before for older ones.",
                query: ["agent_id", "key_prefix", "before", "limit"],
                answers: [.init(status: 200, description: "Events, newest first.", content: .schema("Timeline"))]
            ) { _, _, input in
                let filter = LogFilter(
                    namespace: try input.path("namespace"), agentID: try input.nonEmpty("agent_id"),
                    keyPrefix: try input.nonEmpty("key_prefix"))
                let (events, nextBefore) = try await self.engine.readLogBackward(
                    filter, before: try input.uint64("before"),
                    limit: try input.limit(default: 50, maximum: self.limits.maxPageSize))
                return HTTPResponses.json(
                    .object([
                        ("items", .array(events.map { ModelJSON.event($0) })),
                        ("next_before", nextBefore.map { .int($0) } ?? .null),
                    ]))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/replay", operationID: "replay",
                summary:
                    "The log as NDJSON, one event per line, streamed with flat memory; an error after the first byte "
                    + "ends the stream with a line {\"error\": problem}.",
                query: Self.logFilterQuery,
                answers: [
                    .init(
                        status: 200, description: "Events.",
                        content: .media("application/x-ndjson", description: "One Event per line"))
                ]
            ) { _, _, input in
                try await self.replay(input)
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/watch", operationID: "watch",
                summary:
                    "Follows the log as Server-Sent Events (id: commit_ts, event: commit, data: the event). A client "
                    + "that reconnects with Last-Event-ID resumes after that commit, without gap or duplicate.",
                query: ["from", "agent_id"], headers: ["Last-Event-ID"],
                answers: [
                    .init(
                        status: 200, description: "The stream.",
                        content: .media("text/event-stream", description: "Events as SSE"))
                ]
            ) { request, context, input in
                try await self.watch(request, context, input)
            },
        ]
    }

    func logFilter(_ input: HTTPInput) throws -> LogFilter {
        LogFilter(
            namespace: try input.path("namespace"), agentID: try input.nonEmpty("agent_id"),
            keyPrefix: try input.nonEmpty("key_prefix"), fromCommitTS: try input.uint64("from"),
            toCommitTS: try input.uint64("to"), since: try input.time("since"), until: try input.time("until"))
    }

    /// NDJSON: the first page is read before the response starts, so that a bad filter is a 4xx; later pages stream.
    private func replay(_ input: HTTPInput) async throws -> Response {
        let filter = try self.logFilter(input)
        let first = try await self.engine.readLog(filter, limit: 1000)
        let engine = self.engine
        let body = ResponseBody { writer in
            var page = first
            while true {
                var buffer = ByteBuffer()
                buffer.reserveCapacity(page.items.count * 384)
                for event in page.items {
                    buffer.writeString(ModelJSON.event(event).text)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                }
                try await writer.write(buffer)
                guard let cursor = page.nextCursor else { break }
                do {
                    page = try await engine.readLog(filter, limit: 1000, cursor: cursor)
                } catch let error as StatehouseError {
                    try await writer.write(ByteBuffer(string: "{\"error\":\(HTTPProblem(error).json.text)}\n"))
                    break
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    /// Server-Sent Events from a watch subscription. `Last-Event-ID: N` (sent by a reconnecting EventSource) resumes
    /// at N + 1 and wins over `from`. The subscription ends when the client disconnects (the channel closes), when
    /// the daemon shuts down, or when the client falls too far behind: then a `problem` event (not `error`, which an
    /// EventSource also fires for a lost connection) carries the problem, with `resume_from` for a slow client. While
    /// no event comes, a `: keep-alive` comment goes out every ``sseKeepAlive``.
    private func watch(_ request: Request, _ context: HTTPRequestContext, _ input: HTTPInput) async throws -> Response {
        let namespace = try input.path("namespace")
        var from = try input.uint64("from")
        if let lastEventID = request.headers[Self.lastEventIDHeader] {
            guard let last = UInt64(lastEventID) else {
                throw HTTPProblem.badRequest("Last-Event-ID must be a commit_ts (an integer), got '\(lastEventID)'")
            }
            from = last + 1
        }
        // Fail fast when the caller is at its open-watch quota (the body takes the slot for its length).
        try await self.access.quotas.withWatchSlot(namespace: namespace) {}
        let subscription = try await self.engine.watch(
            namespace: namespace, agentID: try input.nonEmpty("agent_id"), from: from)
        let access = self.access
        let canceller = subscription.canceller
        context.channel.closeFuture.whenComplete { _ in canceller.cancel() }
        let logger = self.logger
        let keepAlive = self.sseKeepAlive
        let box = SubscriptionBox(subscription: subscription)
        logger.info(
            "HTTP watch started", metadata: ["namespace": "\(namespace)", "watch.from": "\(subscription.nextCommitTS)"])
        let body = ResponseBody { writer in
            defer {
                logger.info(
                    "HTTP watch ended",
                    metadata: ["namespace": "\(namespace)", "watch.next": "\(box.subscription.nextCommitTS)"])
            }
            // Tell EventSource to reconnect after one second, and flush the headers now.
            try await writer.write(
                ByteBuffer(string: "retry: 1000\n: watching from \(box.subscription.nextCommitTS)\n\n"))
            // One task takes events from the subscription (its only consumer), another ticks; this one writes both
            // in order. The channel hands over one item at a time, so a slow client still slows the subscription
            // down until it falls behind, as without the ticks.
            let outputs = AsyncChannel<WatchOutput>()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { outputs.finish() }
                    do {
                        // Holds a watch slot of the caller; ends when its token is revoked or expires.
                        try await access.quotas.withWatchSlot(namespace: namespace) {
                            try await access.whileValid(onInvalid: { canceller.cancel() }) {
                                while let events = try await box.subscription.nextBatch() {
                                    await outputs.send(.events(events))
                                }
                            }
                        }
                    } catch let error as StatehouseError {
                        await outputs.send(.failed(error))
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: keepAlive)
                        await outputs.send(.keepAlive)
                    }
                }
                loop: for await output in outputs {
                    switch output {
                    case .events(let events):
                        var buffer = ByteBuffer()
                        for event in events {
                            buffer.writeString("id: \(event.commitTS)\nevent: commit\ndata: ")
                            buffer.writeString(ModelJSON.event(event).text)
                            buffer.writeString("\n\n")
                        }
                        try await writer.write(buffer)
                    case .keepAlive:
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    case .failed(let error):
                        try await writer.write(
                            ByteBuffer(string: "event: problem\ndata: \(HTTPProblem(error).json.text)\n\n"))
                        break loop
                    }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// What a watch's response writes next.
private enum WatchOutput: Sendable {
    case events([Event])
    /// A comment line while no event comes, so that proxies do not close an idle stream and a vanished client is
    /// noticed by the failed write.
    case keepAlive
    case failed(StatehouseError)
}

/// Hands a watch subscription to the task that writes the response body, its only consumer from then on.
private struct SubscriptionBox: @unchecked Sendable {
    let subscription: WatchSubscription
}
