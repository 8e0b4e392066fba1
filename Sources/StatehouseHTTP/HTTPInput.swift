import Foundation
import Hummingbird
import StatehouseModel

/// A request's query string and path parameters, read strictly: an unknown parameter, a repeated one or a value
/// that does not parse is a 400 naming it, so that a typo (`?limt=5`) never silently means "the default".
struct HTTPInput {
    private var values: [String: String] = [:]
    private let parameters: Parameters

    init(_ request: Request, _ context: HTTPRequestContext, allowed: Set<String>) throws {
        self.parameters = context.parameters
        for (name, value) in request.uri.queryParameters {
            let name = String(name)
            guard allowed.contains(name) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw HTTPProblem.badRequest(
                    "unknown query parameter '\(name)'"
                        + (known.isEmpty ? "; this route takes none" : "; known: \(known)"))
            }
            guard self.values[name] == nil else {
                throw HTTPProblem.badRequest("query parameter '\(name)' is given twice")
            }
            self.values[name] = String(value)
        }
    }

    /// A path parameter, percent-decoded (a key with `/` in it travels as `%2F` in one path segment).
    func path(_ name: String) throws -> String {
        guard let raw = self.parameters.get(name) else {
            throw HTTPProblem.badRequest("missing path parameter \(name)")
        }
        guard let decoded = raw.removingPercentEncoding else {
            throw HTTPProblem.badRequest("path parameter \(name) is not valid percent-encoded UTF-8: '\(raw)'")
        }
        return decoded
    }

    func string(_ name: String) -> String? { self.values[name] }

    /// A non-empty string, or nil when the parameter is absent.
    func nonEmpty(_ name: String) throws -> String? {
        guard let value = self.values[name] else { return nil }
        guard !value.isEmpty else { throw HTTPProblem.badRequest("query parameter '\(name)' is empty") }
        return value
    }

    func uint64(_ name: String) throws -> UInt64? {
        guard let text = self.values[name] else { return nil }
        guard let value = UInt64(text) else {
            throw HTTPProblem.badRequest("query parameter '\(name)' must be a non-negative integer, got '\(text)'")
        }
        return value
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = self.values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPProblem.badRequest(
                "query parameter '\(name)' must be an integer from \(range.lowerBound) to \(range.upperBound), "
                    + "got '\(text)'")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool {
        switch self.values[name] {
        case nil: return false
        case "", "true", "1": return true
        case "false", "0": return false
        case let text?: throw HTTPProblem.badRequest("query parameter '\(name)' must be true or false, got '\(text)'")
        }
    }

    /// An RFC 3339 time or integer microseconds since the epoch.
    func time(_ name: String) throws -> Microseconds? {
        guard let text = self.values[name] else { return nil }
        if let micros = Int64(text) { return micros }
        guard let micros = RFC3339.micros(text) else {
            throw HTTPProblem.badRequest(
                "query parameter '\(name)' must be an RFC 3339 time (2026-12-05T10:00:00Z) or microseconds since the "
                    + "epoch, got '\(text)'")
        }
        return micros
    }

    /// `limit`, 1 … `maximum`, or `defaultLimit`.
    func limit(default defaultLimit: Int, maximum: Int) throws -> Int {
        try self.int("limit", in: 1...maximum) ?? defaultLimit
    }

    /// The read point of `version`, `at` (a commit_ts) or `as_of` (a time); at most one of them.
    func readPoint(allowVersion: Bool = true) throws -> ReadPoint {
        let given = ["version", "at", "as_of"].filter { self.values[$0] != nil }
        guard given.count <= 1 else {
            throw HTTPProblem.badRequest(
                "give at most one of version, at and as_of; got \(given.joined(separator: ", "))")
        }
        if let version = try self.uint64("version") {
            guard allowVersion else { throw HTTPProblem.badRequest("this route cannot be pinned to a key version") }
            return .version(version)
        }
        if let commitTS = try self.uint64("at") { return .commit(commitTS) }
        if let time = try self.time("as_of") { return .time(time) }
        return .latest
    }
}
