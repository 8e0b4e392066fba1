import Foundation
public import StatehouseLedger
public import StatehouseModel
import StatehouseProto
import StatehouseWire
import Synchronization

extension StatehouseClient {
    /// The public key that signs the daemon's tree heads, as the daemon reports it. Pin it (``trust(ledgerKey:)``)
    /// from a source you trust, not from the daemon you are checking.
    public func ledgerKey() async throws -> LedgerPublicKey {
        let response = try await self.call { try await self.stub.getSigningKey(Statehouse_V2_GetSigningKeyRequest()) }
        do {
            return try LedgerPublicKey(rawRepresentation: [UInt8](response.publicKey))
        } catch {
            throw StatehouseError.internalError("the daemon sent an unusable signing key: \(error)")
        }
    }

    /// Trusts `ledgerKey` for this client's verified reads (and those of its copies). Without a trusted key, the
    /// first verified read trusts the key the daemon reports and keeps it: trust on first use.
    public func trust(ledgerKey: LedgerPublicKey) {
        self.ledger.trust(ledgerKey)
    }

    /// The namespace's signed tree head (of its first `size` events, the whole log when `nil`), as sent: check it with
    /// `LedgerPublicKey.verify(_:)`.
    public func treeHead(namespace: String = "default", size: UInt64? = nil) async throws -> SignedTreeHead {
        var request = Statehouse_V2_GetTreeHeadRequest()
        request.namespace = namespace
        if let size { request.treeSize = size }
        return try await self.call { Wire.signedTreeHead(try await self.stub.getTreeHead(request)) }
    }

    /// The inclusion proof of the event with `commitTS` in the tree of `treeSize` events (the whole log when `nil`).
    public func inclusionProof(
        namespace: String = "default", commitTS: CommitTS, treeSize: UInt64? = nil
    ) async throws -> InclusionProof {
        var request = Statehouse_V2_GetInclusionProofRequest()
        request.namespace = namespace
        request.commitTs = commitTS
        if let treeSize { request.treeSize = treeSize }
        return try await self.call { Wire.inclusionProof(try await self.stub.getInclusionProof(request)) }
    }

    /// The consistency proof from the tree of `oldSize` events to the tree of `newSize` (the whole log when `nil`).
    public func consistencyProof(
        namespace: String = "default", oldSize: UInt64, newSize: UInt64? = nil
    ) async throws -> ConsistencyProof {
        var request = Statehouse_V2_GetConsistencyProofRequest()
        request.namespace = namespace
        request.oldSize = oldSize
        if let newSize { request.newSize = newSize }
        return try await self.call { Wire.consistencyProof(try await self.stub.getConsistencyProof(request)) }
    }

    /// Reads a key and checks, before returning it, that the version read was committed with this content as an
    /// event of the daemon's signed log, and that the log extends every head this client verified before.
    ///
    /// With `verified: false` this is ``get(namespace:agentID:key:at:)``.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` naming the check that failed
    ///   (a bad signature, a proof that does not lead to the signed root, a history that does not extend a head seen
    ///   before), or what a read throws.
    public func get(
        namespace: String = "default", agentID: String, key: String, at point: ReadPoint = .latest, verified: Bool
    ) async throws -> StateRecord {
        guard verified else { return try await self.get(namespace: namespace, agentID: agentID, key: key, at: point) }
        let publicKey: LedgerPublicKey
        if let trusted = self.ledger.trustedKey {
            publicKey = trusted
        } else {
            publicKey = try await self.trustOnFirstUse()
        }
        let previous = self.ledger.head(keyID: publicKey.keyID, namespace: namespace)
        var request = Statehouse_V2_GetVerifiedStateRequest()
        request.namespace = namespace
        request.agentID = agentID
        request.key = key
        if let at = try Wire.proto(point) { request.at = at }
        if let previous { request.knownTreeSize = previous.treeSize }
        let state = try await self.call { Wire.verifiedState(try await self.stub.getVerifiedState(request)) }
        do {
            let head = try VerifiedReadCheck.check(
                state, publicKey: publicKey, namespace: namespace, agentID: agentID, key: key, previous: previous)
            self.ledger.remember(head, keyID: publicKey.keyID)
        } catch {
            throw StatehouseError.dataCorruption(
                commitTS: state.record.commitTS, reason: "verified read failed: \(error)")
        }
        return state.record
    }

    private func trustOnFirstUse() async throws -> LedgerPublicKey {
        let key = try await self.ledgerKey()
        self.ledger.trust(key, onlyIfNone: true)
        return self.ledger.trustedKey ?? key
    }
}

/// What a client remembers for verified reads: the trusted ledger key and the newest head it verified per (key,
/// namespace), which every later head must extend (a daemon that rewrites history is caught by a client that saw the
/// old head).
final class VerifiedLedgerState: Sendable {
    private struct State {
        var trustedKey: LedgerPublicKey?
        var heads: [String: TreeHead] = [:]
    }

    private let state = Mutex(State())

    var trustedKey: LedgerPublicKey? { self.state.withLock { $0.trustedKey } }

    func trust(_ key: LedgerPublicKey, onlyIfNone: Bool = false) {
        self.state.withLock { state in
            if onlyIfNone && state.trustedKey != nil { return }
            state.trustedKey = key
        }
    }

    func head(keyID: String, namespace: String) -> TreeHead? {
        self.state.withLock { $0.heads[keyID + "\u{0}" + namespace] }
    }

    /// Keeps `head` if it is newer than the one remembered (two reads may finish in either order).
    func remember(_ head: TreeHead, keyID: String) {
        self.state.withLock { state in
            let key = keyID + "\u{0}" + head.namespace
            if (state.heads[key]?.treeSize ?? 0) <= head.treeSize { state.heads[key] = head }
        }
    }
}

extension StatehouseClient {
    /// The roots of the perfect subtrees of the namespace's first `size` events, largest first.
    public func treePrefix(namespace: String = "default", size: UInt64) async throws -> [EventHash] {
        var request = Statehouse_V2_GetTreePrefixRequest()
        request.namespace = namespace
        request.treeSize = size
        return try await self.call { try await self.stub.getTreePrefix(request).hashes.map(Wire.hash) }
    }
}
