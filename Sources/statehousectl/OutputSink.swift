import Foundation
import StatehouseModel
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes text to standard output as it comes (no buffering). A reader that goes away (`statehousectl replay | head`)
/// ends the command quietly with status 0, as it does for other Unix tools, instead of failing on the closed pipe.
func writeStandardOutput(_ text: String) {
    writeStandardOutput(bytes: Array(text.utf8))
}

/// Writes bytes to standard output (see ``writeStandardOutput(_:)``).
func writeStandardOutput(bytes: [UInt8]) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            let written = write(STDOUT_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                exit(errno == EPIPE ? 0 : 1)
            }
            offset += written
        }
    }
}

/// Writes a line to standard output at once (see ``writeStandardOutput(_:)``).
func emit(_ line: String) {
    writeStandardOutput(line + "\n")
}

/// Where `dump` writes: standard output, or a file that appears only complete.
///
/// A regular file (or a symlink to one) is written beside its final name and renamed over it after an fsync, so that
/// an existing backup is replaced only by a whole new one; the temporary file is removed when the dump fails or is
/// interrupted (SIGINT, SIGTERM). Anything else (a device, a pipe such as `/dev/stdout`) is written in place, since
/// renaming over it would replace the device node.
final class OutputSink: @unchecked Sendable {  // safe: used by one task at a time; the signal handler only unlinks
    private let target: String?
    private var handle: FileHandle?
    private var temporary: String?
    private var inPlace = false
    private var signalSources: [any DispatchSourceSignal] = []
    /// The temporary file's path, for the signal handler.
    private static let pendingTemporary = Mutex<String?>(nil)

    init(file: String?) {
        self.target = file
    }

    /// Opens the destination on first use, so that a dump that cannot even connect creates nothing.
    private func open() throws -> FileHandle? {
        if let handle = self.handle { return handle }
        guard let target = self.target else { return nil }
        // A symlink is followed: the file it names is the one replaced.
        let path = URL(fileURLWithPath: target).resolvingSymlinksInPath().path
        let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
        if let type, type != .typeRegular {
            self.inPlace = true
            guard let handle = FileHandle(forWritingAtPath: path) else { throw Self.cannotWrite(path) }
            self.handle = handle
            return handle
        }
        let temporary = path + ".partial-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o644]),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw Self.cannotWrite(path) }
        self.temporary = temporary
        self.handle = handle
        Self.pendingTemporary.withLock { $0 = temporary }
        self.removeOnSignals()
        return handle
    }

    func write(_ text: String) throws {
        try self.write(bytes: Array(text.utf8))
    }

    /// Writes UTF-8 bytes as they are (a page of lines at once: one write call per page).
    func write(bytes: [UInt8]) throws {
        guard let handle = try self.open() else {
            writeStandardOutput(bytes: bytes)
            return
        }
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw Self.cannotWrite(self.target ?? "", error)
        }
    }

    /// Makes the dump durable and puts it in place.
    func commit() throws {
        guard let target = self.target else { return }
        let handle = try self.open()!
        do {
            if !self.inPlace { try handle.synchronize() }
            try handle.close()
        } catch {
            throw Self.cannotWrite(target, error)
        }
        self.handle = nil
        guard let temporary = self.temporary else { return }
        let destination = URL(fileURLWithPath: target).resolvingSymlinksInPath().path
        guard rename(temporary, destination) == 0 else { throw Self.cannotWrite(target) }
        self.temporary = nil
        Self.pendingTemporary.withLock { $0 = nil }
    }

    /// Removes the temporary file of a dump that did not complete (a no-op after ``commit()``).
    func discard() {
        try? self.handle?.close()
        self.handle = nil
        if let temporary = self.temporary { unlink(temporary) }
        self.temporary = nil
        Self.pendingTemporary.withLock { $0 = nil }
    }

    private func removeOnSignals() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if let path = Self.pendingTemporary.withLock({ $0 }) { unlink(path) }
                exit(128 + number)
            }
            source.resume()
            self.signalSources.append(source)
        }
    }

    private static func cannotWrite(_ path: String, _ error: (any Error)? = nil) -> StatehouseError {
        let reason = error.map { "\($0.localizedDescription)" } ?? String(cString: strerror(errno))
        return .unavailable("cannot write \(path): \(reason)")
    }
}
