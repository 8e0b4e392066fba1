import Synchronization

/// Fans committed events out to live watch subscribers.
///
/// The pipeline publishes each durable batch here; every subscriber of the namespace (optionally one agent) gets
/// the matching events appended to its own bounded buffer. A subscriber whose buffer is full is cut off instead
/// of growing without bound; it resumes from storage using the commit_ts in its error.
final class WatchHub: Sendable {
    private struct State {
        var subscribers: [String: [ObjectIdentifier: WatchSubscriber]] = [:]
        var reserved = 0
        var closedError: StatehouseError?
    }

    private let state = Mutex(State())
    private let maxWatchers: Int
    /// Orders events first when other daemons write the same log (``SharedLogStorage``); `nil` on a store of its own.
    let sequencer: SharedLogSequencer?

    init(maxWatchers: Int, sharedLog: Bool = false) {
        self.maxWatchers = maxWatchers
        self.sequencer = sharedLog ? SharedLogSequencer() : nil
    }

    /// Whether the namespace has live (registered) watchers.
    func isWatched(_ namespace: String) -> Bool {
        self.state.withLock { $0.subscribers[namespace]?.isEmpty == false }
    }

    /// Number of subscriptions that hold a slot (catching up or live).
    var subscriberCount: Int { self.state.withLock { $0.reserved } }

    /// Number of subscriptions registered for live events (near or at the head of the log).
    var registeredCount: Int { self.state.withLock { $0.subscribers.values.reduce(0) { $0 + $1.count } } }

    /// Takes one of the bounded subscriber slots.
    func reserveSlot() throws {
        try self.state.withLock { state in
            if let error = state.closedError { throw error }
            guard state.reserved < self.maxWatchers else {
                throw StatehouseError.resourceExhausted(
                    "too many watch subscribers (limit \(self.maxWatchers)); close some and retry"
                )
            }
            state.reserved += 1
        }
    }

    /// Gives back a slot taken by ``reserveSlot()``, unregistering the subscriber if it was live.
    func releaseSlot(_ subscriber: WatchSubscriber?) {
        self.state.withLock { state in
            state.reserved -= 1
            if let subscriber {
                state.subscribers[subscriber.namespace]?[ObjectIdentifier(subscriber)] = nil
                if state.subscribers[subscriber.namespace]?.isEmpty == true {
                    state.subscribers[subscriber.namespace] = nil
                }
            }
        }
    }

    /// Starts delivering live events to `subscriber`, which needs them from commit_ts `from` on.
    func register(_ subscriber: WatchSubscriber, from: CommitTS) throws {
        try self.state.withLock { state in
            if let error = state.closedError { throw error }
            state.subscribers[subscriber.namespace, default: [:]][ObjectIdentifier(subscriber)] = subscriber
            // Under the lock: the sequencer must learn of the registration before any input that finds the namespace
            // watched, or it would take that input as the namespace's start and skip what this watcher needs.
            self.sequencer?.submit(.watching(namespace: subscriber.namespace, from: from))
        }
    }

    /// Publishes durable events this daemon committed, in commit order: straight to the subscribers of their
    /// namespaces, or through the sequencer when other daemons write the same log.
    func publish(_ events: [Event]) {
        guard !events.isEmpty else { return }
        if let sequencer = self.sequencer {
            sequencer.submit(.committed(events))
        } else {
            self.deliver(events)
        }
    }

    /// Hands events, in commit order and without gaps per namespace, to the subscribers of their namespaces.
    func deliver(_ events: [Event]) {
        guard !events.isEmpty else { return }
        let targets = self.state.withLock { state -> [String: [WatchSubscriber]] in
            guard !state.subscribers.isEmpty else { return [:] }
            var targets: [String: [WatchSubscriber]] = [:]
            for event in events where targets[event.namespace] == nil {
                if let subscribers = state.subscribers[event.namespace] {
                    targets[event.namespace] = Array(subscribers.values)
                }
            }
            return targets
        }
        guard !targets.isEmpty else { return }
        for event in events {
            guard let subscribers = targets[event.namespace] else { continue }
            for subscriber in subscribers { subscriber.deliver(event) }
        }
    }

    /// Ends every subscriber with `error` and refuses new ones (engine shutdown).
    func close(with error: StatehouseError) {
        let subscribers = self.state.withLock { state -> [WatchSubscriber] in
            state.closedError = error
            return state.subscribers.values.flatMap(\.values)
        }
        for subscriber in subscribers { subscriber.end(with: error) }
    }
}

/// The live side of one watch: a bounded buffer filled by the hub and drained by the subscription.
final class WatchSubscriber: Sendable {
    private struct State {
        var buffer: [Event] = []
        var overflowed = false
        var endError: StatehouseError?
        var cancelled = false
    }

    let namespace: String
    let agentID: String?
    private let capacity: Int
    private let handOff = AsyncHandOff(State())

    init(namespace: String, agentID: String?, capacity: Int) {
        self.namespace = namespace
        self.agentID = agentID
        self.capacity = max(1, capacity)
    }

    /// Appends an event (filtered to the agent) or cuts the subscriber off when its buffer is full.
    func deliver(_ event: Event) {
        var event = event
        if let agentID = self.agentID {
            event.operations.removeAll { $0.agentID != agentID }
            if event.operations.isEmpty { return }
        }
        self.handOff.update { state in
            guard !state.overflowed, state.endError == nil else { return }
            if state.buffer.count >= self.capacity {
                state.overflowed = true
                state.buffer = []
            } else {
                state.buffer.append(event)
            }
        }
    }

    /// Drops buffered events and a past overflow; used while the subscription still catches up from storage,
    /// whose next read covers everything published before this call.
    func clearBacklog() {
        self.handOff.withState { state in
            state.overflowed = false
            state.buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Makes the consumer's current and next `take()` return `.cancelled` (the watch's client went away).
    func cancel() {
        self.handOff.update { $0.cancelled = true }
    }

    func end(with error: StatehouseError) {
        self.handOff.update { state in
            if state.endError == nil { state.endError = error }
        }
    }

    var isCancelled: Bool { self.handOff.withState { $0.cancelled } }

    /// What the consumer gets from the live buffer.
    enum Take: Sendable {
        case events([Event])
        case overflowed
        case ended(StatehouseError)
        case cancelled
    }

    /// Waits for and takes every buffered event.
    func take() async -> Take {
        await self.handOff.next(
            { state -> Take? in
                if state.overflowed { return .overflowed }
                if !state.buffer.isEmpty {
                    defer { state.buffer.removeAll(keepingCapacity: true) }
                    return .events(state.buffer)
                }
                if let error = state.endError { return .ended(error) }
                if state.cancelled { return .cancelled }
                return nil
            },
            onCancel: { $0.cancelled = true }
        )
    }
}
