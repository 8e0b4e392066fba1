import Logging
import StatehouseLedger

extension StatehouseEngine {
    /// Reads one page of committed events in commit_ts order.
    ///
    /// - Parameters:
    ///   - inHalves: read a large unfiltered page as two concurrent halves (see ``events(_:inHalves:)``). A caller
    ///     that already reads its next page while it sends this one (Replay) passes `false`: its reads overlap
    ///     anyway, and the second hop would only add CPU.
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for an inverted range, a bad filter or a
    ///   cursor of another query.
    public func readLog(
        _ filter: LogFilter, limit: Int = 1000, cursor: String? = nil, inHalves: Bool = true
    ) async throws -> Page<Event> {
        let limit = try self.validatePageSize(limit)
        let cursorQuery = Self.cursorQuery(filter)
        var range = try await self.resolveRange(filter)
        if let cursor {
            range.lower = max(range.lower, try PageCursor.decodeNumber(cursor, kind: .log, query: cursorQuery))
        }
        guard range.lower <= range.upper else { return Page(items: [], nextCursor: nil) }
        let query = EventQuery(
            namespace: filter.namespace,
            fromCommitTS: range.lower,
            toCommitTS: range.upper,
            agentID: filter.agentID,
            keyPrefix: filter.keyPrefix,
            limit: limit
        )
        let (events, bytes) = try await self.events(query, inHalves: inHalves)
        self.metrics.read(.log)
        self.metrics.replayed(events.count)
        // The backend returns fewer than `limit` events only at the end of the range or at its byte bound.
        guard let last = events.last, last.commitTS < range.upper, events.count == limit || bytes >= query.maxBytes
        else {
            return Page(items: events, nextCursor: nil)
        }
        return Page(
            items: events,
            nextCursor: PageCursor.encodeNumber(kind: .log, query: cursorQuery, position: last.commitTS + 1))
    }

    /// The events of `query`, a large unfiltered page read as two halves at once, and the bytes of their values.
    ///
    /// commit_ts is gap-free, so the second half of an unfiltered page is known before the first is read, and the
    /// two reads run on two of the backend's connections (SQLite's two reader threads by default): a replay, an
    /// export or a page of the HTTP log takes half the time on two cores. The halves are joined only when the first
    /// is complete (`half` events and under the byte bound); otherwise it ended the page (the log's end or the byte
    /// bound) and is returned alone, so a commit that landed between the two reads can never leave a gap. The joined
    /// page keeps the backend's own byte rule: events are added until the values reach `maxBytes`.
    func events(_ query: EventQuery, inHalves: Bool) async throws -> (events: [Event], valueBytes: Int) {
        let half = query.limit / 2
        guard inHalves, query.agentID == nil, query.keyPrefix == nil, half >= Self.splitLogReadMinimum,
            query.fromCommitTS <= query.toCommitTS, query.toCommitTS - query.fromCommitTS >= CommitTS(query.limit - 1)
        else {
            let events = try await self.backend.events(query)
            return (events, events.valueBytes)
        }
        var first = query
        first.limit = half
        first.toCommitTS = query.fromCommitTS + CommitTS(half - 1)
        var second = query
        second.limit = query.limit - half
        second.fromCommitTS = first.toCommitTS + 1
        async let secondEvents = self.backend.events(second)
        var events = try await self.backend.events(first)
        var bytes = events.valueBytes
        // Leaving the scope without awaiting `secondEvents` cancels that read (dropped if it has not started).
        guard events.count == half, bytes < query.maxBytes else { return (events, bytes) }
        let rest = try await secondEvents
        let restBytes = rest.valueBytes
        if bytes + restBytes < query.maxBytes {
            events.append(contentsOf: rest)
            return (events, bytes + restBytes)
        }
        for event in rest {
            events.append(event)
            bytes += event.valueBytes
            if bytes >= query.maxBytes { break }
        }
        return (events, bytes)
    }

    /// The smallest half-page worth a second concurrent read: below it, the extra hop costs more than it saves.
    static let splitLogReadMinimum = 256

