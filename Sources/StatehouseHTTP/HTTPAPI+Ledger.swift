import Hummingbird
import StatehouseAccess
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
                method: .get, path: "/v1/namespaces/{namespace}/agents/{agent}/keys/{key}/proof",
                operationID: "verifiedGet",
                summary:
                    "A key's record with what a client needs to check it: the event that wrote the version, its "
                    + "inclusion proof, the signed tree head and, from known_size, a consistency proof.",
                query: ["version", "at", "as_of", "known_size"],
                answers: [.init(status: 200, description: "The verified read.", content: .schema("VerifiedRead"))]
            ) { _, _, input in
                let address = try self.address(input)
                let read = try await self.engine.verifiedGet(
                    namespace: address.namespace, agentID: address.agentID, key: address.key,
                    at: try input.readPoint(), knownTreeSize: try input.uint64("known_size"))
                return HTTPResponses.json(
                    .object([
                        ("record", ModelJSON.record(read.record, namespace: address.namespace)),
                        ("event", read.event.map { ModelJSON.event($0) } ?? .null),
                        ("inclusion", read.proof.map(Self.inclusion) ?? .null),
                        ("head", Self.signedHead(read.head)),
                        ("consistency", read.consistency.map(Self.consistency) ?? .null),
                    ]))
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
                return HTTPResponses.json(Self.inclusion(proof))
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
                return HTTPResponses.json(Self.consistency(proof))
            },
            HTTPRoute(
                method: .get, path: "/v1/namespaces/{namespace}/retention", operationID: "getRetention",
                summary: "How long the namespace's old versions keep their values: its policy, the default or none.",
                answers: [.init(status: 200, description: "The policy in effect.", content: .schema("Retention"))]
            ) { _, _, input in
                HTTPResponses.json(
                    ModelJSON.retention(try await self.engine.retention(namespace: try input.path("namespace"))))
            },
            HTTPRoute(
                method: .put, path: "/v1/namespaces/{namespace}/retention", operationID: "setRetention",
                summary:
                    "Sets the namespace's retention (keep the newest keep_versions of each key, and every version "
                    + "younger than keep_for_seconds; 0 disables a rule), in one commit.",
                headers: ["Statehouse-Actor", "Statehouse-Reason"], body: .schema("RetentionRequest"),
                answers: [.init(status: 200, description: "The policy now in effect.", content: .schema("Retention"))]
            ) { request, _, input in
                let body = try await self.jsonBody(request, allowing: ["keep_versions", "keep_for_seconds"])
                let keepVersions = try body.uint64("keep_versions") ?? 0
                let keepFor = try body.uint64("keep_for_seconds") ?? 0
                guard keepVersions <= UInt64(RetentionPolicy.maxKeepVersions), keepFor <= UInt64(Int64.max / 1_000_000)
                else { throw HTTPProblem.badRequest("keep_versions or keep_for_seconds is too large") }
                let retention = try await self.engine.setRetention(
                    namespace: try input.path("namespace"),
                    policy: RetentionPolicy(keepVersions: Int(keepVersions), keepFor: .seconds(Int64(keepFor))),
                    metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.retention(retention))
            },
            HTTPRoute(
                method: .delete, path: "/v1/namespaces/{namespace}/retention", operationID: "clearRetention",
                summary: "Removes the namespace's own policy: the daemon's default applies again.",
                headers: ["Statehouse-Actor", "Statehouse-Reason"],
                answers: [.init(status: 200, description: "The policy now in effect.", content: .schema("Retention"))]
            ) { request, _, input in
                let retention = try await self.engine.setRetention(
                    namespace: try input.path("namespace"), policy: nil, metadata: self.metadata(request.headers))
                return HTTPResponses.json(ModelJSON.retention(retention))
            },
            HTTPRoute(
                method: .post, path: "/v1/namespaces/{namespace}/compact", operationID: "compact",
                summary:
                    "Removes the values the retention policy no longer keeps (events, digests and proofs stay); "
                    + "vacuum also shrinks the file.",
                query: ["vacuum"],
                answers: [.init(status: 200, description: "What was removed.", content: .schema("Compaction"))]
            ) { _, _, input in
                let namespace = try input.path("namespace")
                let vacuum = try input.bool("vacuum")
                let report = try await self.engine.compact(namespace: namespace, vacuum: vacuum)
                self.access.quotas.recountStoredBytes(namespace: namespace)
                await self.access.audit(action: "compact", namespace: namespace, details: [("vacuum", "\(vacuum)")])
                return HTTPResponses.json(ModelJSON.compaction(report))
            },
        ]
    }

    static func inclusion(_ proof: InclusionProof) -> JSONOutput {
        .object([
            ("namespace", .string(proof.namespace)), ("commit_ts", .int(proof.commitTS)),
            ("tree_size", .int(proof.treeSize)), ("hashes", .array(proof.hashes.map { .string($0.hex) })),
        ])
    }

    static func consistency(_ proof: ConsistencyProof) -> JSONOutput {
        .object([
            ("namespace", .string(proof.namespace)), ("from_size", .int(proof.oldSize)),
            ("to_size", .int(proof.newSize)), ("hashes", .array(proof.hashes.map { .string($0.hex) })),
        ])
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
