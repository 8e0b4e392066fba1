import Foundation
import GRPCCore
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import NIOPosix
import StatehouseCore
import StatehouseProto
import StatehouseTesting
import SwiftProtobuf
import Synchronization
import Testing

@testable import StatehouseGRPC
@testable import StatehouseServer

/// The direct unary path's frame handling, driven frame by frame: what it answers itself, what it hands to grpc-swift,
/// and the bytes of its responses. That its answers equal grpc-swift's is checked end to end against two daemons in
/// python/tests/test_direct_unary.py.
@Suite("unary calls answered from their HTTP/2 frames", .timeLimit(.minutes(1)))
struct UnaryFastPathTests {
    static let getPath = "/statehouse.v2.StatehouseService/GetState"

    /// Runs `body` with a stream channel whose first handler is the direct path over a fresh engine's services.
    func withStream(
        maxRequestBytes: Int = 1 << 20, _ body: (NIOAsyncTestingChannel, StatehouseEngine) async throws -> Void
    ) async throws {
        try await withTestEngine(.memory) { engine in
            let build = StatehouseGRPCService.BuildInfo(version: "1.2.3", gitSHA: "abcdef0")
            let calls = DirectUnaryCalls(
                service: StatehouseGRPCService(engine: engine, build: build, logger: testLogger),
                v1Service: StatehouseV1CompatibilityService(engine: engine, build: build, logger: testLogger),
                authenticateWith: nil, recordMetrics: true)
            let channel = NIOAsyncTestingChannel()
            try await channel.pipeline.addHandler(
                UnaryFastPathHandler(
                    calls: calls, maxRequestBytes: maxRequestBytes,
                    executor: EventLoopTaskExecutor(group: .singletonMultiThreadedEventLoopGroup),
                    readsClientCertificates: false))
            try await body(channel, engine)
            _ = try? await channel.finish()
        }
    }

    /// Delivers `frames` as one read from the connection: each frame, then one read-complete.
    static func deliver(_ frames: [HTTP2Frame.FramePayload], to channel: NIOAsyncTestingChannel) async throws {
        try await channel.testingEventLoop.executeInContext {
            for frame in frames { channel.pipeline.fireChannelRead(NIOAny(frame)) }
            channel.pipeline.fireChannelReadComplete()
        }
    }

    /// The next frame the handler writes, which must be a HEADERS frame (`#require` fails the test otherwise).
    static func nextHeaders(_ channel: NIOAsyncTestingChannel) async throws -> HTTP2Frame.FramePayload.Headers {
        let frame = try await channel.waitForOutboundWrite(as: HTTP2Frame.FramePayload.self)
        guard case .headers(let headers) = frame else {
            Issue.record("not a HEADERS frame: \(frame)")
            throw CancellationError()
        }
        return headers
    }

