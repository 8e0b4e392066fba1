import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2
import StatehouseModel
import StatehouseProto

/// The Swift client of `statehoused`: async/await, Statehouse types in and out, errors as
/// ``StatehouseModel/StatehouseError``.
///
/// Use it inside ``withStatehouseClient(host:port:_:)``, which connects and disconnects:
///
/// ```swift
/// try await withStatehouseClient(host: "127.0.0.1", port: 50051) { client in
///     let result = try await client.withTransaction { tx in
///         let plan = try await tx.get(agentID: "planner", key: "plan")
///         try await tx.put(agentID: "planner", key: "plan", value: try JSONValue(validating: #"{"step":2}"#))
///     }
///     print(result.commit.commitTS)
/// }
/// ```
public struct StatehouseClient: Sendable {
    /// The generated client over whichever transport the client was made with (HTTP/2 to a daemon, or in process).
    typealias Stub = any Statehouse_V2_StatehouseService.ClientProtocol

    let stub: Stub
    /// The same connection for the calls made without the generated client: replay and watch read their batches
    /// straight into events (``StatehouseWire/EventBatchDeserializer``).
    let streams: any StreamingCalls
    /// `host:port` of the daemon, for error messages.
    public let address: String
    /// The trusted ledger key and the heads verified reads have seen (shared by copies of this client).
    let ledger = VerifiedLedgerState()
    /// What every call sends as `authorization` (`Bearer TOKEN`); nil sends none.
    let authorization: String?

    init<Transport: ClientTransport>(client: GRPCClient<Transport>, address: String, token: String? = nil) {
        self.stub = Statehouse_V2_StatehouseService.Client(wrapping: client)
        self.streams = client
        self.address = address
        self.authorization = token.map { "Bearer " + $0 }
    }

    private init(copying client: StatehouseClient, authorization: String?) {
        self.stub = client.stub
        self.streams = client.streams
        self.address = client.address
        self.authorization = authorization
    }

    /// The same connection, sending `token` (`tok_….secret`, as `statehousectl token create` prints it) with every
    /// call; nil sends none. What a daemon with `--auth required` needs.
    public func withToken(_ token: String?) -> StatehouseClient {
        Self(copying: self, authorization: token.map { "Bearer " + $0 })
    }

    /// The same connection, sending an `authorization` value as is with every call (an MCP endpoint forwards its
    /// caller's); nil sends none.
    public func withAuthorization(_ authorization: String?) -> StatehouseClient {
        Self(copying: self, authorization: authorization)
    }

    /// Runs a call and maps its failure to ``StatehouseModel/StatehouseError``.
    func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await CallAuthorization.$value.withValue(self.authorization) { try await body() }
        } catch {
            throw ClientErrors.error(error, address: self.address)
        }
    }

    /// "ok" while the daemon serves.
    public func health() async throws -> String {
        try await self.call { try await self.stub.health(Statehouse_V2_HealthRequest()).status }
    }

    /// The daemon's version and git commit.
    public func version() async throws -> (version: String, gitSHA: String) {
        try await self.call {
            let response = try await self.stub.version(Statehouse_V2_VersionRequest())
            return (response.version, response.gitSha)
        }
    }
}

/// TLS to a daemon that serves it (`statehoused --tls-cert`): the CA that signed the daemon's certificate (default:
/// the system's roots) and, for a daemon that requires client certificates (`--tls-client-ca`), this client's
/// certificate and key. All are PEM file paths.
public struct StatehouseClientTLS: Sendable, Hashable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    var transportSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .tls(
            .defaults { config in
                if let caFile = self.caFile { config.trustRoots = .certificates([.file(path: caFile, format: .pem)]) }
                if let certificateFile = self.certificateFile, let keyFile = self.keyFile {
                    config.certificateChain = [.file(path: certificateFile, format: .pem)]
                    config.privateKey = .file(path: keyFile, format: .pem)
                }
            })
    }
}

/// Connects to `statehoused` at `host:port` (HTTP/2, plaintext or `tls`), runs `body`, and disconnects.
///
/// - Throws: what `body` throws; calls fail with ``StatehouseModel/StatehouseError/unavailable(_:)`` naming the address
///   when the daemon cannot be reached.
public func withStatehouseClient<Result: Sendable>(
    host: String = "127.0.0.1",
    port: Int = 50051,
    tls: StatehouseClientTLS? = nil,
    token: String? = nil,
    _ body: (StatehouseClient) async throws -> Result
) async throws -> Result {
    let address = HostAndPort(host: host, port: port)
    let target: any ResolvableTarget
    switch address.hostKind {
    case .ipv4: target = .ipv4(address: host, port: port)
    case .ipv6: target = .ipv6(address: host, port: port)
    // Resolved by the transport, which tries each address of the name (localhost: ::1 and 127.0.0.1).
    case .name: target = .dns(host: host, port: port)
    }
    let transport = try HTTP2ClientTransport.Posix(
        target: target,
        transportSecurity: tls?.transportSecurity ?? .plaintext,
        config: .defaults { $0.connection.maxIdleTime = nil }
    )
    return try await withGRPCClient(transport: transport, interceptors: [AuthorizationInterceptor()]) { grpcClient in
        try await body(
            StatehouseClient(
                client: grpcClient,
                address: address.description,
                token: token
            )
        )
    }
}

/// Runs `body` with a client over `transport`, which the client owns for the duration: any gRPC transport, such as
/// grpc-swift's in-process transport for a server in the same process (tests, embedding) or a configured HTTP/2
/// transport (TLS, other connection settings).
///
/// - Parameter address: how errors name the server, e.g. `in-process` or `HOST:PORT`.
public func withStatehouseClient<Transport: ClientTransport, Result: Sendable>(
    transport: Transport,
    address: String,
    _ body: (StatehouseClient) async throws -> Result
) async throws -> Result {
    try await withGRPCClient(transport: transport, interceptors: [AuthorizationInterceptor()]) { grpcClient in
        try await body(
            StatehouseClient(client: grpcClient, address: address)
        )
    }
}

/// Connects to `statehoused` at `address` (`HOST:PORT`, `[IPV6]:PORT`), runs `body`, and disconnects.
///
/// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for an address that does not parse; otherwise as
///   ``withStatehouseClient(host:port:_:)``.
public func withStatehouseClient<Result: Sendable>(
    address: String,
    _ body: (StatehouseClient) async throws -> Result
) async throws -> Result {
    let parsed = try HostAndPort(parsing: address)
    return try await withStatehouseClient(host: parsed.host, port: parsed.port, body)
}

/// Streaming calls with any serializers, as `GRPCClient` makes them: what the client uses for the methods whose
/// messages it encodes or decodes itself.
protocol StreamingCalls: Sendable {
    func clientStreaming<Request, Response, ReturnValue: Sendable>(
        request: StreamingClientRequest<Request>,
        descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>,
        deserializer: some MessageDeserializer<Response>,
        options: CallOptions,
        onResponse handleResponse:
            @Sendable @escaping (_ response: ClientResponse<Response>) async throws
            -> ReturnValue
    ) async throws -> ReturnValue

    func serverStreaming<Request, Response, ReturnValue: Sendable>(
        request: ClientRequest<Request>,
        descriptor: MethodDescriptor,
        serializer: some MessageSerializer<Request>,
        deserializer: some MessageDeserializer<Response>,
        options: CallOptions,
        onResponse handleResponse:
            @Sendable @escaping (_ response: StreamingClientResponse<Response>) async throws
            -> ReturnValue
    ) async throws -> ReturnValue
}

extension GRPCClient: StreamingCalls {}