    /// Reads the events of `filter` as an async sequence, page by page, ending at the end of the log as it was
    /// when each page was read. Use ``watch(namespace:agentID:from:)`` to follow new events.
    public func log(_ filter: LogFilter, pageSize: Int = 1000) -> LogSequence {
        LogSequence(engine: self, filter: filter, pageSize: pageSize)
    }

    /// Validates a filter and turns its commit_ts and time bounds into one inclusive commit_ts range (empty when
    /// `lower > upper`).
    func resolveRange(_ filter: LogFilter) async throws -> (lower: CommitTS, upper: CommitTS) {
        try self.validateNamespace(filter.namespace)
        if let agentID = filter.agentID { try NameValidation.validateAgentID(agentID, limits: self.limits) }
        if let keyPrefix = filter.keyPrefix { try NameValidation.validatePrefix(keyPrefix, limits: self.limits) }
        var lower = filter.fromCommitTS ?? 1
        var upper = filter.toCommitTS ?? .max
        if let from = filter.fromCommitTS, let to = filter.toCommitTS, from > to {
            throw StatehouseError.invalidArgument("commit_ts range is inverted: from \(from) is after to \(to)")
        }
        if let since = filter.since, let until = filter.until, since > until {
            throw StatehouseError.invalidArgument("time range is inverted: since is after until")
        }
        if let since = filter.since {
            let before =
                since == .min ? 0 : try await self.backend.commitTS(namespace: filter.namespace, atOrBefore: since - 1)
            lower = max(lower, before + 1)
        }
        if let until = filter.until {
            upper = min(upper, try await self.backend.commitTS(namespace: filter.namespace, atOrBefore: until))
        }
        return (max(lower, 1), upper)
    }

    static func cursorQuery(_ filter: LogFilter) -> [String] {
        [
            filter.namespace, filter.agentID ?? "\u{0}", filter.keyPrefix ?? "\u{0}",
            filter.fromCommitTS.map { "\($0)" } ?? "", filter.toCommitTS.map { "\($0)" } ?? "",
            filter.since.map { "\($0)" } ?? "", filter.until.map { "\($0)" } ?? "",
        ]
    }

    /// Follows a namespace's log from `from` (default: the next commit), catching up from storage first.
    ///
    /// - Parameters:
    ///   - agentID: only this agent's operations.
    ///   - from: first commit_ts to deliver; `nil` for only commits after the call.
    /// - Throws: ``StatehouseModel/StatehouseError/resourceExhausted(_:)`` when
    ///   ``StatehouseModel/EngineLimits/maxWatchers`` subscriptions exist.
    public func watch(
        namespace: String = "default", agentID: String? = nil, from: CommitTS? = nil
    ) async throws
        -> WatchSubscription
    {
        try self.validateNamespace(namespace)
        if let agentID { try NameValidation.validateAgentID(agentID, limits: self.limits) }
        let start: CommitTS
        if let from {
            start = from
        } else {
            start = try await self.backend.head(namespace: namespace).commitTS + 1
        }
        return try WatchSubscription(
            namespace: namespace,
            agentID: agentID,
            from: start,
            backend: self.backend,
            hub: self.hub,
            bufferCapacity: self.limits.watchBufferEvents,
            pageSize: 1000
        )
    }

