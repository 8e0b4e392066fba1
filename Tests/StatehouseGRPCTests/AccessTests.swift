import Foundation
import GRPCCore
import GRPCInProcessTransport
import StatehouseAccess
import StatehouseCore
import StatehouseGRPC
import StatehouseModel
import StatehouseProto
import StatehouseSQLite
import StatehouseTesting
import SwiftProtobuf
import Testing

/// Every RPC of statehouse.v2 checks access: a token with grants elsewhere is refused on each one, so a handler that
/// forgets its check fails here (and a new RPC must be added to the list, which is compared with the service's).
@Suite("Access checks of every RPC", .timeLimit(.minutes(2)))
struct AccessTests {
    /// Serves both APIs with auth required; `body` gets a client, the admin token and a token with `other:admin`
    /// (grants on another namespace only).
    func withAuthService(
        _ body: @Sendable (Client, V1Client, _ admin: String, _ outsider: String) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .inMemory(), logger: testLogger)
            let engine = StatehouseEngine(backend: backend, logger: testLogger)
            var configuration = AccessControl.Configuration()
            configuration.authRequired = true
            configuration.bootstrapTokenPath = directory + "/admin.token"
            let access = AccessControl(engine: engine, configuration: configuration, logger: testLogger)
            let build = StatehouseGRPCService.BuildInfo(version: "1", gitSHA: "abc")
            let service = StatehouseGRPCService(engine: engine, build: build, access: access, logger: testLogger)
            let v1 = StatehouseV1CompatibilityService(engine: engine, build: build, access: access, logger: testLogger)
            let transport = InProcessTransport()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run() }
                try await access.start()
                let admin = try String(contentsOfFile: directory + "/admin.token", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
                let outsider = try await AccessScope.bound(root) {
                    try await access.createToken(
                        name: "outsider", grants: [try AccessGrant(parsing: "other:admin")], expiresAtMicros: nil,
                        certificateSubject: nil)
                }
                try await withGRPCServer(
                    transport: transport.server, services: [service, v1],
                    interceptors: [AccessInterceptor(access: access, certificateSubject: { _ in nil })]
                ) { _ in
                    try await withGRPCClient(transport: transport.client) { client in
                        try await body(Client(wrapping: client), V1Client(wrapping: client), admin, outsider.bearer!)
                    }
                }
                group.cancelAll()
            }
        }
    }

    @Test("a token without a grant on the namespace is refused by every RPC that touches it")
    func everyRPCChecks() async throws {
        try await self.withAuthService { client, v1, admin, outsider in
            let adminMetadata: Metadata = ["authorization": "Bearer \(admin)"]
            let metadata: Metadata = ["authorization": "Bearer \(outsider)"]
            // State in "secret", and a transaction the admin holds open there.
            _ = try await client.apply(putRequest("a", "k", "1", namespace: "secret"), metadata: adminMetadata)
            let txn = try await client.beginTransaction(.with { $0.namespace = "secret" }, metadata: adminMetadata)
                .txnID
            let ns = "secret"
            var checked: Set<String> = []
            func denied<T>(_ method: String, _ body: () async throws -> T) async {
                checked.insert(method)
                await expectCode(.permissionDenied) { try await body() }
            }
            await denied("BeginTransaction") {
                try await client.beginTransaction(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("Write") {
                try await client.write(
                    .with {
                        $0.txnID = txn
                        $0.agentID = "a"
                        $0.key = "k"
                        $0.value = Data("2".utf8)
                    }, metadata: metadata)
            }
            await denied("Delete") {
                try await client.delete(
                    .with {
                        $0.txnID = txn
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            await denied("TransactionGet") {
                try await client.transactionGet(
                    .with {
                        $0.txnID = txn
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            await denied("Commit") { try await client.commit(.with { $0.txnID = txn }, metadata: metadata) }
            await denied("Abort") { try await client.abort(.with { $0.txnID = txn }, metadata: metadata) }
            await denied("Apply") {
                try await client.apply(putRequest("a", "k", "2", namespace: ns), metadata: metadata)
            }
            await denied("GetState") {
                try await client.getState(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            await denied("GetStateAtVersion") {
                try await client.getStateAtVersion(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                        $0.version = 1
                    }, metadata: metadata)
            }
            await denied("GetMany") { try await client.getMany(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("ListKeys") {
                try await client.listKeys(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("ScanPrefix") {
                try await client.scanPrefix(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("History") {
                try await client.history(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            await denied("ListAgents") { try await client.listAgents(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("GetHead") { try await client.getHead(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("ReadLog") { try await client.readLog(.with { $0.filter.namespace = ns }, metadata: metadata) }
            await denied("Replay") {
                try await client.replay(.with { $0.filter.namespace = ns }, metadata: metadata) { response in
                    for try await _ in response.messages {}
                }
            }
            await denied("Watch") {
                try await client.watch(.with { $0.namespace = ns }, metadata: metadata) { response in
                    for try await _ in response.messages {}
                }
            }
            await denied("Verify") { try await client.verify(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("GetTreeHead") {
                try await client.getTreeHead(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("GetInclusionProof") {
                try await client.getInclusionProof(
                    .with {
                        $0.namespace = ns
                        $0.commitTs = 1
                    }, metadata: metadata)
            }
            await denied("GetConsistencyProof") {
                try await client.getConsistencyProof(
                    .with {
                        $0.namespace = ns
                        $0.oldSize = 1
                    }, metadata: metadata)
            }
            await denied("GetVerifiedState") {
                try await client.getVerifiedState(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            await denied("GetTreePrefix") {
                try await client.getTreePrefix(
                    .with {
                        $0.namespace = ns
                        $0.treeSize = 1
                    }, metadata: metadata)
            }
            await denied("GetAgent") {
                try await client.getAgent(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("ListAgentRecords") {
                try await client.listAgentRecords(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("UpdateAgent") {
                try await client.updateAgent(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.status = "x"
                    }, metadata: metadata)
            }
            await denied("DeleteAgent") {
                try await client.deleteAgent(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("CreateSnapshot") {
                try await client.createSnapshot(
                    .with {
                        $0.namespace = ns
                        $0.name = "s"
                    }, metadata: metadata)
            }
            await denied("GetSnapshot") {
                try await client.getSnapshot(
                    .with {
                        $0.namespace = ns
                        $0.name = "s"
                    }, metadata: metadata)
            }
            await denied("ListSnapshots") {
                try await client.listSnapshots(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("DeleteSnapshot") {
                try await client.deleteSnapshot(
                    .with {
                        $0.namespace = ns
                        $0.name = "s"
                    }, metadata: metadata)
            }
            await denied("RestoreSnapshot") {
                try await client.restoreSnapshot(
                    .with {
                        $0.namespace = ns
                        $0.name = "s"
                    }, metadata: metadata)
            }
            await denied("Fork") {
                // Readable source (its own namespace), but a target it may not write.
                try await client.fork(
                    .with {
                        $0.namespace = "other"
                        $0.agentID = "a"
                        $0.targetNamespace = ns
                        $0.targetAgentID = "b"
                    },
                    metadata: metadata)
            }
            await denied("Diff") {
                try await client.diff(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.from.commitTs = 1
                    }, metadata: metadata)
            }
            await denied("RecordEvents") {
                try await client.recordEvents(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("GetEvents") { try await client.getEvents(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("GetEvent") {
                try await client.getEvent(
                    .with {
                        $0.namespace = ns
                        $0.id = "e"
                    }, metadata: metadata)
            }
            await denied("StartSession") {
                try await client.startSession(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("EndSession") {
                try await client.endSession(
                    .with {
                        $0.namespace = ns
                        $0.id = "s"
                    }, metadata: metadata)
            }
            await denied("GetSession") {
                try await client.getSession(
                    .with {
                        $0.namespace = ns
                        $0.id = "s"
                    }, metadata: metadata)
            }
            await denied("ListSessions") {
                try await client.listSessions(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("CreateTask") {
                try await client.createTask(
                    .with {
                        $0.namespace = ns
                        $0.title = "t"
                    }, metadata: metadata)
            }
            await denied("UpdateTask") {
                try await client.updateTask(
                    .with {
                        $0.namespace = ns
                        $0.id = "t"
                    }, metadata: metadata)
            }
            await denied("GetTask") {
                try await client.getTask(
                    .with {
                        $0.namespace = ns
                        $0.id = "t"
                    }, metadata: metadata)
            }
            await denied("ListTasks") { try await client.listTasks(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("Search") {
                try await client.search(
                    .with {
                        $0.namespace = ns
                        $0.query = "x"
                    }, metadata: metadata)
            }
            await denied("Backup") {
                try await client.backup(.with { $0.destination = "/tmp/never-written" }, metadata: metadata)
            }
            await denied("SetRetention") {
                try await client.setRetention(
                    .with {
                        $0.namespace = ns
                        $0.keepVersions = 1
                    }, metadata: metadata)
            }
            await denied("GetRetention") {
                try await client.getRetention(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("Compact") { try await client.compact(.with { $0.namespace = ns }, metadata: metadata) }
            await denied("ImportLog") {
                try await client.importLog(metadata: metadata) { writer in
                    try await writer.write(
                        .with {
                            $0.namespace = ns
                            $0.sourceNamespace = "x"
                        })
                }
            }
            await denied("CreateToken") {
                try await client.createToken(
                    .with {
                        $0.grants = [
                            .with {
                                $0.namespacePattern = ns
                                $0.role = "read"
                            }
                        ]
                    }, metadata: metadata)
            }
            await denied("RevokeToken") {
                try await client.revokeToken(.with { $0.id = String(admin.prefix(20)) }, metadata: metadata)
            }
            let draft = Statehouse_V2_ProvenanceDraft.with {
                $0.kind = "tool"
                $0.payload = Data(#"{"name":"search"}"#.utf8)
            }
            await denied("RecordProvenance") {
                try await client.recordProvenance(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.records = [draft]
                    }, metadata: metadata)
            }
            await denied("GetProvenance") {
                try await client.getProvenance(
                    .with {
                        $0.namespace = ns
                        $0.kind = "tool"
                        $0.id = "x"
                    }, metadata: metadata)
            }
            await denied("ListProvenance") {
                try await client.listProvenance(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("ProvenanceAt") {
                try await client.provenanceAt(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("StartRun") {
                try await client.startRun(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.provenance = [draft]
                    }, metadata: metadata)
            }
            await denied("EndRun") {
                try await client.endRun(
                    .with {
                        $0.namespace = ns
                        $0.id = "r"
                    }, metadata: metadata)
            }
            await denied("Advise") {
                try await client.advise(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                    }, metadata: metadata)
            }
            await denied("GetReplayPlan") {
                try await client.getReplayPlan(
                    .with {
                        $0.namespace = ns
                        $0.runID = "r"
                    }, metadata: metadata)
            }
            await denied("StatArtifact") {
                try await client.statArtifact(
                    .with {
                        $0.namespace = ns
                        $0.sha256 = String(repeating: "a", count: 64)
                    }, metadata: metadata)
            }
            await denied("GetArtifact") {
                try await client.getArtifact(
                    .with {
                        $0.namespace = ns
                        $0.sha256 = String(repeating: "a", count: 64)
                    }, metadata: metadata
                ) { response in for try await _ in response.messages {} }
            }
            await denied("PutArtifact") {
                try await client.putArtifact(metadata: metadata) { writer in
                    try await writer.write(
                        .with {
                            $0.namespace = ns
                            $0.data = Data("x".utf8)
                        })
                }
            }
            await denied("CollectArtifacts") {
                try await client.collectArtifacts(.with { $0.namespace = ns }, metadata: metadata)
            }
            await denied("GetRun") {
                try await client.getRun(
                    .with {
                        $0.namespace = ns
                        $0.id = "r"
                    }, metadata: metadata)
            }
            // A session answers each request with the status a unary call would have had.
            checked.insert("Session")
            let failures = try await client.session(metadata: metadata) { writer in
                try await writer.write(
                    .with {
                        $0.requestID = 1
                        $0.get = .with {
                            $0.namespace = ns
                            $0.agentID = "a"
                            $0.key = "k"
                        }
                    })
                try await writer.write(
                    .with {
                        $0.requestID = 2
                        $0.apply = putRequest("a", "k", "3", namespace: ns)
                    })
            } onResponse: { response in
                var codes: [Int32] = []
                for try await message in response.messages { codes.append(message.error.code) }
                return codes
            }
            #expect(
                failures == [
                    Int32(RPCError.Code.permissionDenied.rawValue), Int32(RPCError.Code.permissionDenied.rawValue),
                ])
            // What stays open to the outsider: liveness, version, who it is, listings filtered, its own tokens.
            let open: Set<String> = ["Health", "Version", "WhoAmI", "ListNamespaces", "GetSigningKey", "ListTokens"]
            _ = try await client.health(.init(), metadata: metadata)
            _ = try await client.version(.init(), metadata: metadata)
            #expect(try await client.whoAmI(.init(), metadata: metadata).principalID.hasPrefix("tok_"))
            #expect(try await client.listNamespaces(.init(), metadata: metadata).namespaces.isEmpty)
            _ = try await client.getSigningKey(.init(), metadata: metadata)
            #expect(try await client.listTokens(.init(), metadata: metadata).tokens.map(\.name) == ["outsider"])
            let all = Set(Statehouse_V2_StatehouseService.Method.descriptors.map(\.method))
            #expect(checked.union(open) == all, "RPCs missing from this test: \(all.subtracting(checked.union(open)))")
            // Nothing changed in "secret": one commit, the admin's.
            #expect(try await client.getHead(.with { $0.namespace = ns }, metadata: adminMetadata).commitTs == 1)

            // The original API checks the same grants.
            await expectCode(.permissionDenied) {
                try await v1.getState(
                    .with {
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                    }, metadata: metadata)
            }
            let v1Txn = try await v1.beginTransaction(.init(), metadata: metadata).txnID
            await expectCode(.permissionDenied) {
                try await v1.write(
                    .with {
                        $0.txnID = v1Txn
                        $0.namespace = ns
                        $0.agentID = "a"
                        $0.key = "k"
                        $0.value = .init()
                    },
                    metadata: metadata)
            }
        }
    }

    @Test("calls without valid credentials are UNAUTHENTICATED; health and version answer anyone")
    func unauthenticated() async throws {
        try await self.withAuthService { client, _, admin, _ in
            // The admin token with its last character changed (to another one: a token may end in "A" already).
            let altered = admin.dropLast() + (admin.last == "A" ? "B" : "A")
            for metadata: Metadata in [
                [:], ["authorization": "Basic x"], ["authorization": "Bearer garbage"],
                ["authorization": "Bearer \(altered)"],
            ] {
                await expectCode(.unauthenticated) {
                    try await client.getState(
                        .with {
                            $0.agentID = "a"
                            $0.key = "k"
                        }, metadata: metadata)
                }
            }
            _ = try await client.health(.init())
            _ = try await client.version(.init())
        }
    }
}
