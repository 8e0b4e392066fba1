public import GRPCCore
public import Logging
public import StatehouseAccess
public import StatehouseCore
import StatehouseProto
import StatehouseWire
import SwiftProtobuf

/// The original Statehouse API (`statehouse.v1.StatehouseService`), translated onto the same engine as
/// ``StatehouseGRPCService`` (`statehouse.v2`), so that clients written for the original daemon work unchanged.
///
/// Register both on one server; they share the port, the engine and its guarantees (durability, the hash chain,
/// exactly-once commits of the v2 API). The translation follows what the original documents (proto comments and
/// docs/compatibility.md): values are `google.protobuf.Struct` (JSON objects), a transaction's namespace is that of
/// its first write, a second commit of a committed transaction is FAILED_PRECONDITION, an expired transaction is
/// DEADLINE_EXCEEDED, a version that does not exist is NOT_FOUND.
///
/// ```swift
/// let server = GRPCServer(transport: transport, services: [
///     StatehouseGRPCService(engine: engine, build: build, logger: logger),
///     StatehouseV1CompatibilityService(engine: engine, build: build, logger: logger),
/// ])
/// ```
public struct StatehouseV1CompatibilityService: RegistrableRPCService {
    let implementation: V1ServiceImplementation

    /// - Parameters:
    ///   - engine: the engine to serve; it must be running.
    ///   - build: reported by the `Version` RPC.
    ///   - logger: receives replay start and end at info level.
    ///   - access: who may do what; the default lets every client do everything (a daemon without auth).
    public init(
        engine: StatehouseEngine, build: StatehouseGRPCService.BuildInfo, access: AccessControl? = nil, logger: Logger
    ) {
        self.implementation = V1ServiceImplementation(
            engine: engine, access: access ?? AccessControl(engine: engine, configuration: .init(), logger: logger),
            build: build, logger: logger)
    }

    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        self.implementation.registerMethods(with: &router)
    }
}

/// The generated v1 protocol's implementation; internal so that generated types stay out of the public API.
struct V1ServiceImplementation: Statehouse_V1_StatehouseService.SimpleServiceProtocol {
    let engine: StatehouseEngine
    let access: AccessControl
    let build: StatehouseGRPCService.BuildInfo
    let logger: Logger

    /// The most a reply carries: what a gRPC client receives by default (4 MiB). The original API cannot page, so an
    /// agent with more keys (or a value that large as a Struct) is told to use statehouse.v2, which does.
    static let maxListingBytes = 4 << 20

    var limits: EngineLimits { self.engine.configuration.limits }

