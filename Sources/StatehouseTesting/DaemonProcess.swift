public import Foundation
import GRPCCore
public import GRPCNIOTransportHTTP2
public import StatehouseProto
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real `statehoused` process on a loopback port chosen by the kernel, with its standard error captured.
public final class DaemonProcess: Sendable {
    /// `statehoused` next to the running test binary (SwiftPM builds them into one directory).
    public static var binary: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("statehoused").path
    }

    public let process: Process
    private let output = Mutex("")
    private let reader: FileHandle

    public init(arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        // The HTTP listener on a kernel-chosen port too: several daemons of a test run must not race for 8080.
        process.environment = ["PATH": "/usr/bin:/bin", "STATEHOUSE_HTTP_LISTEN": "127.0.0.1:0"].merging(environment) {
            $1
        }
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        self.reader = pipe.fileHandleForReading
        try process.run()
    }

    /// What the daemon wrote to standard error: until `text` appears, or (without `text`) what is there now plus
    /// everything up to its exit when it has exited. Waits at most `seconds`.
    public func stderr(waitingFor text: String? = nil, seconds: Double = 20) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var quietPolls = 0
        while Date() < deadline {
            if let text, self.output.withLock({ $0.contains(text) }) { break }
            var readable = pollfd(fd: self.reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&readable, 1, 20) > 0 {
                let chunk = self.reader.availableData
                if chunk.isEmpty { break }  // end of file: the daemon exited
                self.output.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
                quietPolls = 0
            } else {
                quietPolls += 1
                // Without a text to wait for: stop once nothing arrives for a while (running) or after exit.
                if text == nil && (!self.process.isRunning || quietPolls > 5) { break }
            }
        }
        return self.output.withLock { $0 }
    }

    /// The port from the "Listening" log line.
    public func port() throws -> Int {
        let log = self.stderr(waitingFor: "Listening")
        guard let line = log.split(separator: "\n").first(where: { $0.contains("Listening") }),
            let address = line.split(separator: " ").last(where: { $0.hasPrefix("address=") }),
            let port = Int(address.split(separator: ":").last ?? "")
        else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no Listening line in: \(log)"])
        }
        return port
    }

    /// Sends `signal` and waits for the exit status.
    public func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        kill(self.process.processIdentifier, signal)
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    deinit {
        if self.process.isRunning {
            kill(self.process.processIdentifier, SIGKILL)
            self.process.waitUntilExit()
        }
    }
}

/// A statehouse.v2 client of the daemon on `port`.
public func withDaemonClient<T: Sendable>(
    port: Int,
    _ body: @Sendable (Statehouse_V2_StatehouseService.Client<HTTP2ClientTransport.Posix>) async throws -> T
) async throws -> T {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    return try await withGRPCClient(transport: transport) { client in
        try await body(Statehouse_V2_StatehouseService.Client(wrapping: client))
    }
}
