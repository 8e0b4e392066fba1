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
        var continuation: CheckedContinuation<CommitResult, any Error>
    }

    private enum Phase { case running, stopping, stopped }

    private struct State {
        var pending: [Pending] = []
        var runner: CheckedContinuation<Void, Never>?
        var phase: Phase = .running
    }

    private let state = Mutex(State())
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
    /// - Throws: ``StatehouseError/conflict(agentID:key:expected:actual:)`` when a condition failed,
    ///   ``StatehouseError/unavailable(_:)`` once shutdown began, or the backend's error when the store failed.
    func submit(_ request: CommitRequest) async throws -> CommitResult {
        let bytes = request.operations.reduce(0) { $0 + $1.accountedBytes }
        return try await withCheckedThrowingContinuation { continuation in
            let (accepted, runner) = self.state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard state.phase == .running else { return (false, nil) }
                state.pending.append(Pending(request: request, bytes: bytes, continuation: continuation))
                defer { state.runner = nil }
                return (true, state.runner)
            }
            if !accepted {
                continuation.resume(throwing: StatehouseError.unavailable("Statehouse is shutting down; retry later"))
            }
            runner?.resume()
        }
    }

    /// Applies queued commits until cancelled; then finishes what was queued and refuses new commits.
    func run() async {
        while let batch = await self.nextBatch() {
            await self.apply(batch)
        }
        self.logger.debug("Commit pipeline stopped")
    }

    /// Waits for work; returns `nil` when stopping and nothing is left.
    private func nextBatch() async -> [Pending]? {
        while true {
            let batch = self.state.withLock { state -> [Pending]? in
                if !state.pending.isEmpty { return self.takeBatch(&state) }
                if state.phase != .running {
                    state.phase = .stopped
                    return []
                }
                return nil
            }
            if let batch { return batch.isEmpty ? nil : batch }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if !state.pending.isEmpty || state.phase != .running || Task.isCancelled {
                            if Task.isCancelled, state.phase == .running { state.phase = .stopping }
                            return true
                        }
                        state.runner = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let runner = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                    if state.phase == .running { state.phase = .stopping }
                    defer { state.runner = nil }
                    return state.runner
                }
                runner?.resume()
            }
        }
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
