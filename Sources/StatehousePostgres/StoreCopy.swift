public import StatehouseCore
import StatehouseLedger
public import StatehouseModel

/// Copies every namespace's log from one store into a PostgreSQL store (`statehousectl migrate`), checking the chain
/// as it reads and the result after.
///
/// A namespace keeps its name, so every event keeps its commit_ts, transaction id, time and hashes: the copy is the
/// same log, and every proof and signed head made before still holds. The target's rows (versions, the tree, the
/// search and event indexes) are written by the same path a commit takes (``PostgresBackend/append(_:tree:after:)``), so
/// the target cannot be told from a store that was committed to directly. What the events do not carry is not copied:
/// the idempotency keys of past one-shot commits (a retry of such a commit after the migration is applied again) and
/// artifacts, which are files beside the SQLite store.
///
/// Copying again resumes: a namespace whose target log is a prefix of the source's goes on from its end; one whose
/// target log differs is refused, and nothing of it is written.
public struct StoreCopy: Sendable {
    /// One namespace copied and checked.
    public struct Copied: Sendable, Hashable {
        public var head: LogHead
        /// Events written by this run (fewer than the head when an earlier run had copied the rest).
        public var events: Int
        public var rootHash: EventHash
    }

    let source: any StorageBackend
    let target: PostgresBackend
    /// Events per storage transaction of the target.
    let batchEvents: Int

    public init(from source: any StorageBackend, to target: PostgresBackend, batchEvents: Int = 2_000) {
        self.source = source
        self.target = target
        self.batchEvents = max(1, batchEvents)
    }

    /// Every namespace of the source with at least one commit, in name order.
    public func namespaces() async throws -> [LogHead] {
        var heads: [LogHead] = []
        var after: String?
        while true {  // bounded by the number of namespaces
            let page = try await self.source.namespaces(after: after, limit: 1000)
            heads += page
            guard page.count == 1000, let last = page.last else { return heads }
            after = last.namespace
        }
    }

    /// Copies one namespace up to the source's head as of the call, then checks that both logs end with the same
    /// event and that both trees have the same root. `progress` is called with the events copied so far.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when the source's chain does not
    ///   link or an event does not match its hash; ``StatehouseModel/StatehouseError/failedPrecondition(_:)`` when the
    ///   target holds another log under that name.
    public func copy(_ namespace: String, progress: (Int) -> Void = { _ in }) async throws -> Copied {
        let end = try await self.source.head(namespace: namespace)
        var head = try await self.target.head(namespace: namespace)
        if head.commitTS > 0 {
            let same = try await self.source.events(
                EventQuery(namespace: namespace, fromCommitTS: head.commitTS, toCommitTS: head.commitTS, limit: 1))
            guard head.commitTS <= end.commitTS, same.first?.hash == head.hash else {
                throw StatehouseError.failedPrecondition(
                    "namespace '\(namespace)' in the target already holds \(head.commitTS) commits that are not this "
                        + "store's; copy into an empty database, or drop that namespace's rows first")
            }
        }
        var copied = 0
        while head.commitTS < end.commitTS {  // bounded: every pass moves the head forward or throws
            let page = try await self.source.events(
                EventQuery(
                    namespace: namespace, fromCommitTS: head.commitTS + 1, toCommitTS: end.commitTS,
                    limit: self.batchEvents))
            guard !page.isEmpty else {
                throw StatehouseError.dataCorruption(
                    commitTS: head.commitTS + 1, reason: "the source's log ends before its head")
            }
            var previous = head
            for event in page {
                try Self.check(event, after: previous)
                previous = LogHead(
                    namespace: namespace, commitTS: event.commitTS, hash: event.hash, committedAt: event.committedAt)
            }
            try await self.target.append(page, after: head)
            head = previous
            copied += page.count
            progress(copied)
        }
        return try await self.verify(namespace, end: end, copied: copied)
    }

    /// The event follows `previous` in the chain and, unless a value of it was removed by retention (its chain hash
    /// can then no longer be recomputed, only its leaf), matches its hash.
    static func check(_ event: Event, after previous: LogHead) throws {
        guard event.commitTS == previous.commitTS + 1 else {
            throw StatehouseError.dataCorruption(
                commitTS: event.commitTS, reason: "the source's log skips from commit_ts \(previous.commitTS)")
        }
        try HashChain.checkLink(
            event, previousHash: previous.hash, namespace: event.namespace,
            recomputing: !event.operations.contains(where: \.valueRemoved))
    }

    /// Both logs end with the same event and both trees of that size have the same root.
    private func verify(_ namespace: String, end: LogHead, copied: Int) async throws -> Copied {
        let head = try await self.target.head(namespace: namespace)
        guard head.commitTS >= end.commitTS else {
            throw StatehouseError.dataCorruption(
                commitTS: head.commitTS, reason: "the copy of '\(namespace)' ends before the source's head")
        }
        let copiedEnd = try await self.target.events(
            EventQuery(namespace: namespace, fromCommitTS: end.commitTS, toCommitTS: end.commitTS, limit: 1))
        guard copiedEnd.first?.hash == end.hash else {
            throw StatehouseError.dataCorruption(
                commitTS: end.commitTS, reason: "the copy of '\(namespace)' does not end with the source's last event")
        }
        let sourceTree = try await self.source.treeHead(namespace: namespace, size: end.commitTS)
        let targetTree = try await self.target.treeHead(namespace: namespace, size: end.commitTS)
        guard sourceTree.rootHash == targetTree.rootHash else {
            throw StatehouseError.dataCorruption(
                commitTS: end.commitTS, reason: "the copy of '\(namespace)' has another Merkle root than the source")
        }
        return Copied(head: end, events: copied, rootHash: targetTree.rootHash)
    }
}
