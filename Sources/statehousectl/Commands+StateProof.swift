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
            let proofs = try await StateProofs.start(client: client, namespace: namespace, trusted: trusted)
            let agents: [String]
            if let agent = self.agent {
                agents = [agent]
            } else {
                agents = try await allPages {
                    try await client.listAgents(namespace: namespace, cursor: $0, includeReserved: true)
                }
            }
            var entries: [(record: StateRecord, witness: AuditBundle.WitnessLine)] = []
            for agent in agents { entries += try await proofs.proveState(agent: agent, at: point) }
            return (proofs: proofs, entries: entries)
        }
        if format == .json {
            emit(
                JSONOutput.object([
                    ("namespace", .string(namespace)), ("agent_id", self.agent.map { .string($0) } ?? .null),
                    ("at", self.at.map { .int($0) } ?? .null), ("as_of", self.asOf.map { .string($0) } ?? .null),
                    ("head", result.proofs.headJSON), ("public_key", .string(result.proofs.key.pem)),
                    ("entries", StateProofs.json(result.entries)),
                ]).text)
        } else {
            for entry in result.entries {
                emit(
                    "\(entry.record.agentID)\t\(entry.record.key)\tv\(entry.record.version)\t\(entry.record.value?.text ?? "")"
                )
            }
            Terminal.standardError.note(
                "\(result.entries.count) keys, each proven against the tree head of size "
                    + "\(result.proofs.head.head.treeSize) signed by key \(result.proofs.key.keyID)")
        }
    }
}
