import Synchronization

/// State shared by any number of producers and one consumer that waits until the state has something for it: the one
/// hand-off primitive behind the commit pipeline's queue, a session's outbox and a watch subscriber's buffer.
///
/// Producers change the state with ``update(_:)``, which wakes the consumer; the consumer calls ``next(_:onCancel:)``
/// with a `take` closure that decides, under the lock, whether there is something to return (and removes it). The lock
/// and continuation handling that each of them used to write by hand (and the lost wake-up it must avoid: a change
/// between the consumer's check and its wait) lives here once. Decisions are made under the lock; continuations are
/// resumed outside it.
package final class AsyncHandOff<State: Sendable>: Sendable {
    private struct Box {
        var state: State
        var waiter: CheckedContinuation<Void, Never>?
        /// Counts updates, so that a consumer about to wait can tell that the state changed since it looked.
        var updates: UInt64 = 0
    }

    private let box: Mutex<Box>

    package init(_ initial: State) {
        self.box = Mutex(Box(state: initial, waiter: nil))
    }

    /// Changes the state and wakes the consumer if it waits (it then runs its `take` again).
    @discardableResult
    package func update<Result: Sendable>(_ body: (inout State) throws -> Result) rethrows -> Result {
        let (result, waiter) = try self.box.withLock { box -> (Result, CheckedContinuation<Void, Never>?) in
            let result = try body(&box.state)
            box.updates &+= 1
            defer { box.waiter = nil }
            return (result, box.waiter)
        }
        waiter?.resume()
        return result
    }

    /// Reads or changes the state without waking the consumer.
    package func withState<Result: Sendable>(_ body: (inout State) throws -> Result) rethrows -> Result {
        try self.box.withLock { try body(&$0.state) }
    }

    /// Waits until `take` returns a value, running it under the lock first and after every ``update(_:)``.
    ///
    /// With `onCancel`, cancelling the consumer's task marks the state (under the lock) and `take` runs again: it must
    /// then return, typically something that says the consumer was cancelled. Without it the wait ignores
    /// cancellation (a consumer that is ended by a producer's update instead) and pays no cancellation handler.
    package func next<Taken: Sendable>(
        _ take: (inout State) -> Taken?,
        onCancel: (@Sendable (inout State) -> Void)? = nil
    ) async -> Taken {
        while true {
            let (taken, seen) = self.box.withLock { box in (take(&box.state), box.updates) }
            if let taken { return taken }
            guard let onCancel else {
                await self.wait(unlessUpdatedSince: seen, onCancel: nil)
                continue
            }
            await withTaskCancellationHandler {
                await self.wait(unlessUpdatedSince: seen, onCancel: onCancel)
            } onCancel: {
                let waiter = self.box.withLock { box -> CheckedContinuation<Void, Never>? in
                    onCancel(&box.state)
                    defer { box.waiter = nil }
                    return box.waiter
                }
                waiter?.resume()
            }
        }
    }

    /// Suspends until the next update, unless one came after `seen` (then the consumer looks again at once).
    private func wait(unlessUpdatedSince seen: UInt64, onCancel: (@Sendable (inout State) -> Void)?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = self.box.withLock { box -> Bool in
                if let onCancel, Task.isCancelled {
                    onCancel(&box.state)
                    return true
                }
                // An update since `take` looked woke nobody: look again instead of waiting for the next.
                if box.updates != seen { return true }
                box.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
