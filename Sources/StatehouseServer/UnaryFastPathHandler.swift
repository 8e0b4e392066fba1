import Foundation
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOSSL
import StatehouseGRPC
import StatehouseHTTP

/// Answers a plain unary call of ``StatehouseGRPC/DirectUnaryCalls`` straight from its HTTP/2 stream's frames, and
/// hands every other stream to grpc-swift untouched.
///
/// grpc-swift serves each call through a request and a response async sequence, an RPC executor task and the
/// interceptor chain; for a unary call that machinery costs more daemon CPU than the engine work (docs/benchmarks.md,
/// "Where the cost of a call is"). This handler sits first in each stream channel's pipeline (installed through the
/// transport's `onAcceptHTTP2Stream` callback, in front of grpc-swift's `GRPCServerStreamHandler`). It keeps the
/// frames of a stream until it has seen the whole request, and takes the call only if it is the plain case:
///
/// - `POST` with an `http`/`https` scheme, a gRPC content type, a `:path` of the table, no compression
///   (`grpc-encoding` absent or `identity`), a valid `grpc-timeout` if any;
/// - exactly one uncompressed message no larger than the server's limit, then the end of the stream.
///
/// Anything else (another method, a stream, compression, a malformed request) is replayed frame by frame to grpc-swift,
/// which answers it as it always did, errors included; so is a request still arriving when a graceful shutdown
/// begins. A call taken here runs in a task of its own, on the event loops' executor. A reset of the stream or the
/// connection cancels it; so does its `grpc-timeout`, which also answers DEADLINE_EXCEEDED at once (grpc-swift only
/// cancels the handler and answers when it returns; the client, past its deadline, no longer waits for either).
/// The response is the same frames grpc-swift writes: headers, one length-prefixed
/// message and the trailers, or trailers only for an error (status, percent-encoded message, the error's metadata).
/// With mutual TLS the call's client certificate comes from the connection's TLS handler, as the transport reads it
/// for grpc-swift's calls.
///
/// The task is unstructured (STYLE.md prefers task groups) because its lifetime is the stream's: a reset or a closed
/// connection cancels it, and the stream stays open, holding the server's shutdown, until the response is written.
/// A task group would need a service of its own fed by a stream, one more hop per call.
///
/// The stream's grpc-swift handlers never see a frame of a call taken here: when the stream closes they fail the
/// method descriptor they were waiting for, and the transport's task for the stream ends without running anything.
final class UnaryFastPathHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private enum State {
        /// Waiting for the request's headers.
        case idle
        /// A call this handler may take: its headers are seen, its message is arriving.
        case receiving(Request)
        /// Taken: the handler runs; `cancel` stops it when the stream goes away first.
        case running(cancel: @Sendable () -> Void, deadline: Scheduled<Void>?)
        /// The response is written, or the stream went away.
        case finished
        /// Not ours: every frame goes on to grpc-swift.
        case forwarding
    }

    private struct Request {
        let method: DirectUnaryCalls.Method
        let authorization: String?
        let timeout: TimeAmount?
        /// Every frame so far, to replay to grpc-swift if the call turns out not to be ours.
        var frames: [HTTP2Frame.FramePayload]
        var body: ByteBuffer?
    }

    private let calls: DirectUnaryCalls
    private let maxRequestBytes: Int
    private let executor: any TaskExecutor
    /// With mutual TLS: a call's principal may be its client certificate's (``StatehouseAccess/AccessControl``).
    private let readsClientCertificates: Bool
    private var state = State.idle

    init(calls: DirectUnaryCalls, maxRequestBytes: Int, executor: any TaskExecutor, readsClientCertificates: Bool) {
        self.calls = calls
        self.maxRequestBytes = maxRequestBytes
        self.executor = executor
        self.readsClientCertificates = readsClientCertificates
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch self.state {
        case .forwarding:
            context.fireChannelRead(data)
        case .idle:
            guard case .headers(let headers) = frame, let request = self.request(headers) else {
                self.forward([frame], context: context)
                return
            }
            self.state = .receiving(request)
        case .receiving(var request):
            // Every branch below sets the state again; clearing it first leaves `request` the only owner of its
            // frames, so appending does not copy them.
            self.state = .idle
            request.frames.append(frame)
            switch frame {
            case .data(let data):
                guard case .byteBuffer(var bytes) = data.data,
                    (request.body?.readableBytes ?? 0) + bytes.readableBytes <= self.maxRequestBytes + 5
                else {
                    self.forward(request.frames, context: context)
                    return
                }
                if request.body == nil {
                    request.body = bytes
                } else {
                    request.body!.writeBuffer(&bytes)
                }
                guard data.endStream else {
                    self.state = .receiving(request)
                    return
                }
                guard let message = Self.singleMessage(request.body) else {
                    self.forward(request.frames, context: context)
                    return
                }
                self.start(request, message: message, context: context)
            case .windowUpdate, .priority:
                // Flow control and priority for the response (grpc core sends a window update right after its
                // headers); the stream channel acts on them, the call is unchanged.
                self.state = .receiving(request)
            case .rstStream:
                self.state = .finished
            default:
                // Trailers from the client, or anything unusual: grpc-swift decides.
                self.forward(request.frames, context: context)
            }
        case .running(let cancel, let deadline):
            if case .rstStream = frame {
                deadline?.cancel()
                cancel()
                self.state = .finished
            }
        case .finished:
            ()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A graceful shutdown began. A request still arriving goes to grpc-swift, which cancels it as it cancels its
        // own calls then: the transport's task for this stream waits for the method descriptor until the stream
        // closes, so a stream held here for as long as its client liked would hold the shutdown past its grace
        // period. A call already running finishes; its stream closes when the response is written.
        if event is ChannelShouldQuiesceEvent, case .receiving(let request) = self.state {
            self.forward(request.frames, context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .running(let cancel, let deadline) = self.state {
            deadline?.cancel()
            cancel()
            self.state = .finished
        }
        context.fireChannelInactive()
    }

    /// The call, if `headers` open one this handler takes.
    private func request(_ frame: HTTP2Frame.FramePayload.Headers) -> Request? {
        let headers = frame.headers
        guard !frame.endStream,
            headers.first(name: ":method") == "POST",
            let scheme = headers.first(name: ":scheme"), scheme == "http" || scheme == "https",
            let contentType = headers.first(name: "content-type"),
            contentType == "application/grpc" || contentType == "application/grpc+proto",
            let path = headers.first(name: ":path"), let method = self.calls.method(path: path)
        else { return nil }
        let encodings = headers[canonicalForm: "grpc-encoding"]
        guard encodings.isEmpty || (encodings.count == 1 && encodings[0] == "identity") else { return nil }
        var timeout: TimeAmount?
        if let value = headers.first(name: "grpc-timeout") {
            guard let parsed = Self.timeout(value) else { return nil }
            timeout = parsed
        }
        return Request(
            method: method, authorization: headers.first(name: "authorization"), timeout: timeout,
            frames: [.headers(frame)], body: nil)
    }

    /// The one message of a unary request: a 5-byte prefix (not compressed, its length) and exactly that many bytes.
    private static func singleMessage(_ body: ByteBuffer?) -> [UInt8]? {
        guard var body, let compressed = body.readInteger(as: UInt8.self), compressed == 0,
            let length = body.readInteger(as: UInt32.self), Int(length) == body.readableBytes
        else { return nil }
        return body.readBytes(length: Int(length))
    }

    /// `grpc-timeout`: at most eight digits and a unit (gRPC over HTTP/2, "Requests").
    static func timeout(_ value: String) -> TimeAmount? {
        let utf8 = Array(value.utf8)
        guard utf8.count >= 2, utf8.count <= 9 else { return nil }
        var amount: Int64 = 0
        for digit in utf8.dropLast() {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        switch utf8.last! {
        case UInt8(ascii: "H"): return .hours(amount)
        case UInt8(ascii: "M"): return .minutes(amount)
        case UInt8(ascii: "S"): return .seconds(amount)
        case UInt8(ascii: "m"): return .milliseconds(amount)
        case UInt8(ascii: "u"): return .microseconds(amount)
        case UInt8(ascii: "n"): return .nanoseconds(amount)
        default: return nil
        }
    }

    /// Hands the stream to grpc-swift: the frames so far, then every later one.
    private func forward(_ frames: [HTTP2Frame.FramePayload], context: ChannelHandlerContext) {
        self.state = .forwarding
        for frame in frames { context.fireChannelRead(self.wrapInboundOut(frame)) }
    }

    private func start(_ request: Request, message: [UInt8], context: ChannelHandlerContext) {
        let cancellation = ServerContext.RPCCancellationHandle()
        let serverContext = ServerContext(
            descriptor: request.method.descriptor,
            remotePeer: Self.peer(context.channel.parent?.remoteAddress),
            localPeer: Self.peer(context.channel.parent?.localAddress),
            cancellation: cancellation)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let calls = self.calls
        let method = request.method
        let authorization = request.authorization
        // The connection's TLS handler holds the certificate; it is read here, on the connection's event loop, and
        // turned into a subject only if the call authenticates.
        let certificate =
            self.readsClientCertificates
            ? (try? context.channel.parent?.pipeline.syncOperations.nioSSL_peerCertificate()) ?? nil : nil
        let task = Task(executorPreference: self.executor) {
            let result = await calls.run(
                method, request: message, authorization: authorization,
                certificateSubject: { certificate.flatMap(ClientCertificate.subject(of:)) }, context: serverContext)
            if eventLoop.inEventLoop {
                loopBound.value.0.respond(result, context: loopBound.value.1)
            } else {
                eventLoop.execute { loopBound.value.0.respond(result, context: loopBound.value.1) }
            }
        }
        let cancel: @Sendable () -> Void = {
            cancellation.cancel()
            task.cancel()
        }
        let deadline = request.timeout.map { timeout in
            eventLoop.scheduleTask(in: timeout) { loopBound.value.0.deadlineExpired(context: loopBound.value.1) }
        }
        self.state = .running(cancel: cancel, deadline: deadline)
    }

    /// The call's `grpc-timeout` expired first: it is cancelled and the client told DEADLINE_EXCEEDED, as gRPC servers
    /// answer then (a commit already handed to the engine still lands: commits are never interrupted).
    private func deadlineExpired(context: ChannelHandlerContext) {
        guard case .running(let cancel, _) = self.state else { return }
        cancel()
        self.state = .finished
        self.writeStatus(RPCError(code: .deadlineExceeded, message: "Deadline exceeded"), context: context)
    }

    private func respond(_ result: Result<[UInt8], RPCError>, context: ChannelHandlerContext) {
        guard case .running(_, let deadline) = self.state else { return }  // the stream went away meanwhile
        deadline?.cancel()
        self.state = .finished
        switch result {
        case .success(let message):
            let headers: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
            context.write(self.wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: 5 + message.count)
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(message.count))
            buffer.writeBytes(message)
            context.write(self.wrapOutboundOut(.data(.init(data: .byteBuffer(buffer)))), promise: nil)
            let trailers: HPACKHeaders = ["grpc-status": "0"]
            context.write(self.wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
            context.flush()
        case .failure(let error):
            self.writeStatus(error, context: context)
        }
    }

    /// Trailers only: the error's status, message and metadata, ending the stream.
    private func writeStatus(_ error: RPCError, context: ChannelHandlerContext) {
        var trailers: HPACKHeaders = [
            ":status": "200", "content-type": "application/grpc", "grpc-status": "\(Status.Code(error.code).rawValue)",
        ]
        if !error.message.isEmpty { trailers.add(name: "grpc-message", value: Self.percentEncoded(error.message)) }
        for (key, value) in error.metadata {
            switch value {
            case .string(let string): trailers.add(name: key.lowercased(), value: string)
            case .binary(let bytes): trailers.add(name: key.lowercased(), value: Data(bytes).base64EncodedString())
            }
        }
        context.write(self.wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        context.flush()
    }

    /// A status message as `grpc-message` carries it: bytes outside printable ASCII, and `%`, as `%XX`.
    static func percentEncoded(_ message: String) -> String {
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var encoded = ""
        for byte in message.utf8 {
            if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(hex[Int(byte >> 4)])
                encoded.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return encoded
    }

    /// An address as grpc-swift reports peers (`ipv4:127.0.0.1:50051`).
    private static func peer(_ address: SocketAddress?) -> String {
        switch address {
        case .v4: "ipv4:\(address?.ipAddress ?? ""):\(address?.port ?? 0)"
        case .v6: "ipv6:[\(address?.ipAddress ?? "")]:\(address?.port ?? 0)"
        case .unixDomainSocket: "unix:\(address?.pathname ?? "")"
        case nil: "<unknown>"
        }
    }
}
