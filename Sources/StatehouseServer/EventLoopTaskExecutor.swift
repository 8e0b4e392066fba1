import NIOCore
public import NIOPosix

/// Runs the gRPC server's tasks on the NIO event loops that carry its connections, instead of Swift's cooperative
/// pool.
///
/// grpc-swift's HTTP/2 transport reads and writes on event loop threads, and every RPC's handler task runs its
/// code in between: on the cooperative pool, each read, each response write and each resumption hops threads
/// (a futex wake-up and a context switch each, on a 2-core machine most of an RPC's cost after the protocol work).
/// With this executor as the server's task executor preference, a job enqueued from an event loop runs on that same
/// loop, and one enqueued from elsewhere (an SQLite thread resuming a commit) goes to a loop of the group. Handlers
/// never block (SQLite runs on its own threads), so they do not hold up the loops' I/O.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    private let group: MultiThreadedEventLoopGroup

    public init(group: MultiThreadedEventLoopGroup) {
        self.group = group
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        // `any()` is the current loop when called on one of the group's threads, else the next in turn.
        self.group.any().execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
