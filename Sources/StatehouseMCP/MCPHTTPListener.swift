import Foundation
public import Logging
public import MCP
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves MCP's Streamable HTTP transport at `/mcp` over HTTP/1.1 (NIO), one MCP session per client.
///
/// A POST of `initialize` without a session id starts a session: a new ``MCP/StatefulHTTPServerTransport`` and a
/// server from `makeServer`, whose id the response carries (`Mcp-Session-Id`); later requests name it. The
/// transport does the protocol (validation of headers and origin, SSE responses, the GET stream, DELETE); this type
/// only moves requests and responses between NIO and it, and ends sessions idle for ``sessionIdleTimeout`` or when
/// the listener stops.
///
/// Every request's `Authorization` header goes to `authenticate` first (a daemon with auth answers 401 for missing or
/// invalid credentials), and a session keeps the credentials it began with: `makeServer` gets them, and a later
/// request of the session with other credentials gets 401.
public actor MCPHTTPListener {
    /// Makes the MCP server of a new session, given the `Authorization` header that began it.
    public typealias ServerFactory = @Sendable (_ authorization: String?) async throws -> Server
    /// Checks a request's `Authorization` header; returns why it is refused, or nil to accept it.
    public typealias Authenticator = @Sendable (_ authorization: String?) async -> String?

    /// The path of the endpoint.
    public static let endpoint = "/mcp"
    /// Largest request body accepted (a tool call with a large value); larger ones get 413.
    static let maxBodyBytes = 8 << 20
    /// Sessions open at once, at most; an `initialize` beyond gets 503.
    static let maxSessions = 256
    let sessionIdleTimeout: Duration

    private struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        let authorization: String?
        var lastUsed: ContinuousClock.Instant
    }

    private let makeServer: ServerFactory
    private let authenticate: Authenticator
    private let logger: Logger
    private var sessions: [String: Session] = [:]
    private var channel: (any Channel)?

    public init(
        sessionIdleTimeout: Duration = .seconds(3600), logger: Logger,
        authenticate: @escaping Authenticator = { _ in nil }, makeServer: @escaping ServerFactory
    ) {
        self.sessionIdleTimeout = sessionIdleTimeout
        self.logger = logger
        self.authenticate = authenticate
        self.makeServer = makeServer
    }

    /// Binds `host:port` (port 0: the kernel picks one), reports the bound port, and serves until the calling task is
    /// cancelled; then closes every session and the listening socket.
    public func run(host: String, port: Int, onListening: @Sendable (Int) -> Void = { _ in }) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MCPHTTPHandler(listener: self))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        self.channel = channel
        let bound = channel.localAddress?.port ?? port
        self.logger.info("MCP listening", metadata: ["address": "\(host):\(bound)", "endpoint": "\(Self.endpoint)"])
        onListening(bound)
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await channel.closeFuture.get() }
                group.addTask { await self.expireIdleSessions() }
                await group.next()
                group.cancelAll()
            }
        } onCancel: {
            channel.close(promise: nil)
        }
        await self.closeAllSessions()
        self.logger.info("MCP listener stopped")
    }

    /// Answers one request to the endpoint.
    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        let authorization = request.header("Authorization")
        if let refusal = await self.authenticate(authorization) {
            return .error(statusCode: 401, .invalidRequest("Unauthorized: \(refusal)"))
        }
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, let session = self.sessions[sessionID], session.authorization != authorization {
            return .error(
                statusCode: 401, .invalidRequest("Unauthorized: the session was begun with other credentials"))
        }
        if let sessionID, var session = self.sessions[sessionID] {
            session.lastUsed = .now
            self.sessions[sessionID] = session
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 {
                self.sessions[sessionID] = nil
                await session.server.stop()
            }
            return response
        }
        if sessionID == nil, request.method.uppercased() == "POST", let body = request.body,
            Self.isInitialize(body)
        {
            return await self.startSession(request, authorization: authorization)
        }
        if sessionID != nil {
            return .error(statusCode: 404, .invalidRequest("Not Found: no such session (it ended or expired)"))
        }
        return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header"))
    }

    /// Whether a request body is a JSON-RPC `initialize` request (alone, or in a batch).
    static func isInitialize(_ body: Data) -> Bool {
        guard let message = try? JSONSerialization.jsonObject(with: body) else { return false }
        let messages = (message as? [Any]) ?? [message]
        return messages.contains { ($0 as? [String: Any])?["method"] as? String == "initialize" }
    }

    private struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { self.id }
    }

    private func startSession(_ request: HTTPRequest, authorization: String?) async -> HTTPResponse {
        guard self.sessions.count < Self.maxSessions else {
            return .error(statusCode: 503, .internalError("too many MCP sessions open; retry later"))
        }
        let id = UUID().uuidString
        let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedSessionID(id: id), logger: self.logger)
        do {
            let server = try await self.makeServer(authorization)
            try await server.start(transport: transport)
            self.sessions[id] = Session(
                server: server, transport: transport, authorization: authorization, lastUsed: .now)
            let response = await transport.handleRequest(request)
            if case .error = response {
                self.sessions[id] = nil
                await server.stop()
            }
            return response
        } catch {
            await transport.disconnect()
            return .error(statusCode: 500, .internalError("cannot start an MCP session: \(error)"))
        }
    }

    private func expireIdleSessions() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(30))
            let now = ContinuousClock.now
            for (id, session) in self.sessions where now - session.lastUsed > self.sessionIdleTimeout {
                self.sessions[id] = nil
                await session.server.stop()
                self.logger.debug("MCP session expired", metadata: ["session": "\(id)"])
            }
        }
    }

    private func closeAllSessions() async {
        let open = self.sessions
        self.sessions = [:]
        for session in open.values { await session.server.stop() }
    }
}

