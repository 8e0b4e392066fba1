import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `--color`: when text output is styled.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// ANSI styling of text output, or none.
///
/// `auto` styles only a terminal, and never when `NO_COLOR` is set (https://no-color.org): output piped into a file
/// or another program is plain text, byte for byte the same as with `--color never`.
struct Style: Sendable {
    let enabled: Bool

    init(_ choice: ColorChoice, fileDescriptor: Int32) {
        switch choice {
        case .always: self.enabled = true
        case .never: self.enabled = false
        case .auto:
            let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
            self.enabled = !noColor && isatty(fileDescriptor) == 1
        }
    }

    init(enabled: Bool) { self.enabled = enabled }

    private func wrap(_ text: String, _ code: String) -> String {
        self.enabled && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    func key(_ text: String) -> String { self.wrap(text, "36") }  // cyan
    func version(_ text: String) -> String { self.wrap(text, "33") }  // yellow
    func commitTS(_ text: String) -> String { self.wrap(text, "34") }  // blue
    func dim(_ text: String) -> String { self.wrap(text, "2") }
    func error(_ text: String) -> String { self.wrap(text, "31") }  // red
    func good(_ text: String) -> String { self.wrap(text, "32") }  // green
    func bold(_ text: String) -> String { self.wrap(text, "1") }

    /// The operation label of a pretty line: writes green, deletes red, tool calls magenta, notes blue, finals bold.
    func operation(_ label: String) -> String {
        switch label.trimmingCharacters(in: .whitespaces) {
        case "WRITE": self.wrap(label, "32")
        case "DEL": self.wrap(label, "31")
        case "TOOL": self.wrap(label, "35")
        case "NOTE": self.wrap(label, "34")
        case "FINAL": self.wrap(label, "1;32")
        default: label
        }
    }
}

/// Standard error: failure messages (red on a terminal) and progress lines that only a terminal sees.
struct Terminal {
    let fileDescriptor: Int32

    static let standardError = Terminal(fileDescriptor: STDERR_FILENO)

    var isTerminal: Bool { isatty(self.fileDescriptor) == 1 }

    /// A one-line failure; red when standard error is a terminal and NO_COLOR is unset.
    func failure(_ message: String) {
        let style = Style(.auto, fileDescriptor: self.fileDescriptor)
        FileHandle.standardError.write(Data((style.error(message) + "\n").utf8))
    }

    /// A note for the person at the terminal (written in pipes too: it goes to standard error).
    func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}

/// Progress of long work (dump, load), redrawn on one line of standard error when it is a terminal, at most five
/// times a second; nothing at all in a pipe or a file.
final class Progress: @unchecked Sendable {  // safe: used from one task at a time (the command's)
    private let label: String
    private let enabled: Bool
    private var last = ContinuousClock.now
    private var shown = false

    init(_ label: String) {
        self.label = label
        self.enabled = Terminal.standardError.isTerminal
    }

    func update(_ count: Int, of total: Int? = nil, unit: String) {
        guard self.enabled, ContinuousClock.now - self.last >= .milliseconds(200) else { return }
        self.last = ContinuousClock.now
        let amount = total.map { "\(count)/\($0)" } ?? "\(count)"
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(self.label): \(amount) \(unit)".utf8))
        self.shown = true
    }

    /// Clears the progress line.
    func finish() {
        guard self.enabled, self.shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}

extension Progress {
    /// Runs one long call, showing the seconds it has taken on a terminal (nothing in a pipe) until it returns.
    static func timing<T: Sendable>(_ label: String, _ call: @escaping @Sendable () async throws -> T) async throws -> T
    {
        let progress = Progress(label)
        let started = ContinuousClock.now
        defer { progress.finish() }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await call() }
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(250))
                    progress.update(Int((ContinuousClock.now - started).components.seconds), unit: "s")
                }
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let result = next { return result }
            }
            throw CancellationError()
        }
    }
}
