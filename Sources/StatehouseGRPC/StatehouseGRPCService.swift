import Foundation
public import GRPCCore
public import Logging
public import StatehouseAccess
public import StatehouseArtifacts
public import StatehouseCore
import StatehouseProto
import StatehouseWire

/// The Statehouse gRPC service (`statehouse.v2.StatehouseService`) over one ``StatehouseCore/StatehouseEngine``.
///
/// It validates transport-level input, calls the engine and lets ``StatehouseModel/StatehouseError`` map itself to a
/// status code; nothing else. Register it with a `GRPCServer`:
///
/// ```swift
/// let service = StatehouseGRPCService(engine: engine, build: .init(version: "0.1.0", gitSHA: "abc123"))
/// try await withGRPCServer(transport: transport, services: [service]) { server in ... }
/// ```
public struct StatehouseGRPCService: RegistrableRPCService {
    /// What `Version` reports.
    public struct BuildInfo: Sendable, Hashable {
        public var version: String
        public var gitSHA: String

        public init(version: String, gitSHA: String) {
            self.version = version
            self.gitSHA = gitSHA
        }
    }

    let implementation: ServiceImplementation

    /// Who may do what (tokens, grants, quotas).
    public var access: AccessControl { self.implementation.access }

    /// The open `Session` streams. Call ``SessionRegistry/endAll()`` when a graceful shutdown begins: sessions stay
    /// open as long as their clients want, and the server would otherwise wait for them.
    public var sessions: SessionRegistry { self.implementation.sessions }

    /// - Parameters:
    ///   - engine: the engine to serve; it must be running.
    ///   - build: reported by the `Version` RPC.
    ///   - maxSessionRequestsInFlight: requests of one session handled at once; more wait. The default is 256.
    ///   - access: who may do what; the default lets every client do everything (a daemon without auth).
    ///   - artifacts: the artifact store; `nil` (a daemon in memory) answers artifact calls with UNAVAILABLE.
    ///   - logger: receives replay and watch start/end at info level.
    public init(
        engine: StatehouseEngine,
        build: BuildInfo,
        maxSessionRequestsInFlight: Int = 256,
        access: AccessControl? = nil,
        artifacts: (any ArtifactStorage)? = nil,
        logger: Logger
    ) {
        self.implementation = ServiceImplementation(
            engine: engine,
            artifacts: artifacts,
            access: access ?? AccessControl(engine: engine, configuration: .init(), logger: logger),
            build: build,
            maxSessionRequestsInFlight: max(1, maxSessionRequestsInFlight),
            sessions: SessionRegistry(),
            logger: logger
        )
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        self.implementation.registerMethods(with: &router)
        self.implementation.registerEventStreams(with: &router)
        self.implementation.registerImportLog(with: &router)
    }
}

/// The generated protocol's implementation; internal so that generated types stay out of the public API.
struct ServiceImplementation: Statehouse_V2_StatehouseService.SimpleServiceProtocol {
    let engine: StatehouseEngine
    let artifacts: (any ArtifactStorage)?
    let access: AccessControl
    let build: StatehouseGRPCService.BuildInfo
    let maxSessionRequestsInFlight: Int
    let sessions: SessionRegistry
    let logger: Logger

    var limits: EngineLimits { self.engine.configuration.limits }

