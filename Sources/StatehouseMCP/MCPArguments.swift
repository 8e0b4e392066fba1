import Foundation
import MCP
import StatehouseModel

/// A tool call's arguments, read with the checks and messages a model can act on: a missing or mistyped argument, or
/// one the tool does not take, is a tool error naming it, and nothing is done.
struct MCPArguments {
    let tool: String
    private let values: [String: Value]
    private var read: Set<String> = []

    init(tool: String, values: [String: Value]?) {
        self.tool = tool
        self.values = values ?? [:]
    }

    func problem(_ message: String) -> MCPToolError {
        MCPToolError("\(self.tool): \(message)")
    }

    /// Fails on an argument the tool does not take (a misspelt name would otherwise be ignored silently).
    func requireKnown(_ known: Set<String>) throws {
        if let unknown = self.values.keys.sorted().first(where: { !known.contains($0) }) {
            throw self.problem(
                "unknown argument '\(unknown)' (it takes \(known.sorted().map { "'\($0)'" }.joined(separator: ", ")))")
        }
    }

    func string(_ name: String) throws -> String {
        guard let value = try self.optionalString(name) else { throw self.problem("'\(name)' is required") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        guard let value = self.values[name], value != .null else { return nil }
        guard case .string(let text) = value else { throw self.problem("'\(name)' must be a string") }
        return text
    }

    func optionalInteger(_ name: String, minimum: Int = 0, maximum: Int = Int.max) throws -> Int? {
        guard let value = self.values[name], value != .null else { return nil }
        let number: Int
        switch value {
        case .int(let int): number = int
        case .double(let double) where double == double.rounded() && abs(double) < 9e15: number = Int(double)
        case .string(let text) where Int(text) != nil: number = Int(text)!
        default: throw self.problem("'\(name)' must be an integer")
        }
        guard number >= minimum, number <= maximum else {
            throw self.problem(
                "'\(name)' must be \(maximum == Int.max ? "at least \(minimum)" : "from \(minimum) to \(maximum)"), "
                    + "not \(number)")
        }
        return number
    }

    func optionalNumber(_ name: String) throws -> Double? {
        guard let value = self.values[name], value != .null else { return nil }
        switch value {
        case .int(let int): return Double(int)
        case .double(let double): return double
        default: throw self.problem("'\(name)' must be a number")
        }
    }

    func optionalBool(_ name: String) throws -> Bool? {
        guard let value = self.values[name], value != .null else { return nil }
        guard case .bool(let flag) = value else { throw self.problem("'\(name)' must be true or false") }
        return flag
    }

    /// Any JSON value, as Statehouse stores it.
    func json(_ name: String) throws -> JSONValue {
        guard let value = self.values[name] else { throw self.problem("'\(name)' is required") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try JSONValue(validating: [UInt8](try encoder.encode(value)))
        } catch let error as StatehouseError {
            throw self.problem("'\(name)' is not a JSON value Statehouse can store: \(error)")
        }
    }

    /// A point in an agent's history: a snapshot name, a commit_ts (a number), or an RFC 3339 time.
    func point(_ name: String) throws -> StatePoint? {
        guard let value = self.values[name], value != .null else { return nil }
        switch value {
        case .int(let commitTS) where commitTS >= 1: return .commit(CommitTS(commitTS))
        case .string(let text):
            if text == "latest" { return .latest }
            if let commitTS = UInt64(text), commitTS >= 1 { return .commit(commitTS) }
            if let time = RFC3339.micros(text) { return .time(time) }
            return .snapshot(text)
        default:
            throw self.problem("'\(name)' must be a snapshot name, a commit_ts (1 or more) or an RFC 3339 time")
        }
    }

    func time(_ name: String) throws -> Microseconds? {
        guard let text = try self.optionalString(name) else { return nil }
        guard let micros = RFC3339.micros(text) else {
            throw self.problem("'\(name)' must be an RFC 3339 time such as 2026-12-05T14:30:00Z, not '\(text)'")
        }
        return micros
    }
}

/// A failure to report to the model as a tool error (its text is the whole message).
struct MCPToolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
