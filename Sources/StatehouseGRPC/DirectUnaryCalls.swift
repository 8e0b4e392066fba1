import CoreMetrics
public import GRPCCore
public import StatehouseAccess
import StatehouseModel
import StatehouseProto
import StatehouseWire
import SwiftProtobuf

/// The unary methods a transport may call directly, without grpc-swift's per-call machinery (a request and a response
/// async sequence, an RPC executor and the interceptor chain): what a unary call from grpcurl, another language or the
/// original API's three-call transaction costs most of (docs/benchmarks.md, "Where the cost of a call is").
///
/// Each method runs the same service implementation grpc-swift would, and around it what the daemon's interceptors do
/// (``AccessInterceptor``'s authentication and binding, ``RPCMetricsInterceptor``'s timer and error counter), and
/// maps a thrown error to a status as grpc-swift does (`RPCError` as is, ``RPCErrorConvertible`` through its code,
/// message and metadata, anything else as UNKNOWN), so that a client cannot tell which path answered. Requests are
/// decoded and responses encoded as `GRPCProtobuf`'s coders do, with their error messages.
///
/// The transport half is `UnaryFastPathHandler` in StatehouseServer; docs/architecture.md, "Unary calls", says which
/// calls take this path.
public struct DirectUnaryCalls: Sendable {
    /// One method: its descriptor and its body from request bytes to response bytes.
    public struct Method: Sendable {
        public let descriptor: MethodDescriptor
        let call: @Sendable (_ request: [UInt8], _ context: ServerContext) async throws -> [UInt8]
        /// Health and Version answer without credentials (``AccessInterceptor/isPublic(_:)``).
        let isPublic: Bool
    }

    private let methods: [String: Method]
    private let access: AccessControl?
    private let metrics: RPCMetricHandles?

