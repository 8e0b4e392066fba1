import StatehouseModel
import Synchronization

/// The daemon's copy of its token records, kept in memory so that a request's check is a dictionary lookup; the
/// records themselves live in the system namespace (``TokenRecordCodec``). Also where open streams wait for a revocation.
final class TokenRegistry: Sendable {
    private struct State {
        var isLoaded = false
        var loadWaiters: [CheckedContinuation<Void, Never>] = []
        var byID: [String: TokenRecordCodec.Stored] = [:]
        var bySubject: [String: String] = [:]
        var revocationWaiters: [String: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// Returns once ``load(_:)`` ran.
    func loaded() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.state.withLock { state -> Bool in
                if state.isLoaded { return true }
                state.loadWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Takes the records read at startup and lets requests through.
    func load(_ records: [TokenRecordCodec.Stored]) {
        let waiters = self.state.withLock { state in
            for record in records { Self.insert(record, into: &state) }
            state.isLoaded = true
            defer { state.loadWaiters = [] }
            return state.loadWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isEmpty: Bool { self.state.withLock { $0.byID.isEmpty } }

    func token(id: String) -> TokenRecordCodec.Stored? {
        self.state.withLock { $0.byID[id] }
    }

    /// The valid-or-not principal a certificate subject maps to (the newest unrevoked one when several do).
    func token(certificateSubject: String) -> TokenRecordCodec.Stored? {
        self.state.withLock { state in state.bySubject[certificateSubject].flatMap { state.byID[$0] } }
    }

    func all() -> [TokenRecordCodec.Stored] {
        self.state.withLock { Array($0.byID.values) }.sorted { $0.token.id < $1.token.id }
    }

    /// Records a created or changed token; a revocation wakes the streams waiting on it.
    func update(_ record: TokenRecordCodec.Stored) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            Self.insert(record, into: &state)
            guard record.token.revokedAtMicros != nil else { return [] }
            let removed = state.revocationWaiters.removeValue(forKey: record.token.id) ?? [:]
            return Array(removed.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    private static func insert(_ record: TokenRecordCodec.Stored, into state: inout State) {
        state.byID[record.token.id] = record
        if let subject = record.token.certificateSubject {
            if record.token.revokedAtMicros == nil {
                state.bySubject[subject] = record.token.id
            } else if state.bySubject[subject] == record.token.id {
                state.bySubject[subject] = nil
            }
        }
    }

    /// Returns when the token is revoked (at once if it is already), or when the task is cancelled.
    func waitForRevocation(of id: String) async {
        let slot = self.state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.byID[id]?.token.revokedAtMicros != nil || Task.isCancelled { return true }
                    state.revocationWaiters[id, default: [:]][slot] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.revocationWaiters[id]?.removeValue(forKey: slot) }
            waiter?.resume()
        }
    }
}
