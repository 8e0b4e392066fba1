public import Hummingbird
public import NIOCore

/// The request context of the HTTP listener: Hummingbird's core storage plus the connection's channel, so that a
/// long response (a watch) can end when its client goes away even while no event is being written.
public struct HTTPRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection; its `closeFuture` completes when the client disconnects.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }
}