    /// Recomputes the hash chain of a namespace over `from…to` and reports the first commit_ts that does not match.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/notFound(_:)`` for a namespace without commits (a typo would
    ///   otherwise "verify").
    ///
    /// Detects any change to a stored event's content (values, keys, versions, metadata, times, ids), a changed or
    /// reordered link, a missing event, and a head that does not match the last event. From commit_ts 1 it also
    /// checks the stored Merkle tree against leaves recomputed from the events.
    public func verify(
        namespace: String = "default", from: CommitTS = 1, to: CommitTS? = nil
    ) async throws
        -> VerificationReport
    {
        try self.validateNamespace(namespace)
        self.metrics.read(.verify)
        let head = try await self.backend.head(namespace: namespace)
        guard head.commitTS > 0 else {
            // Verifying nothing must not look like a success: a mistyped namespace would pass.
            throw StatehouseError.notFound("namespace '\(namespace)' has no commits: there is nothing to verify")
        }
        let upper = to ?? head.commitTS
        let lower = max(from, 1)
        guard lower <= upper else {
            throw StatehouseError.invalidArgument("commit_ts range is inverted: from \(lower) is after to \(upper)")
        }
        var report = VerificationReport(
            namespace: namespace,
            fromCommitTS: lower,
            toCommitTS: upper,
            eventsChecked: 0,
            head: head,
            firstBadCommitTS: nil,
            reason: nil
        )
        func fail(_ commitTS: CommitTS, _ reason: String) -> VerificationReport {
            report.firstBadCommitTS = commitTS
            report.reason = reason
            self.logger.warning(
                "History does not verify",
                metadata: [
                    "namespace": "\(namespace)", "commit.ts": "\(commitTS)", "reason": "\(reason)",
                ])
            return report
        }
        if upper > head.commitTS {
            return fail(head.commitTS + 1, "the log ends at commit_ts \(head.commitTS)")
        }
        do {
            var previousHash = HashChain.genesisHash
            if lower > 1 {
                let previous = try await self.backend.events(
                    EventQuery(namespace: namespace, fromCommitTS: lower - 1, toCommitTS: lower - 1, limit: 1)
                )
                guard let event = previous.first, event.commitTS == lower - 1 else {
                    return fail(lower - 1, "event is missing")
                }
                previousHash = event.hash
            }
            // From the start of the log the Merkle tree is checked too: every stored node is compared with the one
            // recomputed from the events, so an edited node is named by the commit_ts that completed it.
            var tree = lower == 1 ? MerkleFrontier() : nil
            var next = lower
            while next <= upper {
                let events = try await self.backend.events(
                    EventQuery(namespace: namespace, fromCommitTS: next, toCommitTS: upper, limit: 1000)
                )
                guard !events.isEmpty else { break }
                let pageStart = next
                // An event holding a removed value is checked by its leaf, so the stored nodes are needed then too.
                let hasRemovedValues = events.contains { $0.operations.contains(where: \.valueRemoved) }
                let storedNodes =
                    tree == nil && !hasRemovedValues
                    ? []
                    : try await self.backend.completedTreeNodes(
                        namespace: namespace, from: next, to: events[events.count - 1].commitTS)
                for event in events {
                    guard event.commitTS == next else { return fail(next, "event is missing") }
                    guard event.prevHash == previousHash else {
                        return fail(next, "prev_hash does not match the hash of commit_ts \(next - 1)")
                    }
                    if event.operations.contains(where: \.valueRemoved) {
                        // Retention removed a value this hash covers: the leaf holds each value's digest instead, and
                        // must match the leaf stored in the tree (which the signed heads and proofs commit to).
                        let stored = storedNodes[Int(next - pageStart)].first
                        guard stored == LeafEncoding.leafHash(event) else {
                            return fail(next, "the digests kept for removed values do not match the event's leaf")
                        }
                        report.eventsWithRemovedValues += 1
                    } else {
                        guard HashChain.recompute(event) == event.hash else {
                            return fail(next, "stored content does not match its hash")
                        }
                    }
                    previousHash = event.hash
                    if tree != nil {
                        let computed = tree!.append(leafHash: LeafEncoding.leafHash(event)).map(\.hash)
                        guard storedNodes[Int(next - pageStart)] == computed else {
                            return fail(next, "the Merkle tree nodes stored with the event do not match its content")
                        }
                    }
                    report.eventsChecked += 1
                    next += 1
                }
            }
            if next <= upper { return fail(next, "event is missing") }
            if upper == head.commitTS && previousHash != head.hash {
                return fail(upper, "the namespace head does not match the hash of the last event")
            }
        } catch StatehouseError.dataCorruption(let commitTS, let reason) {
            return fail(commitTS, reason)
        }
        return report
    }
}

/// The events of a ``StatehouseModel/LogFilter`` as an async sequence; see ``StatehouseEngine/log(_:pageSize:)``.
public struct LogSequence: AsyncSequence, Sendable {
    public typealias Element = Event

