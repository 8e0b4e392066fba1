import Foundation
import StatehouseClient
import StatehouseLedger
import StatehouseModel

/// State entries proven against a signed tree head: each with the event that wrote it and that event's inclusion proof,
/// checked here before anything is printed (`statehousectl state`, `statehousectl provenance`).
struct StateProofs {
    let client: StatehouseClient
    let namespace: String
    let key: LedgerPublicKey
    let head: SignedTreeHead

    /// The namespace's current head, checked with `trusted` (or, without one, the key the daemon reports).
    static func start(
        client: StatehouseClient, namespace: String, trusted: LedgerPublicKey?
    ) async throws -> StateProofs {
        let key: LedgerPublicKey
        if let trusted { key = trusted } else { key = try await client.ledgerKey() }
        let head = try await client.treeHead(namespace: namespace)
        guard key.verify(head) else {
            throw StatehouseError.dataCorruption(
                commitTS: head.head.treeSize,
                reason: "the tree head's signature does not verify with the trusted key \(key.keyID)")
        }
        return StateProofs(client: client, namespace: namespace, key: key, head: head)
    }

    /// The event that wrote `record` and its inclusion proof, once both check against the head.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when they do not.
    func prove(_ record: StateRecord) async throws -> AuditBundle.WitnessLine {
        let page = try await self.client.readLog(
            LogFilter(namespace: self.namespace, fromCommitTS: record.commitTS, toCommitTS: record.commitTS), limit: 1)
        guard let event = page.items.first else {
            throw StatehouseError.dataCorruption(commitTS: record.commitTS, reason: "event is missing")
        }
        let treeSize = self.head.head.treeSize
        let proof = try await self.client.inclusionProof(
            namespace: self.namespace, commitTS: record.commitTS, treeSize: treeSize)
        // By code points: Swift's == would take a canonically equivalent key (another key to the store) for this one.
        let written = event.operations.first {
            $0.agentID.utf8.elementsEqual(record.agentID.utf8) && $0.key.utf8.elementsEqual(record.key.utf8)
        }
        guard written?.version == record.version, written?.value == record.value,
            MerkleVerification.verifyInclusion(
                leafIndex: record.commitTS - 1, treeSize: treeSize, leafHash: LeafEncoding.leafHash(event),
                proof: proof.hashes, root: self.head.head.rootHash)
        else {
            throw StatehouseError.dataCorruption(
                commitTS: record.commitTS,
                reason: "agent '\(record.agentID)' key '\(record.key)' does not check against the signed tree head")
        }
        return AuditBundle.WitnessLine(event: AuditBundle.EventLine(event), proof: proof.hashes.map(\.hex))
    }

    /// Every live key of `agent` at `point`, each proven.
    func proveState(
        agent: String, at point: ReadPoint
    ) async throws -> [(record: StateRecord, witness: AuditBundle.WitnessLine)] {
        let records = try await allPages {
            try await self.client.scan(namespace: self.namespace, agentID: agent, at: point, cursor: $0)
        }
        var entries: [(record: StateRecord, witness: AuditBundle.WitnessLine)] = []
        for record in records where record.value != nil { entries.append((record, try await self.prove(record))) }
        return entries
    }

    /// The JSON of proven entries: agent, key, version, commit_ts, value and `proven_by` (the event and its proof).
    static func json(_ entries: [(record: StateRecord, witness: AuditBundle.WitnessLine)]) -> JSONOutput {
        .array(
            entries.map { entry in
                let witness = String(decoding: AuditBundle.encode(entry.witness), as: UTF8.self)
                return .object([
                    ("agent_id", .string(entry.record.agentID)), ("key", .string(entry.record.key)),
                    ("version", .int(entry.record.version)), ("commit_ts", .int(entry.record.commitTS)),
                    ("value", .raw(entry.record.value?.text ?? "null")), ("proven_by", .raw(witness)),
                ])
            })
    }

    /// The signed head as JSON, as an audit bundle's manifest holds it.
    var headJSON: JSONOutput { .raw(String(decoding: AuditBundle.encode(AuditBundle.Head(self.head)), as: UTF8.self)) }
}