    func health(
        request: Statehouse_V2_HealthRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_HealthResponse
    {
        await self.access.readyToServe()
        var response = Statehouse_V2_HealthResponse()
        response.status = "ok"
        return response
    }

    func version(
        request: Statehouse_V2_VersionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_VersionResponse
    {
        var response = Statehouse_V2_VersionResponse()
        response.version = self.build.version
        response.gitSha = self.build.gitSHA
        return response
    }

    func beginTransaction(
        request: Statehouse_V2_BeginTransactionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_BeginTransactionResponse
    {
        try self.authorize(.commit, request.namespace)
        try self.access.quotas.checkOpenTransactions(namespace: Wire.namespace(request.namespace))
        let timeout: Duration? = request.timeoutMs == 0 ? nil : .milliseconds(Int64(clamping: request.timeoutMs))
        let transaction = try self.engine.beginTransaction(
            namespace: Wire.namespace(request.namespace),
            timeout: timeout
        )
        var response = Statehouse_V2_BeginTransactionResponse()
        response.txnID = transaction.txnID
        response.namespace = transaction.namespace ?? "default"
        response.timeoutMs = UInt64(max(0, transaction.timeout.nanoseconds / 1_000_000))
        return response
    }

    func write(request: Statehouse_V2_WriteRequest, context: ServerContext) async throws -> Statehouse_V2_WriteResponse
    {
        try self.authorizeTransaction(request.txnID)
        let value = try Wire.value(request.value, limits: self.limits)
        try self.engine.put(
            txnID: request.txnID, agentID: request.agentID, key: request.key, value: value,
            expiresAt: request.hasExpiresAtMicros ? request.expiresAtMicros : nil)
        return Statehouse_V2_WriteResponse()
    }

    func delete(
        request: Statehouse_V2_DeleteRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_DeleteResponse
    {
        try self.authorizeTransaction(request.txnID)
        try self.engine.delete(txnID: request.txnID, agentID: request.agentID, key: request.key)
        return Statehouse_V2_DeleteResponse()
    }

    func transactionGet(
        request: Statehouse_V2_TransactionGetRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_GetStateResponse
    {
        try self.authorizeTransaction(request.txnID)
        let record = try await self.engine.get(txnID: request.txnID, agentID: request.agentID, key: request.key)
        return Self.response(record)
    }

    func commit(
        request: Statehouse_V2_CommitRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_CommitResponse
    {
        if request.begunByClient {
            try self.authorize(.commit, request.namespace)
        } else {
            try self.authorizeTransaction(request.txnID)
        }
        let metadata = request.hasMetadata ? Wire.metadata(request.metadata) : nil
        guard request.operations.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "commit stages \(request.operations.count) operations; the limit is "
                    + "\(self.limits.maxOperationsPerTransaction)"
            )
        }
        let staging = try request.operations.map { try Wire.operation($0, limits: self.limits) }
        let conditions = try request.conditions.map(Wire.condition)
        if request.begunByClient {
            let commit = AtomicCommit(
                namespace: Wire.namespace(request.namespace),
                operations: staging,
                conditions: conditions,
                metadata: metadata ?? CommitMetadata()
            )
            return Wire.proto(try await self.engine.commit(clientTransactionID: request.txnID, commit))
        }
        return Wire.proto(
            try await self.engine.commit(
                txnID: request.txnID,
                staging: staging,
                conditions: conditions,
                metadata: metadata
            )
        )
    }

    func abort(request: Statehouse_V2_AbortRequest, context: ServerContext) async throws -> Statehouse_V2_AbortResponse
    {
        try self.authorizeTransaction(request.txnID)
        try self.engine.abort(txnID: request.txnID)
        return Statehouse_V2_AbortResponse()
    }

    func apply(request: Statehouse_V2_ApplyRequest, context: ServerContext) async throws -> Statehouse_V2_CommitResponse
    {
        try self.authorize(.commit, request.namespace)
        guard request.operations.count <= self.limits.maxOperationsPerTransaction else {
            throw StatehouseError.invalidArgument(
                "transaction has \(request.operations.count) operations; the limit is "
                    + "\(self.limits.maxOperationsPerTransaction)"
            )
        }
        let commit = AtomicCommit(
            namespace: Wire.namespace(request.namespace),
            operations: try request.operations.map { try Wire.operation($0, limits: self.limits) },
            conditions: try request.conditions.map(Wire.condition),
            idempotencyKey: request.idempotencyKey.isEmpty ? nil : request.idempotencyKey,
            metadata: request.hasMetadata ? Wire.metadata(request.metadata) : CommitMetadata(),
            events: try request.events.map { try Wire.eventDraft($0, limits: self.limits) }
        )
        return Wire.proto(try await self.engine.commit(commit))
    }

    func getState(
        request: Statehouse_V2_GetStateRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_GetStateResponse
    {
        try self.authorize(.readState, request.namespace)
        let record = try await self.engine.get(
            namespace: Wire.namespace(request.namespace),
            agentID: request.agentID,
            key: request.key,
            at: Wire.readPoint(request.hasAt ? request.at : nil)
        )
        return Self.response(record)
    }

    func getStateAtVersion(
        request: Statehouse_V2_GetStateAtVersionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_GetStateResponse
    {
        try self.authorize(.readState, request.namespace)
        let record = try await self.engine.get(
            namespace: Wire.namespace(request.namespace),
            agentID: request.agentID,
            key: request.key,
            at: .version(request.version)
        )
        return Self.response(record)
    }

    func getMany(
        request: Statehouse_V2_GetManyRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_GetManyResponse
    {
        try self.authorize(.readState, request.namespace)
        let records = try await self.engine.get(
            namespace: Wire.namespace(request.namespace),
            keys: request.keys.map { KeyAddress(agentID: $0.agentID, key: $0.key) },
            at: Wire.readPoint(request.hasAt ? request.at : nil)
        )
        var response = Statehouse_V2_GetManyResponse()
        response.records = records.map(Wire.proto)
        return response
    }

    func listKeys(
        request: Statehouse_V2_ListKeysRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_ListKeysResponse
    {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listKeys(
            namespace: Wire.namespace(request.namespace),
            agentID: request.agentID,
            prefix: request.prefix,
            includeDeleted: request.includeDeleted,
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor)
        )
        var response = Statehouse_V2_ListKeysResponse()
        response.keys = page.items.map { entry in
            var proto = Statehouse_V2_KeyEntry()
            proto.key = entry.key
            proto.version = entry.version
            proto.deleted = entry.deleted
            return proto
        }
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func scanPrefix(
        request: Statehouse_V2_ScanPrefixRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_ScanPrefixResponse
    {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.scan(
            namespace: Wire.namespace(request.namespace),
            agentID: request.agentID,
            prefix: request.prefix,
            at: Wire.readPoint(request.hasAt ? request.at : nil),
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor),
            startAfter: request.startAfter.isEmpty ? nil : request.startAfter
        )
        var response = Statehouse_V2_ScanPrefixResponse()
        response.records = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func history(
        request: Statehouse_V2_HistoryRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_HistoryResponse
    {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.history(
            namespace: Wire.namespace(request.namespace),
            agentID: request.agentID,
            key: request.key,
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor)
        )
        var response = Statehouse_V2_HistoryResponse()
        response.versions = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        if request.withMetadata {
            response.metadata = try await self.engine.commitMetadata(
                namespace: Wire.namespace(request.namespace), of: page.items
            ).map(Wire.proto)
        }
        return response
    }

    func listAgents(
        request: Statehouse_V2_ListAgentsRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_ListAgentsResponse
    {
        try self.authorize(.readState, request.namespace)
        let page = try await self.engine.listAgents(
            namespace: Wire.namespace(request.namespace),
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor),
            includeReserved: request.includeReserved
        )
        var response = Statehouse_V2_ListAgentsResponse()
        response.agentIds = page.items
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func listNamespaces(
        request: Statehouse_V2_ListNamespacesRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_ListNamespacesResponse
    {
        let page = try await self.engine.listNamespaces(
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor)
        )
        var response = Statehouse_V2_ListNamespacesResponse()
        // Only the namespaces the caller may read: no one learns a namespace exists without a grant on it.
        let readable = Set(try self.access.readable(page.items.map(\.namespace)))
        response.namespaces = page.items.filter { readable.contains($0.namespace) }.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func getHead(request: Statehouse_V2_GetHeadRequest, context: ServerContext) async throws -> Statehouse_V2_LogHead {
        try self.authorize(.readState, request.namespace)
        return Wire.proto(try await self.engine.head(namespace: Wire.namespace(request.namespace)))
    }

    func readLog(
        request: Statehouse_V2_ReadLogRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_ReadLogResponse
    {
        try self.access.authorize(.readLog, namespace: Wire.filter(request.filter).namespace)
        let page = try await self.engine.readLog(
            Wire.filter(request.filter),
            limit: Wire.limit(request.limit),
            cursor: Wire.cursor(request.cursor)
        )
        var response = Statehouse_V2_ReadLogResponse()
        response.events = page.items.map(Wire.proto)
        response.nextCursor = page.nextCursor ?? ""
        return response
    }

    func verify(
        request: Statehouse_V2_VerifyRequest, context: ServerContext
    ) async throws
        -> Statehouse_V2_VerifyResponse
    {
        try self.authorize(.verify, request.namespace)
        let report = try await self.engine.verify(
            namespace: Wire.namespace(request.namespace),
            from: max(1, request.fromCommitTs),
            to: request.toCommitTs == 0 ? nil : request.toCommitTs
        )
        var response = Statehouse_V2_VerifyResponse()
        response.ok = report.isValid
        response.firstBadCommitTs = report.firstBadCommitTS ?? 0
        response.reason = report.reason ?? ""
        response.eventsChecked = UInt64(report.eventsChecked)
        response.eventsWithRemovedValues = UInt64(report.eventsWithRemovedValues)
        response.head = Wire.proto(report.head)
        response.fromCommitTs = report.fromCommitTS
        response.toCommitTs = report.toCommitTS
        return response
    }

    // MARK: Ledger

    func getSigningKey(
        request: Statehouse_V2_GetSigningKeyRequest, context: ServerContext
    ) async throws -> Statehouse_V2_SigningKey {
        try self.access.authorizeAuthenticated()
        let key = self.engine.ledgerPublicKey
        var response = Statehouse_V2_SigningKey()
        response.algorithm = "ed25519"
        response.publicKey = Data(key.rawRepresentation)
        response.keyID = key.keyID
        response.publicKeyPem = key.pem
        return response
    }

    func getTreeHead(
        request: Statehouse_V2_GetTreeHeadRequest, context: ServerContext
    ) async throws -> Statehouse_V2_SignedTreeHead {
        try self.authorize(.verify, request.namespace)
        return Wire.proto(
            try await self.engine.signedTreeHead(
                namespace: Wire.namespace(request.namespace), size: request.hasTreeSize ? request.treeSize : nil))
    }

    func getInclusionProof(
        request: Statehouse_V2_GetInclusionProofRequest, context: ServerContext
    ) async throws -> Statehouse_V2_InclusionProof {
        try self.authorize(.verify, request.namespace)
        return Wire.proto(
            try await self.engine.inclusionProof(
                namespace: Wire.namespace(request.namespace), commitTS: request.commitTs,
                treeSize: request.hasTreeSize ? request.treeSize : nil))
    }

    func getConsistencyProof(
        request: Statehouse_V2_GetConsistencyProofRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ConsistencyProof {
        try self.authorize(.verify, request.namespace)
        return Wire.proto(
            try await self.engine.consistencyProof(
                namespace: Wire.namespace(request.namespace), oldSize: request.oldSize,
                newSize: request.hasNewSize ? request.newSize : nil))
    }

    func getVerifiedState(
        request: Statehouse_V2_GetVerifiedStateRequest, context: ServerContext
    ) async throws -> Statehouse_V2_VerifiedState {
        try self.authorize(.verify, request.namespace)
        return Wire.proto(
            try await self.engine.verifiedGet(
                namespace: Wire.namespace(request.namespace), agentID: request.agentID, key: request.key,
                at: Wire.readPoint(request.hasAt ? request.at : nil),
                knownTreeSize: request.hasKnownTreeSize ? request.knownTreeSize : nil))
    }

    func getTreePrefix(
        request: Statehouse_V2_GetTreePrefixRequest, context: ServerContext
    ) async throws -> Statehouse_V2_TreePrefix {
        try self.authorize(.verify, request.namespace)
        let namespace = Wire.namespace(request.namespace)
        var response = Statehouse_V2_TreePrefix()
        response.namespace = namespace
        response.treeSize = request.treeSize
        response.hashes = try await self.engine.treePrefix(namespace: namespace, size: request.treeSize).map {
            Data($0.bytes)
        }
        return response
    }

    static func response(_ record: StateRecord) -> Statehouse_V2_GetStateResponse {
        var response = Statehouse_V2_GetStateResponse()
        response.record = Wire.proto(record)
        return response
    }
}
