import StatehouseModel

/// A JSON object from a request body, read strictly: unknown members are refused with their name and the names this
/// place knows, required members and wrong types are named with their path (`operations[2].key`), so a misspelt
/// member never silently means "not given".
struct HTTPJSONObject {
    let members: [ParsedJSON.Member]
    /// Where this object is in the body, for messages (`the body`, `metadata`, `events[0]`).
    let path: String

    /// Parses a whole body that must be one object; `extraDepth` allows for the wrapper around stored values.
    static func parse(
        _ bytes: [UInt8], limits: EngineLimits, allowing names: Set<String>, extraDepth: Int = 3
    ) throws -> HTTPJSONObject {
        // UTF-8, syntax and depth, with the limits of a stored value (plus the wrapper's levels).
        _ = try JSONValue(validating: bytes, maxDepth: limits.maxJSONDepth + extraDepth)
        return try HTTPJSONObject(try ParsedJSON(parsing: bytes), at: "the body", allowing: names)
    }

    init(_ json: ParsedJSON, at path: String, allowing names: Set<String>) throws {
        guard case .object(let members) = json else { throw HTTPProblem.badRequest("\(path) must be a JSON object") }
        if let unknown = members.first(where: { !names.contains($0.name) }) {
            throw HTTPProblem.badRequest(
                "\(path) has an unknown member '\(unknown.name)'; known: \(names.sorted().joined(separator: ", "))")
        }
        self.members = members
        self.path = path
    }

    func value(_ name: String) -> ParsedJSON? {
        self.members.first { $0.name == name }?.value
    }

    private func where_(_ name: String) -> String { self.path == "the body" ? name : "\(self.path).\(name)" }

    func required<T>(_ name: String, _ read: (String) throws -> T?) throws -> T {
        guard let value = try read(name) else { throw HTTPProblem.badRequest("\(self.path) has no '\(name)'") }
        return value
    }

    func string(_ name: String) throws -> String? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        guard case .string(let text) = value else {
            throw HTTPProblem.badRequest("\(self.where_(name)) must be a string")
        }
        return text
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        guard case .bool(let flag) = value else {
            throw HTTPProblem.badRequest("\(self.where_(name)) must be true or false")
        }
        return flag
    }

    func uint64(_ name: String) throws -> UInt64? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        guard case .number(let text) = value, let number = UInt64(text) else {
            throw HTTPProblem.badRequest("\(self.where_(name)) must be a non-negative integer")
        }
        return number
    }

    /// Any JSON value, as its compact text (numbers and strings keep their exact text).
    func json(_ name: String) throws -> JSONValue? {
        guard let value = self.value(name) else { return nil }
        return try JSONValue(validating: value.compactText)
    }

    /// An RFC 3339 time or integer microseconds since the epoch.
    func time(_ name: String) throws -> Microseconds? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        switch value {
        case .number(let text):
            if let micros = Microseconds(text) { return micros }
        case .string(let text):
            if let micros = RFC3339.micros(text) { return micros }
        default:
            break
        }
        throw HTTPProblem.badRequest(
            "\(self.where_(name)) must be an RFC 3339 time (2026-12-05T10:00:00Z) or microseconds since the epoch")
    }

    func array(_ name: String) throws -> [ParsedJSON]? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        guard case .array(let items) = value else {
            throw HTTPProblem.badRequest("\(self.where_(name)) must be an array")
        }
        return items
    }

    func object(_ name: String, allowing names: Set<String>) throws -> HTTPJSONObject? {
        guard let value = self.value(name), value.isNotNull else { return nil }
        return try HTTPJSONObject(value, at: self.where_(name), allowing: names)
    }

    /// Each element of an array member as an object.
    func objects(_ name: String, allowing names: Set<String>) throws -> [HTTPJSONObject]? {
        try self.array(name)?.enumerated().map {
            try HTTPJSONObject($0.element, at: "\(self.where_(name))[\($0.offset)]", allowing: names)
        }
    }

    /// A string-to-string object (`tags`).
    func stringMap(_ name: String) throws -> [String: String] {
        guard let value = self.value(name), value.isNotNull else { return [:] }
        guard case .object(let members) = value else {
            throw HTTPProblem.badRequest("\(self.where_(name)) must be an object of strings")
        }
        var map: [String: String] = [:]
        for member in members {
            guard case .string(let text) = member.value else {
                throw HTTPProblem.badRequest("\(self.where_(name)).\(member.name) must be a string")
            }
            map[member.name] = text
        }
        return map
    }
}

extension ParsedJSON {
    var isNotNull: Bool {
        if case .null = self { return false }
        return true
    }
}