    static func headers(path: String = Self.getPath, extra: [(String, String)] = []) -> HTTP2Frame.FramePayload {
        var headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": path, "content-type": "application/grpc", "te": "trailers",
        ]
        for (name, value) in extra { headers.add(name: name, value: value) }
        return .headers(.init(headers: headers))
    }

    static func data(
        _ message: some SwiftProtobuf.Message, compressed: Bool = false, endStream: Bool = true
    ) throws
        -> HTTP2Frame.FramePayload
    {
        let bytes: [UInt8] = try message.serializedBytes()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(compressed ? 1 : 0))
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
        return .data(.init(data: .byteBuffer(buffer), endStream: endStream))
    }

    static func getRequest(_ key: String) -> Statehouse_V2_GetStateRequest {
        var request = Statehouse_V2_GetStateRequest()
        request.agentID = "a"
        request.key = key
        return request
    }

    @Test("a plain unary call is answered with headers, one message and trailers, and no frame reaches grpc-swift")
    func answersPlainCall() async throws {
        try await withStream { channel, engine in
            try await engine.put(agent: "a", key: "k", json: #"{"n":1}"#)
            // grpc core sends a window update for its response right after the headers.
            try await Self.deliver(
                [Self.headers(), .windowUpdate(windowSizeIncrement: 5), try Self.data(Self.getRequest("k"))],
                to: channel)

            let responseHeaders = try await Self.nextHeaders(channel)
            #expect(responseHeaders.headers.first(name: ":status") == "200")
            #expect(responseHeaders.headers.first(name: "content-type") == "application/grpc")
            #expect(!responseHeaders.endStream)

            let data = try await channel.waitForOutboundWrite(as: HTTP2Frame.FramePayload.self)
            guard case .data(let payload) = data, case .byteBuffer(var buffer) = payload.data else {
                Issue.record("not data: \(data)")
                return
            }
            #expect(buffer.readInteger(as: UInt8.self) == 0)
            let prefix = buffer.readInteger(as: UInt32.self)
            let length = try #require(prefix)
            #expect(Int(length) == buffer.readableBytes)
            let response = try Statehouse_V2_GetStateResponse(serializedBytes: buffer.readBytes(length: Int(length))!)
            #expect(String(decoding: response.record.value, as: UTF8.self) == #"{"n":1}"#)
            #expect(response.record.version == 1)

            let trailerHeaders = try await Self.nextHeaders(channel)
            #expect(trailerHeaders.endStream)
            #expect(trailerHeaders.headers.first(name: "grpc-status") == "0")
            #expect(try await channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
        }
    }

    @Test("an error is trailers only: status, percent-encoded message and the error's metadata")
    func answersError() async throws {
        try await withStream { channel, _ in
            var request = Statehouse_V2_CommitRequest()
            request.txnID = "missing%é"
            try await Self.deliver(
                [Self.headers(path: "/statehouse.v2.StatehouseService/Commit"), try Self.data(request)], to: channel)
            let trailers = try await Self.nextHeaders(channel)
            #expect(trailers.endStream)
            #expect(trailers.headers.first(name: ":status") == "200")
            #expect(trailers.headers.first(name: "grpc-status") == "5")
            #expect(trailers.headers.first(name: "statehouse-error") == "transaction_not_found")
            let message = try #require(trailers.headers.first(name: "grpc-message"))
            #expect(message.contains("missing%25%C3%A9"))
            #expect(message.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value <= 0x7E })
        }
    }

    @Test("a request that does not decode is INVALID_ARGUMENT with grpc-swift's message")
    func undecodableRequest() async throws {
        try await withStream { channel, _ in
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt8(0))
            buffer.writeInteger(UInt32(3))
            buffer.writeBytes([0xFF, 0xFF, 0xFF])
            try await Self.deliver(
                [Self.headers(), .data(.init(data: .byteBuffer(buffer), endStream: true))], to: channel)
            let trailers = try await Self.nextHeaders(channel)
            #expect(trailers.headers.first(name: "grpc-status") == "3")
            #expect(
                trailers.headers.first(name: "grpc-message")
                    == "Can't deserialize to message of type Statehouse_V2_GetStateRequest.")
        }
    }

    /// Delivers `frames` as one read and expects each to come out on the inbound side unchanged and in order, nothing
    /// written.
    func expectForwarded(_ frames: [HTTP2Frame.FramePayload], maxRequestBytes: Int = 1 << 20) async throws {
        try await withStream(maxRequestBytes: maxRequestBytes) { channel, _ in
            try await Self.deliver(frames, to: channel)
            for frame in frames {
                let forwarded = try await channel.readInbound(as: HTTP2Frame.FramePayload.self)
                #expect(forwarded.map { "\($0)" } == "\(frame)")
            }
            #expect(try await channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
            #expect(try await channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        }
    }

    @Test("streaming methods, unknown paths and other HTTP methods go to grpc-swift")
    func forwardsOtherMethods() async throws {
        try await self.expectForwarded([Self.headers(path: "/statehouse.v2.StatehouseService/Replay")])
        try await self.expectForwarded([Self.headers(path: "/statehouse.v2.StatehouseService/NoSuchMethod")])
        var get = HPACKHeaders([(":method", "GET"), (":scheme", "http"), (":path", Self.getPath)])
        get.add(name: "content-type", value: "application/grpc")
        try await self.expectForwarded([.headers(.init(headers: get))])
        var json = HPACKHeaders([(":method", "POST"), (":scheme", "http"), (":path", Self.getPath)])
        json.add(name: "content-type", value: "application/json")
        try await self.expectForwarded([.headers(.init(headers: json))])
    }

    @Test("compression, a bad timeout, a compressed message, two messages or too large a message go to grpc-swift")
    func forwardsUnusualRequests() async throws {
        let request = Self.getRequest("k")
        try await self.expectForwarded([Self.headers(extra: [("grpc-encoding", "gzip")])])
        try await self.expectForwarded([Self.headers(extra: [("grpc-timeout", "soon")])])
        try await self.expectForwarded([Self.headers(), try Self.data(request, compressed: true)])
        try await self.expectForwarded([
            Self.headers(), try Self.data(request, endStream: false), try Self.data(request, endStream: true),
        ])
        try await self.expectForwarded([Self.headers(), try Self.data(request)], maxRequestBytes: 2)
    }

    @Test("a request still arriving when a graceful shutdown begins goes to grpc-swift, then the shutdown event")
    func forwardsOnQuiesce() async throws {
        try await withStream { channel, _ in
            let request = try Self.data(Self.getRequest("k"), endStream: false)
            try await Self.deliver([Self.headers()], to: channel)
            try await Self.deliver([request], to: channel)
            #expect(try await channel.readInbound(as: HTTP2Frame.FramePayload.self) == nil)
            let seen = EventRecorder()
            try await channel.pipeline.addHandler(seen)
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            for frame in [Self.headers(), request] {
                let forwarded = try await channel.readInbound(as: HTTP2Frame.FramePayload.self)
                #expect(forwarded.map { "\($0)" } == "\(frame)")
            }
            #expect(try await channel.testingEventLoop.executeInContext { seen.quiesced })
            #expect(try await channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        }
    }

    /// A handler over one method that waits until it is cancelled, and records that it was.
    func withWaitingCall(
        _ body: (NIOAsyncTestingChannel, _ cancelled: @escaping @Sendable () -> Bool) async throws -> Void
    ) async throws {
        let cancelled = Mutex(false)
        let descriptor = MethodDescriptor(fullyQualifiedService: "test.Waiting", method: "Wait")
        let method = DirectUnaryCalls.Method(
            descriptor: descriptor,
            call: { _, context in
                await withTaskCancellationHandler {
                    try? await Task.sleep(for: .seconds(60))
                } onCancel: {
                    cancelled.withLock { $0 = true }
                }
                return []
            },
            isPublic: false)
        let calls = DirectUnaryCalls(
            methods: ["/test.Waiting/Wait": method], authenticateWith: nil, recordMetrics: false)
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(
            UnaryFastPathHandler(
                calls: calls, maxRequestBytes: 1 << 20,
                executor: EventLoopTaskExecutor(group: .singletonMultiThreadedEventLoopGroup),
                readsClientCertificates: false))
        try await body(channel) { cancelled.withLock { $0 } }
        _ = try? await channel.finish()
    }

    /// Waits (at most 10 s) until `condition` holds.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test("a call past its grpc-timeout is cancelled and answered DEADLINE_EXCEEDED")
    func deadline() async throws {
        try await withWaitingCall { channel, cancelled in
            try await Self.deliver(
                [
                    Self.headers(path: "/test.Waiting/Wait", extra: [("grpc-timeout", "50m")]),
                    try Self.data(Statehouse_V2_HealthRequest()),
                ], to: channel)
            #expect(try await channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
            // The testing event loop's clock moves only when told to.
            await channel.testingEventLoop.advanceTime(by: .milliseconds(50))
            let trailers = try await Self.nextHeaders(channel)
            #expect(trailers.endStream)
            #expect(trailers.headers.first(name: "grpc-status") == "4")
            #expect(trailers.headers.first(name: "grpc-message") == "Deadline exceeded")
            #expect(try await self.eventually(cancelled))
            #expect(try await channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        }
    }

    @Test("a reset stream cancels its running call, and nothing is written")
    func resetCancels() async throws {
        try await withWaitingCall { channel, cancelled in
            try await Self.deliver(
                [Self.headers(path: "/test.Waiting/Wait"), try Self.data(Statehouse_V2_HealthRequest())], to: channel)
            #expect(!cancelled())
            try await Self.deliver([.rstStream(.cancel)], to: channel)
            #expect(try await self.eventually(cancelled))
            #expect(try await channel.readOutbound(as: HTTP2Frame.FramePayload.self) == nil)
        }
    }

    @Test("grpc-timeout: up to eight digits and a unit")
    func timeouts() {
        #expect(UnaryFastPathHandler.timeout("1H") == .hours(1))
        #expect(UnaryFastPathHandler.timeout("2M") == .minutes(2))
        #expect(UnaryFastPathHandler.timeout("30S") == .seconds(30))
        #expect(UnaryFastPathHandler.timeout("99999999m") == .milliseconds(99_999_999))
        #expect(UnaryFastPathHandler.timeout("5u") == .microseconds(5))
        #expect(UnaryFastPathHandler.timeout("7n") == .nanoseconds(7))
        for invalid in ["", "S", "123456789m", "10x", "-1S", "1.5S", "10 S"] {
            #expect(UnaryFastPathHandler.timeout(invalid) == nil, "\(invalid)")
        }
    }

    @Test("grpc-message: printable ASCII but % as is, everything else percent-encoded")
    func percentEncoding() {
        #expect(UnaryFastPathHandler.percentEncoded("plain text: ok!") == "plain text: ok!")
        #expect(UnaryFastPathHandler.percentEncoded("100%") == "100%25")
        #expect(UnaryFastPathHandler.percentEncoded("a\nb") == "a%0Ab")
        #expect(UnaryFastPathHandler.percentEncoded("é") == "%C3%A9")
    }
}

/// Records whether a graceful shutdown's event reached the end of the pipeline.
private final class EventRecorder: ChannelInboundHandler, @unchecked Sendable {  // safe: used on its event loop only
    typealias InboundIn = HTTP2Frame.FramePayload
    var quiesced = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { self.quiesced = true }
        context.fireUserInboundEventTriggered(event)
    }
}