/// Collects one HTTP/1.1 request, hands it to the listener, and writes its response (a body, or an SSE stream chunk
/// by chunk).
private final class MCPHTTPHandler: ChannelInboundHandler, @unchecked Sendable {
    // Safe: `head`, `body` and `tooLarge` are only touched on the channel's event loop (channelRead); the response is
    // written through `eventLoop.execute`.
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let listener: MCPHTTPListener
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var tooLarge = false

    init(listener: MCPHTTPListener) {
        self.listener = listener
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = context.channel.allocator.buffer(capacity: 0)
            self.tooLarge = false
        case .body(var chunk):
            if (self.body?.readableBytes ?? 0) + chunk.readableBytes > MCPHTTPListener.maxBodyBytes {
                self.tooLarge = true
            } else {
                self.body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            let body = self.body
            self.body = nil
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let tooLarge = self.tooLarge
            Task {
                let response: HTTPResponse
                let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
                if path != MCPHTTPListener.endpoint {
                    response = .error(statusCode: 404, .invalidRequest("Not Found: the MCP endpoint is /mcp"))
                } else if tooLarge {
                    response = .error(statusCode: 413, .invalidRequest("request body larger than 8 MiB"))
                } else {
                    response = await self.listener.handle(Self.request(head: head, body: body, path: path))
                }
                await self.write(response, version: head.version, keepAlive: head.isKeepAlive, to: bound)
            }
        }
    }

    private static func request(head: HTTPRequestHead, body: ByteBuffer?, path: String) -> HTTPRequest {
        var headers: [String: String] = [:]
        for (name, value) in head.headers {
            headers[name] = headers[name].map { "\($0), \(value)" } ?? value
        }
        let data = body.flatMap { $0.readableBytes > 0 ? Data($0.readableBytesView) : nil }
        return HTTPRequest(method: head.method.rawValue, headers: headers, body: data, path: path)
    }

    private func write(
        _ response: HTTPResponse, version: HTTPVersion, keepAlive: Bool,
        to bound: NIOLoopBound<ChannelHandlerContext>
    ) async {
        var head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.statusCode))
        for (name, value) in response.headers { head.headers.add(name: name, value: value) }
        switch response {
        case .stream(let stream, _):
            head.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
            let head = head
            bound.eventLoop.execute {
                bound.value.write(self.wrapOutboundOut(.head(head)), promise: nil)
                bound.value.flush()
            }
            do {
                for try await chunk in stream {
                    bound.eventLoop.execute {
                        let buffer = bound.value.channel.allocator.buffer(bytes: chunk)
                        bound.value.writeAndFlush(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                    }
                }
            } catch {
                // The session ended; the response ends here.
            }
            bound.eventLoop.execute {
                bound.value.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
        default:
            let body = response.bodyData ?? Data()
            head.headers.replaceOrAdd(name: "Content-Length", value: "\(body.count)")
            if !keepAlive { head.headers.replaceOrAdd(name: "Connection", value: "close") }
            let head = head
            bound.eventLoop.execute {
                let context = bound.value
                context.write(self.wrapOutboundOut(.head(head)), promise: nil)
                if !body.isEmpty {
                    context.write(
                        self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                        promise: nil)
                }
                let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
                if !keepAlive { done.whenComplete { _ in bound.value.close(promise: nil) } }
            }
        }
    }
}