    func health(
        request: Statehouse_V1_HealthRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_HealthResponse
    {
        await self.access.readyToServe()
        var response = Statehouse_V1_HealthResponse()
        response.status = "ok"
        return response
    }

    func version(
        request: Statehouse_V1_VersionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_VersionResponse
    {
        var response = Statehouse_V1_VersionResponse()
        response.version = self.build.version
        response.gitSha = self.build.gitSHA
        return response
    }

    // ---- transactions ----

    func beginTransaction(
        request: Statehouse_V1_BeginTransactionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_BeginTransactionResponse
    {
        try await self.translatingErrors {
            try self.access.authorizeAuthenticated()
            try self.access.quotas.checkOpenTransactions(namespace: "default")
            var timeout: Duration?
            if request.hasTimeoutMs {
                guard request.timeoutMs >= 1 else {
                    throw StatehouseError.invalidArgument("timeout_ms must be at least 1 (unset means 30,000)")
                }
                timeout = .milliseconds(Int64(clamping: request.timeoutMs))
            }
            let transaction = try self.engine.beginTransaction(namespace: nil, timeout: timeout)
            var response = Statehouse_V1_BeginTransactionResponse()
            response.txnID = transaction.txnID
            return response
        }
    }

    func write(request: Statehouse_V1_WriteRequest, context: ServerContext) async throws -> Statehouse_V1_WriteResponse
    {
        try await self.translatingErrors(txnID: request.txnID) {
            try self.authorizeTransaction(request.txnID, writingTo: request.namespace)
            guard request.hasValue else {
                throw StatehouseError.invalidArgument(
                    "Write needs a value (an empty Struct is the value {}); use Delete to remove a key"
                )
            }
            let value = try V1Values.json(request.value, key: request.key, limits: self.limits)
            try self.engine.put(
                txnID: request.txnID,
                namespace: Wire.namespace(request.namespace),
                agentID: request.agentID,
                key: request.key,
                value: value
            )
            return Statehouse_V1_WriteResponse()
        }
    }

    func delete(
        request: Statehouse_V1_DeleteRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_DeleteResponse
    {
        try await self.translatingErrors(txnID: request.txnID) {
            try self.authorizeTransaction(request.txnID, writingTo: request.namespace)
            try self.engine.delete(
                txnID: request.txnID,
                namespace: Wire.namespace(request.namespace),
                agentID: request.agentID,
                key: request.key
            )
            return Statehouse_V1_DeleteResponse()
        }
    }

    func commit(
        request: Statehouse_V1_CommitRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_CommitResponse
    {
        try await self.translatingErrors(txnID: request.txnID) {
            try self.authorizeTransaction(request.txnID, writingTo: nil)
            let before = self.engine.transactionStatus(request.txnID)
            if case .committed(let result) = before { throw Self.alreadyCommitted(request.txnID, result) }
            let result = try await self.engine.commit(txnID: request.txnID)
            // An id the table did not know can only commit as a retry found in storage: the original reports that.
            if before == .unknown { throw Self.alreadyCommitted(request.txnID, result) }
            var response = Statehouse_V1_CommitResponse()
            response.commitTs = result.commitTS
            return response
        }
    }

    func abort(request: Statehouse_V1_AbortRequest, context: ServerContext) async throws -> Statehouse_V1_AbortResponse
    {
        try await self.translatingErrors(txnID: request.txnID) {
            try self.authorizeTransaction(request.txnID, writingTo: nil)
            switch self.engine.transactionStatus(request.txnID) {
            case .committed(let result):
                throw Self.alreadyCommitted(request.txnID, result)
            case .open:
                do {
                    try self.engine.abort(txnID: request.txnID)
                } catch StatehouseError.transactionExpired, StatehouseError.transactionNotFound {
                    // It expired (or finished) since the status was read: aborting it is a no-op, as documented.
                    if case .committed(let result) = self.engine.transactionStatus(request.txnID) {
                        throw Self.alreadyCommitted(request.txnID, result)
                    }
                } catch StatehouseError.invalidArgument {
                    // A commit of it is under way: too late to abort, as for a committed one.
                    throw RPCError(
                        code: .failedPrecondition,
                        message: "transaction \(request.txnID) is being committed and can no longer be aborted"
                    )
                }
            case .aborted, .expired, .failed, .unknown:
                break  // "Idempotent (aborting twice is safe)"
            }
            return Statehouse_V1_AbortResponse()
        }
    }

    static func alreadyCommitted(_ txnID: String, _ result: CommitResult) -> RPCError {
        RPCError(
            code: .failedPrecondition,
            message: "transaction \(txnID) is already committed (commit_ts \(result.commitTS) in namespace "
                + "'\(result.namespace)')"
        )
    }

    // ---- reads ----

    func getState(
        request: Statehouse_V1_GetStateRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_GetStateResponse
    {
        try await self.translatingErrors {
            try self.access.authorize(.readState, namespace: Wire.namespace(request.namespace))
            let record = try await self.engine.get(
                namespace: Wire.namespace(request.namespace),
                agentID: request.agentID,
                key: request.key
            )
            return try self.stateReply(record)
        }
    }

    func getStateAtVersion(
        request: Statehouse_V1_GetStateAtVersionRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_GetStateAtVersionResponse
    {
        try await self.translatingErrors {
            try self.access.authorize(.readState, namespace: Wire.namespace(request.namespace))
            let namespace = Wire.namespace(request.namespace)
            let latest = try await self.engine.get(namespace: namespace, agentID: request.agentID, key: request.key)
            guard request.version >= 1, request.version <= latest.version else {
                throw RPCError(
                    code: .notFound,
                    message: "version \(request.version) of agent '\(request.agentID)' key '\(request.key)' does not "
                        + "exist (its versions are 1 to \(latest.version))"
                )
            }
            let record = try await self.engine.get(
                namespace: namespace,
                agentID: request.agentID,
                key: request.key,
                at: .version(request.version)
            )
            return try self.stateReply(record)
        }
    }

    func listKeys(
        request: Statehouse_V1_ListKeysRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_ListKeysResponse
    {
        try await self.translatingErrors {
            try self.access.authorize(.readState, namespace: Wire.namespace(request.namespace))
            let namespace = Wire.namespace(request.namespace)
            var response = Statehouse_V1_ListKeysResponse()
            var bytes = 0
            var cursor: String?
            repeat {
                try Task.checkCancellation()
                let page = try await self.engine.listKeys(
                    namespace: namespace,
                    agentID: request.agentID,
                    limit: self.limits.maxPageSize,
                    cursor: cursor
                )
                for entry in page.items {
                    bytes += entry.key.utf8.count + 6  // tag and length prefix: at most 6 bytes
                    try self.checkListingSize(bytes, agentID: request.agentID, rpc: "ListKeys")
                    response.keys.append(entry.key)
                }
                cursor = page.nextCursor
            } while cursor != nil
            return response
        }
    }

    func scanPrefix(
        request: Statehouse_V1_ScanPrefixRequest, context: ServerContext
    ) async throws
        -> Statehouse_V1_ScanPrefixResponse
    {
        try await self.translatingErrors {
            try self.access.authorize(.readState, namespace: Wire.namespace(request.namespace))
            let namespace = Wire.namespace(request.namespace)
            // One snapshot for every page, so that the listing is consistent however many pages it takes.
            let head = try await self.engine.head(namespace: namespace)
            var response = Statehouse_V1_ScanPrefixResponse()
            var bytes = 0
            var cursor: String?
            repeat {
                try Task.checkCancellation()
                let page = try await self.engine.scan(
                    namespace: namespace,
                    agentID: request.agentID,
                    prefix: request.prefix,
                    at: .commit(head.commitTS),
                    limit: self.limits.maxPageSize,
                    cursor: cursor
                )
                for record in page.items {
                    guard let value = record.value else { continue }
                    var entry = Statehouse_V1_StateEntry()
                    entry.key = record.key
                    entry.value = try self.structValue(value, of: record)
                    entry.version = record.version
                    entry.commitTs = record.commitTS
                    // The Struct's encoding, not the JSON's: numbers take 9 bytes or more as doubles.
                    bytes += try Self.encodedSize(entry) + 6
                    try self.checkListingSize(bytes, agentID: request.agentID, rpc: "ScanPrefix")
                    response.entries.append(entry)
                }
                cursor = page.nextCursor
            } while cursor != nil
            return response
        }
    }

    // ---- replay ----

    func replay(
        request: Statehouse_V1_ReplayRequest,
        response: RPCWriter<Statehouse_V1_ReplayEvent>,
        context: ServerContext
    ) async throws {
        try await self.translatingErrors {
            try self.access.authorize(.readLog, namespace: Wire.namespace(request.namespace))
            guard !request.agentID.isEmpty else {
                throw StatehouseError.invalidArgument("Replay needs an agent_id (the original API replays one agent)")
            }
            if request.hasStartTs, request.hasEndTs, request.startTs > request.endTs {
                throw StatehouseError.invalidArgument(
                    "start_ts \(request.startTs) is after end_ts \(request.endTs); both are inclusive"
                )
            }
            let namespace = Wire.namespace(request.namespace)
            // "Until current state": the end of the log when the call begins, so that later commits are not mixed in.
            let end = request.hasEndTs ? request.endTs : try await self.engine.head(namespace: namespace).commitTS
            let filter = LogFilter(
                namespace: namespace,
                agentID: request.agentID,
                fromCommitTS: request.hasStartTs ? request.startTs : nil,
                toCommitTS: end
            )
            self.logger.info(
                "Replay started",
                metadata: [
                    "namespace": "\(namespace)", "agent.id": "\(request.agentID)", "api": "v1",
                    "rpc.peer": "\(context.remotePeer)",
                ])
            var events = 0
            if end >= (filter.fromCommitTS ?? 1) {
                for try await event in self.engine.log(filter) {
                    let message = try self.replayEvent(event)
                    let size = try Self.encodedSize(message)
                    guard size <= Self.maxListingBytes else {
                        throw RPCError(
                            code: .resourceExhausted,
                            message: "commit_ts \(event.commitTS) is \(size) bytes as a v1 ReplayEvent, more than one "
                                + "reply carries (\(Self.maxListingBytes >> 20) MiB); replay it through statehouse.v2"
                        )
                    }
                    try await response.write(message)
                    events += 1
                }
            }
            self.logger.info(
                "Replay finished",
                metadata: [
                    "namespace": "\(namespace)", "agent.id": "\(request.agentID)", "api": "v1", "events": "\(events)",
                ])
        }
    }

    func replayEvent(_ event: Event) throws -> Statehouse_V1_ReplayEvent {
        var message = Statehouse_V1_ReplayEvent()
        message.txnID = event.txnID
        message.commitTs = event.commitTS
        message.operations = try event.operations.map { operation in
            var proto = Statehouse_V1_Operation()
            proto.key = operation.key
            proto.version = operation.version
            if let value = operation.value, operation.kind == .put {
                proto.value = try V1Values.structValue(
                    value,
                    agentID: operation.agentID,
                    key: operation.key,
                    version: operation.version,
                    limits: self.limits
                )
            }
            return proto
        }
        return message
    }

    // ---- helpers ----

    /// GetState's and GetStateAtVersion's reply (two messages of the same shape): the Struct when the key holds a
    /// value, its version and commit_ts, and whether it exists.
    func stateReply<Reply: V1StateReply>(_ record: StateRecord) throws -> Reply {
        var reply = Reply()
        if let value = record.value, record.exists {
            reply.value = try self.structValue(value, of: record)
        }
        reply.version = record.version
        reply.commitTs = record.commitTS
        reply.exists = record.exists
        try Self.checkReplySize(try Self.encodedSize(reply), of: record)
        return reply
    }

    func structValue(_ value: JSONValue, of record: StateRecord) throws -> Google_Protobuf_Struct {
        try V1Values.structValue(
            value,
            agentID: record.agentID,
            key: record.key,
            version: record.version,
            limits: self.limits
        )
    }

    /// The size of a message as protobuf, which is what a client's 4 MiB receive limit counts.
    static func encodedSize(_ message: some SwiftProtobuf.Message) throws -> Int {
        let bytes: [UInt8] = try message.serializedBytes()
        return bytes.count
    }

    /// A value whose Struct is larger than a client receives by default is refused with the reason, rather than
    /// left to fail in the client as "message larger than max".
    static func checkReplySize(_ size: Int, of record: StateRecord) throws {
        guard size <= Self.maxListingBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message: "the value of agent '\(record.agentID)' key '\(record.key)' is \(size) bytes as a "
                    + "google.protobuf.Struct, more than one reply carries (\(Self.maxListingBytes >> 20) MiB); "
                    + "read it through statehouse.v2"
            )
        }
    }

    func checkListingSize(_ bytes: Int, agentID: String, rpc: String) throws {
        guard bytes <= Self.maxListingBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message:
                    "agent '\(agentID)' has more than one \(rpc) reply carries (\(Self.maxListingBytes >> 20) MiB); "
                    + "the original API cannot page: use statehouse.v2 \(rpc), which does"
            )
        }
    }

    /// Checks a request that names a transaction: the caller began it, and may commit in the namespace it writes to
    /// (`namespace`, the request's, for a write; the transaction's, or "default", otherwise).
    /// A transaction that is not open is checked against "default", where the original API commits one that bound no
    /// namespace.
    func authorizeTransaction(_ txnID: String, writingTo namespace: String?) throws {
        let transaction = self.engine.transactionAccess(txnID: txnID)
        try self.access.authorizeTransaction(
            txnID, transaction, writingTo: namespace.map(Wire.namespace) ?? (transaction == nil ? "default" : nil))
    }

    /// Runs a handler and reports a ``StatehouseModel/StatehouseError`` with the status the original API documents for
    /// it.
    func translatingErrors<T>(txnID: String? = nil, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StatehouseError {
            throw V1ErrorMapping.rpcError(error, txnStatus: txnID.map { self.engine.transactionStatus($0) })
        }
    }
}

/// The fields GetStateResponse and GetStateAtVersionResponse share, so that one function fills both.
protocol V1StateReply: SwiftProtobuf.Message {
    var value: Google_Protobuf_Struct { get set }
    var version: UInt64 { get set }
    var commitTs: UInt64 { get set }
    var exists: Bool { get set }
}

extension Statehouse_V1_GetStateResponse: V1StateReply {}
extension Statehouse_V1_GetStateAtVersionResponse: V1StateReply {}
