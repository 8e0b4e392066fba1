import Logging

/// The single writer: queues commits and applies them in groups, one storage transaction and one fsync per group.
///
/// Callers suspend in ``submit(_:)``; ``run()`` takes everything queued (up to the batch bounds) while the previous
/// group was being made durable, hands it to the backend, publishes the new events and resumes every caller. A lone
/// client therefore pays one fsync per commit, and under load hundreds of commits share one.
final class CommitPipeline: Sendable {
    private struct Pending {
        var request: CommitRequest
        var bytes: Int
        var continuation: CheckedContinuation<CommitResult, any Error>
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

    init(
        backend: any StorageBackend,
        hub: WatchHub,
        clock: any StatehouseClock,
        maxBatchTransactions: Int,
        maxBatchBytes: Int,
        logger: Logger
    ) {
        self.backend = backend
        self.hub = hub
        self.clock = clock
        self.maxBatchTransactions = max(1, maxBatchTransactions)
        self.maxBatchBytes = max(1, maxBatchBytes)
        self.logger = logger
    }

    /// Queues a commit and returns once it is durable (or failed).
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/conflict(agentID:key:expected:actual:)`` when a condition failed,
    ///   ``StatehouseModel/StatehouseError/unavailable(_:)`` once shutdown began, or the backend's error when the store
    ///   failed.
    ///
    /// - Parameter onQueued: called once the request is in the queue (before this returns): a caller that submits
    ///   several requests from several tasks waits for it between them to keep their order (an import).
    func submit(_ request: CommitRequest, onQueued: (@Sendable () -> Void)? = nil) async throws -> CommitResult {
        let bytes = request.operations.reduce(0) { $0 + $1.accountedBytes }
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = self.handOff.update { state -> Bool in
                guard state.phase == .running else { return false }
                state.pending.append(Pending(request: request, bytes: bytes, continuation: continuation))
                return true
            }
            onQueued?()
            if !accepted {
                continuation.resume(throwing: StatehouseError.unavailable("Statehouse is shutting down; retry later"))
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
            for (pending, result) in zip(batch, resolution.results) {
                pending.continuation.resume(with: result.mapError { $0 as any Error })
            }
        } catch {
            if batch.count > 1 {
                // One transaction may have made the whole storage transaction fail; retry each alone so that it
                // fails alone.
                self.logger.warning(
                    "Commit batch failed; retrying its transactions one by one",
                    metadata: [
                        "batch.size": "\(batch.count)", "error": "\(error)",
                    ])
                for pending in batch { await self.apply([pending]) }
            } else {
                batch[0].continuation.resume(throwing: error)
            }
        }
    }
}
