/// A live follow of a namespace's log from any commit_ts: catch-up from storage, then live events.
///
/// The handover has no gap and no duplicate: the subscription registers with the hub *before* its last storage
/// read, so every event is either in that read (committed before registration) or in the live buffer (published
/// after it), and events below the next expected commit_ts are dropped. A subscriber that falls behind ends with
/// ``StatehouseModel/StatehouseError/subscriberTooSlow(resumeFrom:)``. Consume it from one task.
///
/// ```swift
/// for try await event in try engine.watch(namespace: "prod", from: 1) {
///     print(event.commitTS, event.operations.count)
/// }
/// ```
public final class WatchSubscription: AsyncSequence {
    public typealias Element = Event

    private enum Phase {
        case catchingUp
        case registeredCatchingUp
        case live
        case finished
    }

    public let namespace: String
    public let agentID: String?
    /// The commit_ts of the next event this subscription will deliver.
    public private(set) var nextCommitTS: CommitTS

    private let backend: any StorageBackend
    private let hub: WatchHub
    private let subscriber: WatchSubscriber
    private let pageSize: Int
    private var phase = Phase.catchingUp
    private var registered = false

    init(
        namespace: String,
        agentID: String?,
        from: CommitTS,
        backend: any StorageBackend,
        hub: WatchHub,
        bufferCapacity: Int,
        pageSize: Int
    ) throws {
        try hub.reserveSlot()
        self.namespace = namespace
        self.agentID = agentID
        self.nextCommitTS = Swift.max(1, from)
        self.backend = backend
        self.hub = hub
        self.subscriber = WatchSubscriber(namespace: namespace, agentID: agentID, capacity: bufferCapacity)
        self.pageSize = Swift.max(1, Swift.min(pageSize, bufferCapacity))
    }

    deinit {
        self.hub.releaseSlot(self.registered ? self.subscriber : nil)
    }

    /// Returns the next events in commit order, or `nil` when the consuming task was cancelled.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/subscriberTooSlow(resumeFrom:)`` when the live buffer overflowed,
    ///   ``StatehouseModel/StatehouseError/unavailable(_:)`` when the engine shuts down, or a storage error during
    ///   catch-up.
    public func nextBatch() async throws -> [Event]? {
        while true {
            switch self.phase {
            case .finished:
                return nil
            case .catchingUp, .registeredCatchingUp:
                if self.phase == .registeredCatchingUp {
                    // The storage read below covers everything published so far; a backlog (or an overflow)
                    // from while this subscription was catching up does not matter.
                    self.subscriber.clearBacklog()
                }
                let page = try await self.backend.events(
                    EventQuery(
                        namespace: self.namespace,
                        fromCommitTS: self.nextCommitTS,
                        toCommitTS: .max,
                        agentID: self.agentID,
                        limit: self.pageSize
                    )
                )
                if let last = page.last { self.nextCommitTS = last.commitTS + 1 }
                if page.count < self.pageSize {
                    // Near the head: register (once) and read once more, then go live.
                    if self.phase == .catchingUp {
                        // The first commit_ts this watcher needs from the hub. With a shared log the sequencer reads
                        // from there what it has not delivered: for a watch filtered to one agent, `nextCommitTS` can
                        // be far behind the head (the agent's last event), so take the head read now instead; the
                        // storage read after registering covers everything up to it.
                        var from = self.nextCommitTS
                        if self.hub.sequencer != nil {
                            from = Swift.max(from, try await self.backend.head(namespace: self.namespace).commitTS + 1)
                        }
                        try self.hub.register(self.subscriber, from: from)
                        self.registered = true
                        self.phase = .registeredCatchingUp
                    } else {
                        self.phase = .live
                    }
                }
                if !page.isEmpty { return page }
                if Task.isCancelled || self.subscriber.isCancelled {
                    self.phase = .finished
                    return nil
                }
            case .live:
                switch await self.subscriber.take() {
                case .events(let events):
                    let fresh = events.filter { $0.commitTS >= self.nextCommitTS }
                    guard let last = fresh.last else { continue }
                    self.nextCommitTS = last.commitTS + 1
                    return fresh
                case .overflowed:
                    self.phase = .finished
                    throw StatehouseError.subscriberTooSlow(resumeFrom: self.nextCommitTS)
                case .ended(let error):
                    self.phase = .finished
                    throw error
                case .cancelled:
                    self.phase = .finished
                    return nil
                }
            }
        }
    }

    /// Ends the subscription from any task: a waiting ``nextBatch()`` returns `nil` (as it does when its own task is
    /// cancelled). Servers use it when the remote client cancels the call.
    public struct Canceller: Sendable {
        fileprivate let subscriber: WatchSubscriber

        public func cancel() {
            self.subscriber.cancel()
        }
    }

    /// A handle that ends this subscription from another task.
    public var canceller: Canceller { Canceller(subscriber: self.subscriber) }

    public func makeAsyncIterator() -> Iterator {
        Iterator(subscription: self)
    }

    /// Yields the subscription's events one at a time.
    public struct Iterator: AsyncIteratorProtocol {
        let subscription: WatchSubscription
        var pending: [Event] = []
        var index = 0

        public mutating func next() async throws -> Event? {
            if self.index == self.pending.count {
                guard let batch = try await self.subscription.nextBatch() else { return nil }
                self.pending = batch
                self.index = 0
            }
            defer { self.index += 1 }
            return self.pending[self.index]
        }
    }
}
