import Logging
public import StatehouseModel
import Synchronization

/// A store that several daemons write (PostgreSQL): besides this daemon's own commits, which its pipeline publishes,
/// the logs move under commits made elsewhere.
public protocol SharedLogStorage: StorageBackend {
    /// Heads as any daemon moves them (this one's included), in no particular order across namespaces and possibly
    /// repeated or skipping commits: each element says that the namespace's log reached at least that commit_ts. Runs
    /// until the task that iterates it is cancelled.
    func logChanges() -> AsyncStream<(namespace: String, commitTS: CommitTS)>
}

/// Puts the events of a shared log (``SharedLogStorage``) in order before they reach watchers.
///
/// On one daemon alone the pipeline publishes each namespace's events in commit order, and a watcher hands over from
/// storage to live events without a gap. With several daemons a watcher's daemon learns of others' commits later,
/// and out of order with its own: its own commit 8 can be ready while 5 to 7, made elsewhere, are still unannounced.
/// The sequencer keeps, per watched namespace, the last commit_ts delivered; it delivers an event only after every
/// earlier one, reading the missing ones from storage first, and reads up to a head it hears of (a notification or the
/// poll's head) the same way. So the hub receives each watched namespace's events gap-free and in order, and a
/// watcher's duplicate filter does the rest.
///
/// A namespace is tracked from the moment a watcher registers for it (from that watcher's next commit_ts; the watcher
/// reads storage after registering, so it misses nothing before) until its last watcher leaves.
final class SharedLogSequencer: Sendable {
    enum Input: Sendable {
        /// A watcher registered for the namespace and needs the events from `from` on.
        case watching(namespace: String, from: CommitTS)
        /// Events this daemon committed (or imported), in commit order.
        case committed([Event])
        /// The namespace's log reached at least `commitTS`.
        case moved(namespace: String, commitTS: CommitTS)
    }

    private let inputs: AsyncStream<Input>.Continuation
    private let stream: AsyncStream<Input>

    init() {
        (self.stream, self.inputs) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
    }

    func submit(_ input: Input) {
        self.inputs.yield(input)
    }

    /// Orders and delivers until cancelled. `isWatched` says whether a namespace has live watchers; `deliver` hands
    /// ordered events to them.
    func run(
        backend: any StorageBackend, logger: Logger, isWatched: @escaping @Sendable (String) -> Bool,
        deliver: @escaping @Sendable ([Event]) -> Void
    ) async {
        var delivered: [String: CommitTS] = [:]
        for await input in self.stream {
            if Task.isCancelled { return }
            switch input {
            case .watching(let namespace, let from):
                // A namespace already tracked stays at what it delivered: the new watcher reads storage up to at
                // least that point itself.
                if delivered[namespace] == nil { delivered[namespace] = from > 0 ? from - 1 : 0 }
            case .committed(let events):
                var byNamespace: [String: [Event]] = [:]
                for event in events { byNamespace[event.namespace, default: []].append(event) }
                for (namespace, events) in byNamespace {
                    guard let last = events.last?.commitTS else { continue }
                    await self.advance(
                        namespace, to: last, known: events, delivered: &delivered, backend: backend, logger: logger,
                        isWatched: isWatched, deliver: deliver)
                }
            case .moved(let namespace, let commitTS):
                await self.advance(
                    namespace, to: commitTS, known: [], delivered: &delivered, backend: backend, logger: logger,
                    isWatched: isWatched, deliver: deliver)
            }
        }
    }

    /// Delivers the namespace's events after the last delivered one up to `target`, taking them from `known` when it
    /// has them and from storage otherwise. A failed storage read is logged; the next input tries again.
    private func advance(
        _ namespace: String, to target: CommitTS, known: [Event], delivered: inout [String: CommitTS],
        backend: any StorageBackend, logger: Logger, isWatched: @Sendable (String) -> Bool,
        deliver: @Sendable ([Event]) -> Void
    ) async {
        guard isWatched(namespace) else {
            delivered[namespace] = nil
            return
        }
        guard let last = delivered[namespace], target > last else { return }
        var next = last + 1
        let knownFrom = known.first?.commitTS ?? target + 1
        do {
            while next < knownFrom, next <= target {
                let page = try await backend.events(
                    EventQuery(
                        namespace: namespace, fromCommitTS: next, toCommitTS: min(target, knownFrom - 1), limit: 1000))
                guard let end = page.last?.commitTS else { break }
                deliver(page)
                next = end + 1
                delivered[namespace] = end
            }
        } catch {
            logger.warning(
                "Reading another daemon's commits for watchers failed; trying again at the next change",
                metadata: ["namespace": "\(namespace)", "error": "\(error)"])
            return
        }
        guard next >= knownFrom else { return }
        let fresh = known.filter { $0.commitTS >= next }
        if let end = fresh.last?.commitTS {
            deliver(fresh)
            delivered[namespace] = end
        }
    }
}