    let engine: StatehouseEngine
    let filter: LogFilter
    let pageSize: Int

    public func makeAsyncIterator() -> Iterator {
        Iterator(engine: self.engine, filter: self.filter, pageSize: self.pageSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let engine: StatehouseEngine
        let filter: LogFilter
        let pageSize: Int
        var cursor: String?
        var buffer: [Event] = []
        var index = 0
        var exhausted = false

        init(engine: StatehouseEngine, filter: LogFilter, pageSize: Int) {
            self.engine = engine
            self.filter = filter
            self.pageSize = pageSize
        }

        public mutating func next() async throws -> Event? {
            while self.index == self.buffer.count {
                if self.exhausted { return nil }
                let page = try await self.engine.readLog(self.filter, limit: self.pageSize, cursor: self.cursor)
                self.buffer = page.items
                self.index = 0
                self.cursor = page.nextCursor
                self.exhausted = page.nextCursor == nil
            }
            defer { self.index += 1 }
            return self.buffer[self.index]
        }
    }
}

extension StatehouseEngine {
    /// Reads the newest events of a namespace (or of one agent, or one key prefix) before `before`, newest first: a
    /// timeline's pages, which the storage's ascending order cannot give directly.
    ///
    /// It reads windows of commit_ts ranges backwards from `before`, each twice the last (from twice `limit`, up to
    /// 65,536), until it has `limit` events or reaches commit_ts 1; an agent whose commits are a small share of a busy
    /// namespace costs more windows, never more than `limit` events of memory plus one storage page.
    ///
    /// - Parameters:
    ///   - filter: namespace, agent and key prefix; its commit_ts and time bounds must be unset.
    ///   - before: only events with a smaller commit_ts; `nil` for the newest.
    /// - Returns: up to `limit` events, newest first, and the `before` of the next page (`nil` at the start of the log).
    public func readLogBackward(
        _ filter: LogFilter, before: CommitTS? = nil, limit: Int = 100
    ) async throws -> (events: [Event], nextBefore: CommitTS?) {
        guard filter.fromCommitTS == nil, filter.toCommitTS == nil, filter.since == nil, filter.until == nil else {
            throw StatehouseError.invalidArgument("a backward read takes `before`, not commit_ts or time bounds")
        }
        let limit = try self.validatePageSize(limit)
        _ = try await self.resolveRange(filter)  // validates the names
        self.metrics.read(.log)
        let head = try await self.backend.head(namespace: filter.namespace).commitTS
        var upper = min(before.map { $0 == 0 ? 0 : $0 - 1 } ?? head, head)
        var found: [Event] = []
        var window = UInt64(max(64, limit * 2))
        while found.count < limit && upper >= 1 {
            let lower = upper >= window ? upper - window + 1 : 1
            // The newest `needed` events of the window: pages are read oldest first, so keep only the tail.
            let needed = limit - found.count
            var inWindow: [Event] = []
            var from = lower
            while from <= upper {
                let page = try await self.backend.events(
                    EventQuery(
                        namespace: filter.namespace, fromCommitTS: from, toCommitTS: upper, agentID: filter.agentID,
                        keyPrefix: filter.keyPrefix, limit: 1000))
                inWindow += page
                if inWindow.count > needed { inWindow.removeFirst(inWindow.count - needed) }
                guard let last = page.last, last.commitTS < upper else { break }
                from = last.commitTS + 1
            }
            found += inWindow.reversed()
            upper = lower - 1
            window = min(window * 2, 65_536)
        }
        self.metrics.replayed(found.count)
        let nextBefore = found.count == limit ? found.last.map(\.commitTS).flatMap { $0 > 1 ? $0 : nil } : nil
        return (found, nextBefore)
    }
}

extension Event {
    /// The bytes of the values the event carries: what ``EventQuery/maxBytes`` bounds.
    var valueBytes: Int { self.operations.reduce(0) { $0 + ($1.value?.utf8.count ?? 0) } }
}

extension Array where Element == Event {
    var valueBytes: Int { self.reduce(0) { $0 + $1.valueBytes } }
}