    /// - Parameters:
    ///   - service: the `statehouse.v2` service the server registers.
    ///   - v1Service: the original API's service the server registers.
    ///   - authenticateWith: the access control to authenticate calls with, when the server installs
    ///     ``AccessInterceptor``; `nil` when it does not (auth off).
    ///   - recordMetrics: whether the server installs ``RPCMetricsInterceptor``.
    public init(
        service: StatehouseGRPCService, v1Service: StatehouseV1CompatibilityService,
        authenticateWith access: AccessControl?, recordMetrics: Bool
    ) {
        var methods: [String: Method] = [:]
        func add<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
            _ descriptor: MethodDescriptor,
            _ body: @escaping @Sendable (Request, ServerContext) async throws -> Response
        ) {
            let method = Method(
                descriptor: descriptor,
                call: { bytes, context in
                    try Self.encode(try await body(try Self.decode(bytes), context))
                },
                isPublic: AccessInterceptor.isPublic(descriptor))
            methods["/" + descriptor.fullyQualifiedMethod] = method
        }
        let v2 = service.implementation
        typealias V2 = Statehouse_V2_StatehouseService.Method
        add(V2.Health.descriptor, v2.health)
        add(V2.Version.descriptor, v2.version)
        add(V2.BeginTransaction.descriptor, v2.beginTransaction)
        add(V2.Write.descriptor, v2.write)
        add(V2.Delete.descriptor, v2.delete)
        add(V2.TransactionGet.descriptor, v2.transactionGet)
        add(V2.Commit.descriptor, v2.commit)
        add(V2.Abort.descriptor, v2.abort)
        add(V2.Apply.descriptor, v2.apply)
        add(V2.GetState.descriptor, v2.getState)
        add(V2.GetStateAtVersion.descriptor, v2.getStateAtVersion)
        add(V2.GetMany.descriptor, v2.getMany)
        add(V2.ListKeys.descriptor, v2.listKeys)
        add(V2.ScanPrefix.descriptor, v2.scanPrefix)
        // What agents, SDKs and the MCP server read and record besides state: history, the log and its proofs, agent
        // records, events, sessions, tasks, search, and who the caller is.
        add(V2.History.descriptor, v2.history)
        add(V2.ListAgents.descriptor, v2.listAgents)
        add(V2.ListNamespaces.descriptor, v2.listNamespaces)
        add(V2.GetHead.descriptor, v2.getHead)
        add(V2.ReadLog.descriptor, v2.readLog)
        add(V2.GetTreeHead.descriptor, v2.getTreeHead)
        add(V2.GetInclusionProof.descriptor, v2.getInclusionProof)
        add(V2.GetConsistencyProof.descriptor, v2.getConsistencyProof)
        add(V2.GetVerifiedState.descriptor, v2.getVerifiedState)
        add(V2.GetAgent.descriptor, v2.getAgent)
        add(V2.ListAgentRecords.descriptor, v2.listAgentRecords)
        add(V2.RecordEvents.descriptor, v2.recordEvents)
        add(V2.GetEvents.descriptor, v2.getEvents)
        add(V2.GetEvent.descriptor, v2.getEvent)
        add(V2.Search.descriptor, v2.search)
        add(V2.GetSession.descriptor, v2.getSession)
        add(V2.ListSessions.descriptor, v2.listSessions)
        add(V2.GetTask.descriptor, v2.getTask)
        add(V2.ListTasks.descriptor, v2.listTasks)
        add(V2.WhoAmI.descriptor, v2.whoAmI)
        let v1 = v1Service.implementation
        typealias V1 = Statehouse_V1_StatehouseService.Method
        add(V1.Health.descriptor, v1.health)
        add(V1.Version.descriptor, v1.version)
        add(V1.BeginTransaction.descriptor, v1.beginTransaction)
        add(V1.Write.descriptor, v1.write)
        add(V1.Delete.descriptor, v1.delete)
        add(V1.Commit.descriptor, v1.commit)
        add(V1.Abort.descriptor, v1.abort)
        add(V1.GetState.descriptor, v1.getState)
        add(V1.GetStateAtVersion.descriptor, v1.getStateAtVersion)
        add(V1.ListKeys.descriptor, v1.listKeys)
        add(V1.ScanPrefix.descriptor, v1.scanPrefix)
        self.init(methods: methods, authenticateWith: access, recordMetrics: recordMetrics)
    }

    /// A table of the given methods, keyed by `:path` (tests give it methods of their own).
    init(methods: [String: Method], authenticateWith access: AccessControl?, recordMetrics: Bool) {
        self.methods = methods
        self.access = access
        self.metrics = recordMetrics ? RPCMetricHandles() : nil
    }

    /// The method a request's `:path` names, if it is one of this table's.
    public func method(path: String) -> Method? {
        self.methods[path]
    }

    /// Runs `method` on one serialized request message: authenticates `authorization` and the client certificate's
    /// subject (when auth is on; `certificateSubject` is asked only then), runs the handler bound to the principal,
    /// records the metrics, and returns the serialized response or the error status with its trailing metadata.
    public func run(
        _ method: Method, request: [UInt8], authorization: String?,
        certificateSubject: @Sendable () -> String? = { nil }, context: ServerContext
    ) async -> Result<[UInt8], RPCError> {
        // In the order of the daemon's interceptors: access first (a call that fails authentication is not timed or
        // counted, as RPCMetricsInterceptor never sees it), then the metrics, then the handler.
        guard let access = self.access, !method.isPublic else {
            return await self.timed(method) { try await method.call(request, context) }
        }
        do {
            let principal = try await access.authenticate(
                authorization: authorization, certificateSubject: certificateSubject())
            return try await AccessInterceptor.Binding.principal(principal).run {
                await self.timed(method) { try await method.call(request, context) }
            }
        } catch {
            return .failure(Self.status(error))
        }
    }

    /// Runs `body` as ``RPCMetricsInterceptor`` times a call: its duration, and its status code when it fails.
    private func timed(
        _ method: Method, _ body: () async throws -> [UInt8]
    ) async -> Result<[UInt8], RPCError> {
        let started = ContinuousClock.now
        let result: Result<[UInt8], RPCError>
        do {
            result = .success(try await body())
        } catch {
            result = .failure(Self.status(error))
        }
        if case .failure(let error) = result {
            self.metrics?.record(method.descriptor.method, since: started, failure: error.code)
        } else {
            self.metrics?.record(method.descriptor.method, since: started, failure: nil)
        }
        return result
    }

    /// A thrown error as grpc-swift's executor turns it into a status.
    private static func status(_ error: any Error) -> RPCError {
        switch error {
        case let error as RPCError: error
        case let error as any RPCErrorConvertible: RPCError(error)
        default: RPCError(code: .unknown, message: "Service method threw an unknown error.", cause: error)
        }
    }

    private static func decode<Request: SwiftProtobuf.Message>(_ bytes: [UInt8]) throws -> Request {
        do {
            return try Request(serializedBytes: bytes)
        } catch {
            throw RPCError(
                code: .invalidArgument, message: "Can't deserialize to message of type \(Request.self).", cause: error)
        }
    }

    private static func encode<Response: SwiftProtobuf.Message>(_ response: Response) throws -> [UInt8] {
        do {
            return try response.serializedBytes()
        } catch {
            throw RPCError(
                code: .invalidArgument, message: "Can't serialize message of type \(Response.self).", cause: error)
        }
    }
}
