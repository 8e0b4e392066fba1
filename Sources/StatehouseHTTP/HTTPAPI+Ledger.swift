import Hummingbird
import StatehouseCore
import StatehouseModel

/// Verification and the Merkle tree: verify a range of the chain, the signed tree head, inclusion and consistency
/// proofs (docs/architecture.md, "Merkle tree" and "Proofs", for how a client checks them).
extension HTTPAPI {
    var ledgerRoutes: [HTTPRoute] {
        [
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/verify", operationID: "verify",
                summary:
                    "Recomputes the hash chain over from..to (and from commit_ts 1 the Merkle tree) and reports the "
                    + "first commit that does not match; ok false is still a 200.",
                query: ["from", "to"],
                answers: [
                    .init(status: 200, description: "The report.", content: .schema("Verification")),
                    .init(status: 404, description: "The namespace has no commits.", content: .schema("Problem")),
                ]
            ) { _, _, input in
                let report = try await self.engine.verify(
                    namespace: try input.path("namespace"), from: try input.uint64("from") ?? 1,
                    to: try input.uint64("to"))
                return HTTPResponses.json(ModelJSON.verification(report))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/tree-head", operationID: "treeHead",
                summary: "The signed head of the namespace's Merkle tree, now or at an earlier size.",
                query: ["size"],
                answers: [.init(status: 200, description: "The signed head.", content: .schema("SignedTreeHead"))]
            ) { _, _, input in
                let head = try await self.engine.signedTreeHead(
                    namespace: try input.path("namespace"), size: try input.uint64("size"))
                return HTTPResponses.json(Self.signedHead(head))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/proofs/inclusion", operationID: "inclusionProof",
                summary: "The audit path of one commit's leaf in the tree of a size (default: the current one).",
                query: ["commit_ts", "size"],
                answers: [.init(status: 200, description: "The proof.", content: .schema("InclusionProof"))]
            ) { _, _, input in
                guard let commitTS = try input.uint64("commit_ts") else {
                    throw HTTPProblem.badRequest("commit_ts is required")
                }
                let proof = try await self.engine.inclusionProof(
                    namespace: try input.path("namespace"), commitTS: commitTS, treeSize: try input.uint64("size"))
                return HTTPResponses.json(
                    .object([
                        ("namespace", .string(proof.namespace)), ("commit_ts", .int(proof.commitTS)),
                        ("tree_size", .int(proof.treeSize)), ("hashes", .array(proof.hashes.map { .string($0.hex) })),
                    ]))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/proofs/consistency", operationID: "consistencyProof",
                summary: "The proof that the tree of from_size is a prefix of the tree of to_size (default: now).",
                query: ["from_size", "to_size"],
                answers: [.init(status: 200, description: "The proof.", content: .schema("ConsistencyProof"))]
            ) { _, _, input in
                guard let oldSize = try input.uint64("from_size") else {
                    throw HTTPProblem.badRequest("from_size is required")
                }
                let proof = try await self.engine.consistencyProof(
                    namespace: try input.path("namespace"), oldSize: oldSize, newSize: try input.uint64("to_size"))
                return HTTPResponses.json(
                    .object([
                        ("namespace", .string(proof.namespace)), ("from_size", .int(proof.oldSize)),
                        ("to_size", .int(proof.newSize)), ("hashes", .array(proof.hashes.map { .string($0.hex) })),
                    ]))
            },
        ]
    }

    /// A signed head with the members and encodings of an audit bundle's head (hex hashes and signature).
    static func signedHead(_ head: SignedTreeHead) -> JSONOutput {
        .object([
            ("key_id", .string(head.keyID)), ("namespace", .string(head.head.namespace)),
            ("root_hash", .string(head.head.rootHash.hex)), ("signature", .string(EventHash.hex(head.signature))),
            ("timestamp_micros", .int(head.timestamp)), ("tree_size", .int(head.head.treeSize)),
        ])
    }
}
