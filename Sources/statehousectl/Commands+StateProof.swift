import ArgumentParser
import Foundation
import StatehouseClient
import StatehouseLedger
import StatehouseModel

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Every key of an agent (or of the namespace with --all) as it was at a point, with its proofs.",
        discussion: """
            Each key's value comes with the event that wrote it and that event's inclusion proof in the daemon's \\
            signed tree head, which the command checks (with --public-key, trusting that key) before printing. \\
            -o json prints the head, the public key and, per key, the event and proof, which is what a third \\
            party needs to check the state again.
            """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Agent id (omit with --all).") var agent: String?
    @Flag(help: "Every agent of the namespace.") var all = false
    @Option(help: "As of commit_ts S.") var at: UInt64?
    @Option(help: "As of a time (RFC 3339).") var asOf: String?
    @Option(help: "The ledger public key (PEM) to trust; without it, the key the daemon reports.") var publicKey:
        String?

    func run() async throws {
        guard (self.agent == nil) == self.all else { throw UsageError("name an agent, or use --all") }
        let point = try ReadPoint(at: self.at, asOf: self.asOf)
        let trusted = try self.publicKey.map(LedgerKeyCommand.readPublicKey)
        let namespace = self.global.namespaceName
        let format = try self.global.format
        let (host, port) = try self.global.endpoint()
        let result = try await withStatehouseClient(
            host: host, port: port, tls: try self.global.tls(), token: try self.global.token()
        ) { client in
            let key: LedgerPublicKey
            if let trusted { key = trusted } else { key = try await client.ledgerKey() }
            let head = try await client.treeHead(namespace: namespace)
            guard key.verify(head) else {
                throw StatehouseError.dataCorruption(
                    commitTS: head.head.treeSize,
                    reason: "the tree head's signature does not verify with the trusted key \(key.keyID)")
            }
            let agents: [String]
            if let agent = self.agent {
                agents = [agent]
            } else {
                agents = try await allPages {
                    try await client.listAgents(namespace: namespace, cursor: $0, includeReserved: true)
                }
            }
            var entries: [(record: StateRecord, witness: AuditBundle.WitnessLine)] = []
            for agent in agents {
                let records = try await allPages {
                    try await client.scan(namespace: namespace, agentID: agent, at: point, cursor: $0)
                }
                for record in records where record.value != nil {
                    let page = try await client.readLog(
                        LogFilter(namespace: namespace, fromCommitTS: record.commitTS, toCommitTS: record.commitTS),
                        limit: 1)
                    guard let event = page.items.first else {
                        throw StatehouseError.dataCorruption(commitTS: record.commitTS, reason: "event is missing")
                    }
                    let proof = try await client.inclusionProof(
                        namespace: namespace, commitTS: record.commitTS, treeSize: head.head.treeSize)
                    let written = event.operations.first { $0.agentID == agent && $0.key == record.key }
                    guard written?.version == record.version, written?.value == record.value,
                        MerkleVerification.verifyInclusion(
                            leafIndex: record.commitTS - 1, treeSize: head.head.treeSize,
                            leafHash: LeafEncoding.leafHash(event), proof: proof.hashes, root: head.head.rootHash)
                    else {
                        throw StatehouseError.dataCorruption(
                            commitTS: record.commitTS,
                            reason: "agent '\(agent)' key '\(record.key)' does not check against the signed tree head")
                    }
                    entries.append(
                        (
                            record,
                            AuditBundle.WitnessLine(event: AuditBundle.EventLine(event), proof: proof.hashes.map(\.hex))
                        ))
                }
            }
            return (key: key, head: head, entries: entries)
        }
        if format == .json {
            let head = String(decoding: AuditBundle.encode(AuditBundle.Head(result.head)), as: UTF8.self)
            emit(
                JSONOutput.object([
                    ("namespace", .string(namespace)), ("agent_id", self.agent.map { .string($0) } ?? .null),
                    ("at", self.at.map { .int($0) } ?? .null), ("as_of", self.asOf.map { .string($0) } ?? .null),
                    ("head", .raw(head)), ("public_key", .string(result.key.pem)),
                    (
                        "entries",
                        .array(
                            result.entries.map { entry in
                                let witness = String(decoding: AuditBundle.encode(entry.witness), as: UTF8.self)
                                return .object([
                                    ("agent_id", .string(entry.record.agentID)), ("key", .string(entry.record.key)),
                                    ("version", .int(entry.record.version)), ("commit_ts", .int(entry.record.commitTS)),
                                    ("value", .raw(entry.record.value?.text ?? "null")), ("proven_by", .raw(witness)),
                                ])
                            })
                    ),
                ]).text)
        } else {
            for entry in result.entries {
                emit(
                    "\(entry.record.agentID)\t\(entry.record.key)\tv\(entry.record.version)\t\(entry.record.value?.text ?? "")"
                )
            }
            Terminal.standardError.note(
                "\(result.entries.count) keys, each proven against the tree head of size \(result.head.head.treeSize) "
                    + "signed by key \(result.key.keyID)")
        }
    }
}
