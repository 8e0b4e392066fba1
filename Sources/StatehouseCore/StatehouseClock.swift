import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two clocks the engine reads: wall-clock time for committed_at, a monotonic clock for deadlines.
///
/// Injected so that tests can expire transactions and pin commit times without sleeping.
public protocol StatehouseClock: Sendable {
    /// Microseconds since the Unix epoch.
    func wallMicroseconds() -> Microseconds
    /// A monotonic instant in nanoseconds with an arbitrary origin.
    func monotonicNanoseconds() -> UInt64
}

/// The system's clocks.
public struct SystemClock: StatehouseClock {
    public init() {}

    public func wallMicroseconds() -> Microseconds {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Microseconds(now.tv_sec) * 1_000_000 + Microseconds(now.tv_nsec / 1000)
    }

    public func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// A clock that moves only when told to; for tests.
public final class ManualClock: StatehouseClock {
    private let state: Mutex<(wall: Microseconds, monotonic: UInt64)>

    /// Starts at `wall` microseconds since the epoch.
    public init(wall: Microseconds = 1_700_000_000_000_000) {
        self.state = Mutex((wall, 1_000_000_000))
    }

    public func wallMicroseconds() -> Microseconds { self.state.withLock { $0.wall } }

    public func monotonicNanoseconds() -> UInt64 { self.state.withLock { $0.monotonic } }

    /// Moves both clocks forward by `duration`.
    public func advance(by duration: Duration) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        self.state.withLock {
            $0.wall += Microseconds(nanoseconds / 1000)
            $0.monotonic += UInt64(nanoseconds)
        }
    }

    /// Sets the wall clock (for example backwards, to test that committed_at never decreases).
    public func setWall(_ microseconds: Microseconds) {
        self.state.withLock { $0.wall = microseconds }
    }
}
