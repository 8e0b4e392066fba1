import Foundation
import StatehouseCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a data directory, held for the life of the backend.
///
/// Two daemons writing one SQLite file would each assume they are the only writer (commit_ts and hash-chain
/// heads are cached by the writer), so a second opener must fail at start. `flock` is released by the kernel when
/// the process dies, so a crash never leaves a stale lock behind.
final class DataDirectoryLock: Sendable {
    static let fileName = "statehouse.lock"

    private let descriptor: Int32

    /// Takes the lock or throws a message naming the directory and the holder's pid.
    init(directory: String) throws {
        let path = directory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StatehouseError.unavailable(
                "cannot create the lock file in data directory \(directory): \(String(cString: strerror(errno)))"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            let who = holder.map { $0.isEmpty ? "" : " (pid \($0))" } ?? ""
            throw StatehouseError.unavailable(
                "data directory \(directory) is locked by another Statehouse process\(who)"
            )
        }
        ftruncate(descriptor, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    /// Releases the lock.
    func release() {
        flock(self.descriptor, LOCK_UN)
        close(self.descriptor)
    }
}
