import CoreMetrics
import Logging
import Synchronization

/// The single writer: queues commits and applies them in groups, one storage transaction and one fsync per group.
///
/// Callers suspend in ``submit(_:)``; ``run()`` takes everything queued (up to the batch bounds) while the previous
/// group was being made durable, hands it to the backend, publishes the new events and resumes every caller. A lone
/// client therefore pays one fsync per commit, and under load hundreds of commits share one.
final class CommitPipeline: Sendable {
    private struct Pending {
        var request: CommitRequest
        var bytes: Int
        var waiter: Waiter
        /// When it was queued (monotonic), for the commit latency metric.
        var queuedAt: UInt64

        init(_ request: CommitRequest, waiter: Waiter, queuedAt: UInt64) {
            self.request = request
            self.bytes = request.operations.reduce(0) { $0 + $1.accountedBytes }
            self.waiter = waiter
            self.queuedAt = queuedAt
        }
    }

    private static let shuttingDown = StatehouseError.unavailable("Statehouse is shutting down; retry later")

    /// Who waits for a commit: its caller alone, or one entry of a group submitted together (``submitAll(_:)``).
    private enum Waiter {
        case caller(CheckedContinuation<CommitResult, any Error>)
        case group(GroupResults, index: Int)

        func resume(with result: Result<CommitResult, any Error>) {
            switch self {
            case .caller(let continuation): continuation.resume(with: result)
            case .group(let group, let index): group.finish(index, result)
            }
        }
    }

    /// The results of a group of commits, handed to its one waiting caller when the last one is known.
    private final class GroupResults: Sendable {
        private let state: Mutex<(results: [Result<CommitResult, any Error>?], left: Int)>
        private let continuation: CheckedContinuation<[Result<CommitResult, any Error>], Never>

        init(count: Int, continuation: CheckedContinuation<[Result<CommitResult, any Error>], Never>) {
            self.state = Mutex((Array(repeating: nil, count: count), count))
            self.continuation = continuation
        }

        func finish(_ index: Int, _ result: Result<CommitResult, any Error>) {
            let done = self.state.withLock { state -> [Result<CommitResult, any Error>]? in
                state.results[index] = result
                state.left -= 1
                return state.left == 0 ? state.results.map { $0! } : nil
            }
            if let done { self.continuation.resume(returning: done) }
        }
    }

    private enum Phase { case running, stopping, stopped }

    private struct State {
        var pending: [Pending] = []
        var phase: Phase = .running
    }

    /// The queue between callers (producers) and ``run()`` (the consumer).
    private let handOff = AsyncHandOff(State())
    private let backend: any StorageBackend
    private let hub: WatchHub
    private let clock: any StatehouseClock
    private let maxBatchTransactions: Int
    private let maxBatchBytes: Int
    private let logger: Logger
    private let metrics: EngineMetrics

    init(
        backend: any StorageBackend,
        hub: WatchHub,
        clock: any StatehouseClock,
        maxBatchTransactions: Int,
        maxBatchBytes: Int,
        metrics: EngineMetrics,
        logger: Logger
    ) {
        self.backend = backend
        self.hub = hub
        self.clock = clock
        self.maxBatchTransactions = max(1, maxBatchTransactions)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.metrics = metrics
        self.logger = logger
    }

    /// Queues a commit and returns once it is durable (or failed).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a condition failed,
    ///   ``StatehouseModel/StatehouseError/unavailable(_:)`` once shutdown began, or the backend's error when the store
    ///   failed.
    func submit(_ request: CommitRequest) async throws -> CommitResult {
        try await withCheckedThrowingContinuation { continuation in
            // Built outside the queue's lock.
            let pending = Pending(
                request, waiter: .caller(continuation), queuedAt: self.clock.monotonicNanoseconds())
            let accepted = self.handOff.update { state -> Bool in
                guard state.phase == .running else { return false }
                state.pending.append(pending)
                return true
            }
            if !accepted { continuation.resume(throwing: Self.shuttingDown) }
        }
    }

    /// Queues several commits together, in order and next to each other (an import), and returns each one's result
    /// once all are known; one task waits for all of them instead of one per commit.
    func submitAll(_ requests: [CommitRequest]) async -> [Result<CommitResult, any Error>] {
        guard !requests.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let group = GroupResults(count: requests.count, continuation: continuation)
            let now = self.clock.monotonicNanoseconds()
            let pending = requests.enumerated().map {
                Pending($0.element, waiter: .group(group, index: $0.offset), queuedAt: now)
            }
            let accepted = self.handOff.update { state -> Bool in
                guard state.phase == .running else { return false }
                state.pending += pending
                return true
            }
            if !accepted {
                for index in requests.indices { group.finish(index, .failure(Self.shuttingDown)) }
            }
        }
    }

    /// Applies queued commits until cancelled; then finishes what was queued and refuses new commits.
    func run() async {
        while let batch = await self.nextBatch() {
            await self.apply(batch)
        }
        self.logger.debug("Commit pipeline stopped")
    }

    /// Waits for work; returns `nil` when stopping and nothing is left. Cancelling the runner starts the stop:
    /// new commits are refused and what was queued is still applied.
    private func nextBatch() async -> [Pending]? {
        await self.handOff.next(
            { state -> [Pending]?? in
                if !state.pending.isEmpty { return .some(self.takeBatch(&state)) }
                if state.phase != .running {
                    state.phase = .stopped
                    return .some(nil)
                }
                return nil
            },
            onCancel: { state in
                if state.phase == .running { state.phase = .stopping }
            }
        )
    }

    private func takeBatch(_ state: inout State) -> [Pending] {
        var count = 0
        var bytes = 0
        for pending in state.pending {
            if count > 0 && (count == self.maxBatchTransactions || bytes + pending.bytes > self.maxBatchBytes) { break }
            count += 1
            bytes += pending.bytes
        }
        let batch = Array(state.pending.prefix(count))
        state.pending.removeFirst(count)
        return batch
    }

    private func apply(_ batch: [Pending]) async {
        do {
            let resolution = try await self.backend.commit(batch.map(\.request), now: self.clock.wallMicroseconds())
            self.hub.publish(resolution.events)
            self.metrics.batchSize.record(batch.count)
            let now = self.clock.monotonicNanoseconds()
            for (pending, result) in zip(batch, resolution.results) {
                let result = result.mapError { $0 as any Error }
                self.record(result, of: pending, now: now)
                pending.waiter.resume(with: result)
            }
        } catch {
            // The store being unreachable is no transaction's fault: retrying each alone would only wait out the same
            // failure once per transaction, holding every commit queued behind them.
            let unreachable: Bool
            if case .unavailable? = error as? StatehouseError { unreachable = true } else { unreachable = false }
            if batch.count > 1, !unreachable {
                // One transaction may have made the whole storage transaction fail; retry each alone so that it
                // fails alone.
                self.logger.warning(
                    "Commit batch failed; retrying its transactions one by one",
                    metadata: [
                        "batch.size": "\(batch.count)", "error": "\(error)",
                    ])
                for pending in batch { await self.apply([pending]) }
            } else {
                let now = self.clock.monotonicNanoseconds()
                for pending in batch {
                    self.record(.failure(error), of: pending, now: now)
                    pending.waiter.resume(with: .failure(error))
                }
            }
        }
    }

    private func record(_ result: Result<CommitResult, any Error>, of pending: Pending, now: UInt64) {
        self.metrics.commitDuration.recordNanoseconds(Int64(clamping: now &- pending.queuedAt))
        switch result {
        case .success: self.metrics.commits.increment()
        case .failure(let error): self.metrics.commitFailed(error)
        }
    }
}
