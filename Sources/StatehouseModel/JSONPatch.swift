/// RFC 6902 JSON Patch: the change from one JSON value to another as a list of operations, and applying such a
/// list.
///
/// A patch lets an agent send or store what changed in a large value instead of the whole value. Both directions
/// work on ``JSONValue`` text and write compact JSON: no whitespace, numbers exactly as written (a patch never
/// rounds a big integer), strings escaped as ``JSONString`` escapes them, object members in stored order.
///
/// ``diff(from:to:)`` is deterministic, so the same two values always give the same bytes:
/// - Structurally equal values give `[]`. Objects are equal when they have the same member names with equal values,
///   in any order; strings by code points; numbers by exact decimal value (`1`, `1.0` and `1e0` are equal, and
///   `9007199254740993` differs from `9007199254740992`, which a comparison as `Double` would call equal). So a
///   diff may leave a number in the form the old value wrote it.
/// - Two objects: first a `remove` for each member only the old value has (in its order), then, in the new value's
///   member order, an `add` for each new member and the diff of each member both have.
/// - Two arrays: the diff of each index both have, then the old value's extra elements removed from the last one
///   down, or the new value's extra elements added at `/N` upwards. (No longest-common-subsequence search: an
///   element inserted at the front replaces every element after it. Simple, and always correct.)
/// - Anything else (a changed scalar or a changed type) is one `replace`; the whole value's path is `""`.
///
/// Paths are RFC 6901 JSON Pointers (`~` written `~0`, `/` written `~1`); each operation object has its members
/// in the order `op`, `path`, `value`.
///
/// ```swift
/// let patch = JSONPatch.diff(from: try JSONValue(validating: #"{"n":1,"tags":["a"]}"#),
///                            to: try JSONValue(validating: #"{"n":2,"tags":["a","b"]}"#))
/// // [{"op":"replace","path":"/n","value":2},{"op":"add","path":"/tags/1","value":"b"}]
/// ```
public enum JSONPatch {
    /// The RFC 6902 patch (a JSON array of operations) that turns `old` into `new`, as the type's discussion
    /// describes.
    public static func diff(from old: JSONValue, to new: JSONValue) -> JSONValue {
        var operations: [ParsedJSON] = []
        Self.appendDiff(from: Self.tree(old), to: Self.tree(new), at: "", into: &operations)
        return JSONValue(trusted: Array(ParsedJSON.array(operations).compactText.utf8))
    }

    /// Applies an RFC 6902 patch (`add`, `remove`, `replace`, `move`, `copy`, `test`) to `document`, within the
    /// default ``EngineLimits``.
    ///
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` naming the index of the failing operation and the reason.
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws -> JSONValue {
        try self.apply(patch, to: document, limits: EngineLimits())
    }

    /// Applies an RFC 6902 patch (`add`, `remove`, `replace`, `move`, `copy`, `test`) to `document`.
    ///
    /// The operations apply in order, and the patch applies whole or not at all. Members an operation does not use
    /// are ignored, as RFC 6902 asks. Two limits keep a small patch from building a huge value: a `copy` doubles
    /// what it copies without costing patch bytes, so all copies together may copy at most `limits.maxValueBytes`;
    /// and no operation may nest the document deeper than `limits.maxJSONDepth`. Removing the whole document (path
    /// `""`) is an error, since a JSON value cannot be empty.
    ///
    /// - Parameters:
    ///   - patch: a JSON array of operation objects.
    ///   - document: the value to change.
    ///   - limits: the bounds described above.
    /// - Returns: the patched value, compact.
    /// - Throws: ``StatehouseError/invalidArgument(_:)`` naming the index of the failing operation and the reason
    ///   (a path that does not exist, an index out of bounds or with leading zeros, a failed `test`, an unknown
    ///   `op`, a missing member), or saying that the patch is not an array.
    public static func apply(_ patch: JSONValue, to document: JSONValue, limits: EngineLimits) throws -> JSONValue {
        guard case .array(let operations) = try ParsedJSON(parsing: patch.utf8) else {
            throw StatehouseError.invalidArgument("a JSON patch must be an array of operations")
        }
        var patcher = Patcher(
            document: try ParsedJSON(parsing: document.utf8),
            maxDepth: limits.maxJSONDepth,
            copyAllowance: limits.maxValueBytes
        )
        for (index, operation) in operations.enumerated() {
            do throws(Failure) {
                try patcher.perform(try Operation(operation))
            } catch {
                let label = Operation.name(of: operation).map { " (\($0))" } ?? ""
                throw StatehouseError.invalidArgument("JSON patch operation \(index)\(label): \(error.reason)")
            }
        }
        return JSONValue(trusted: Array(patcher.document.compactText.utf8))
    }

    /// Parses a value; text that does not parse (only possible through ``JSONValue/init(trusted:)``) counts as the
    /// string of itself, so that diffing never fails.
    private static func tree(_ value: JSONValue) -> ParsedJSON {
        (try? ParsedJSON(parsing: value.utf8)) ?? .string(value.text)
    }

    private static func appendDiff(
        from old: ParsedJSON,
        to new: ParsedJSON,
        at path: String,
        into operations: inout [ParsedJSON]
    ) {
        switch (old, new) {
        case (.object(let oldMembers), .object(let newMembers)):
            let newNames = Set(newMembers.map { Array($0.name.utf8) })
            for member in oldMembers where !newNames.contains(Array(member.name.utf8)) {
                operations.append(Self.operation("remove", Self.pointer(path, member.name)))
            }
            let oldValues = Dictionary(oldMembers.map { (Array($0.name.utf8), $0.value) }, uniquingKeysWith: { $1 })
            for member in newMembers {
                let memberPath = Self.pointer(path, member.name)
                if let oldValue = oldValues[Array(member.name.utf8)] {
                    Self.appendDiff(from: oldValue, to: member.value, at: memberPath, into: &operations)
                } else {
                    operations.append(Self.operation("add", memberPath, value: member.value))
                }
            }
        case (.array(let oldItems), .array(let newItems)):
            for index in 0..<min(oldItems.count, newItems.count) {
                Self.appendDiff(
                    from: oldItems[index],
                    to: newItems[index],
                    at: "\(path)/\(index)",
                    into: &operations
                )
            }
            for index in stride(from: oldItems.count - 1, through: newItems.count, by: -1) {
                operations.append(Self.operation("remove", "\(path)/\(index)"))
            }
            for index in oldItems.count..<max(oldItems.count, newItems.count) {
                operations.append(Self.operation("add", "\(path)/\(index)", value: newItems[index]))
            }
        default:
            if old != new { operations.append(Self.operation("replace", path, value: new)) }
        }
    }

    private static func operation(_ op: String, _ path: String, value: ParsedJSON? = nil) -> ParsedJSON {
        var members: [ParsedJSON.Member] = [("op", .string(op)), ("path", .string(path))]
        if let value { members.append(("value", value)) }
        return .object(members)
    }
}

// MARK: - JSON Pointer (RFC 6901)

extension JSONPatch {
    /// Why one operation failed; ``apply(_:to:limits:)`` adds the operation's index.
    fileprivate struct Failure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// `parent` with one more reference token, escaped.
    fileprivate static func pointer(_ parent: String, _ token: String) -> String {
        var out = parent + "/"
        for scalar in token.unicodeScalars {  // scalars, not characters: "~" + U+0301 is one Character
            switch scalar {
            case "~": out += "~0"
            case "/": out += "~1"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The quoted pointer text of `tokens`, for messages; parsing and escaping are inverse, so this is the text as
    /// sent.
    fileprivate static func quotedPointer(_ tokens: some Sequence<String>) -> String {
        JSONString.quoted(tokens.reduce("") { Self.pointer($0, $1) })
    }

    /// The unescaped reference tokens of a JSON Pointer; `""` (the whole document) has none.
    fileprivate static func tokens(_ pointer: String) throws(Failure) -> [String] {
        guard !pointer.isEmpty else { return [] }
        var scalars = pointer.unicodeScalars.makeIterator()
        guard scalars.next() == "/" else {
            throw Failure("\(JSONString.quoted(pointer)) is not a JSON Pointer: it must be empty or start with '/'")
        }
        var tokens: [String] = []
        var token = String.UnicodeScalarView()
        while let scalar = scalars.next() {
            switch scalar {
            case "/":
                tokens.append(String(token))
                token = String.UnicodeScalarView()
            case "~":
                switch scalars.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default:
                    throw Failure("\(JSONString.quoted(pointer)) is not a JSON Pointer: '~' must be followed by 0 or 1")
                }
            default:
                token.append(scalar)
            }
        }
        tokens.append(String(token))
        return tokens
    }
}

// MARK: - Operations

extension JSONPatch {
    fileprivate enum Operation {
        case add(path: [String], value: ParsedJSON)
        case remove(path: [String])
        case replace(path: [String], value: ParsedJSON)
        case move(from: [String], path: [String])
        case copy(from: [String], path: [String])
        case test(path: [String], value: ParsedJSON)

        /// The `op` of an operation object when it is one of the six, for messages.
        static func name(of object: ParsedJSON) -> String? {
            guard case .object(let members) = object,
                let op = members.first(where: { ParsedJSON.sameText($0.name, "op") }),
                case .string(let name) = op.value,
                ["add", "remove", "replace", "move", "copy", "test"].contains(where: { ParsedJSON.sameText($0, name) })
            else { return nil }
            return name
        }

        init(_ object: ParsedJSON) throws(Failure) {
            guard case .object(let members) = object else { throw Failure("an operation must be an object") }
            func member(_ name: String) throws(Failure) -> ParsedJSON {
                guard let found = members.first(where: { ParsedJSON.sameText($0.name, name) }) else {
                    throw Failure("the operation has no \"\(name)\" member")
                }
                return found.value
            }
            func pointer(_ name: String) throws(Failure) -> [String] {
                guard case .string(let text) = try member(name) else { throw Failure("\"\(name)\" is not a string") }
                return try JSONPatch.tokens(text)
            }
            guard case .string(let op) = try member("op") else { throw Failure("\"op\" is not a string") }
            switch op {
            case "add": self = .add(path: try pointer("path"), value: try member("value"))
            case "remove": self = .remove(path: try pointer("path"))
            case "replace": self = .replace(path: try pointer("path"), value: try member("value"))
            case "move": self = .move(from: try pointer("from"), path: try pointer("path"))
            case "copy": self = .copy(from: try pointer("from"), path: try pointer("path"))
            case "test": self = .test(path: try pointer("path"), value: try member("value"))
            default:
                throw Failure("unknown op \(JSONString.quoted(op)); expected add, remove, replace, move, copy or test")
            }
        }
    }

    /// The document being patched, and what is left of the limits.
    fileprivate struct Patcher {
        var document: ParsedJSON
        let maxDepth: Int
        var copyAllowance: Int

        mutating func perform(_ operation: Operation) throws(Failure) {
            switch operation {
            case .add(let path, let value):
                try self.checkDepth(of: value, at: path)
                try self.add(value, at: path)
            case .remove(let path):
                _ = try self.remove(at: path)
            case .replace(let path, let value):
                try self.checkDepth(of: value, at: path)
                try self.replace(at: path, with: value)
            case .move(let from, let path):
                let fromIsPrefix =
                    from.count <= path.count && zip(from, path).allSatisfy { ParsedJSON.sameText($0, $1) }
                if fromIsPrefix && from.count == path.count {
                    _ = try self.value(at: from)  // moving a value onto itself changes nothing, if it exists
                    return
                }
                if fromIsPrefix {
                    throw Failure(
                        "cannot move \(JSONPatch.quotedPointer(from)) into itself at \(JSONPatch.quotedPointer(path))")
                }
                let value = try self.remove(at: from)
                if path.count > from.count { try self.checkDepth(of: value, at: path) }
                try self.add(value, at: path)
            case .copy(let from, let path):
                let value = try self.value(at: from)
                guard let size = value.compactSize(limit: self.copyAllowance) else {
                    throw Failure("the patch copies more than the limit of a value in total")
                }
                self.copyAllowance -= size
                try self.checkDepth(of: value, at: path)
                try self.add(value, at: path)
            case .test(let path, let value):
                guard try self.value(at: path) == value else {
                    throw Failure("test failed: the value at \(JSONPatch.quotedPointer(path)) differs")
                }
            }
        }

        func checkDepth(of value: ParsedJSON, at path: [String]) throws(Failure) {
            guard path.count + value.depth <= self.maxDepth else {
                throw Failure("the result would nest arrays and objects deeper than the limit of \(self.maxDepth)")
            }
        }

        func value(at path: [String]) throws(Failure) -> ParsedJSON {
            var current = self.document
            for depth in path.indices {
                current = current.child(at: try current.slot(path[depth], in: path[..<depth]))
            }
            return current
        }

        mutating func add(_ value: ParsedJSON, at path: [String]) throws(Failure) {
            guard let last = path.last else {
                self.document = value
                return
            }
            try self.modifyContainer(at: path.dropLast()) { (parent: inout ParsedJSON) throws(Failure) in
                let container = path.dropLast()
                switch parent {
                case .array:
                    try parent.modifyArray { items throws(Failure) in
                        let index = try ParsedJSON.arrayIndex(last, count: items.count, appending: true, in: container)
                        items.insert(value, at: index)
                    }
                case .object:
                    parent.modifyObject { members in
                        if let index = members.firstIndex(where: { ParsedJSON.sameText($0.name, last) }) {
                            members[index].value = value
                        } else {
                            members.append((last, value))
                        }
                    }
                case .null, .bool, .number, .string:
                    throw Failure("\(JSONPatch.quotedPointer(container)) is neither an object nor an array")
                }
            }
        }

        mutating func remove(at path: [String]) throws(Failure) -> ParsedJSON {
            guard let last = path.last else { throw Failure("cannot remove the whole document") }
            return try self.modifyContainer(at: path.dropLast()) { (parent: inout ParsedJSON) throws(Failure) in
                let slot = try parent.slot(last, in: path.dropLast())
                let removed = parent.take(slot)
                parent.removeSlot(slot)
                return removed
            }
        }

        mutating func replace(at path: [String], with value: ParsedJSON) throws(Failure) {
            guard let last = path.last else {
                self.document = value
                return
            }
            try self.modifyContainer(at: path.dropLast()) { (parent: inout ParsedJSON) throws(Failure) in
                parent.put(value, at: try parent.slot(last, in: path.dropLast()))
            }
        }

        /// Runs `body` on the container at `path`. Each container on the way is taken out of its parent (a null
        /// left in its place) and put back afterwards, so that it is uniquely referenced and changes in place
        /// instead of being copied.
        mutating func modifyContainer<Result>(
            at path: ArraySlice<String>,
            _ body: (inout ParsedJSON) throws(Failure) -> Result
        ) throws(Failure) -> Result {
            var trail: [(container: ParsedJSON, slot: ParsedJSON.Slot)] = []
            var current = self.document
            self.document = .null
            defer {
                while var parent = trail.popLast() {  // `var` straight from the trail: the only reference
                    parent.container.put(current, at: parent.slot)
                    current = parent.container
                }
                self.document = current
            }
            for depth in path.indices {
                let slot = try current.slot(path[depth], in: path[..<depth])
                let child = current.take(slot)
                trail.append((current, slot))
                current = child
            }
            return try body(&current)
        }
    }
}

// MARK: - Children of a container

extension ParsedJSON {
    /// Where a child sits: an array index or a position in an object's members.
    fileprivate enum Slot {
        case element(Int)
        case member(Int)
    }

    /// The slot of the existing child that `token` names; `container` (the tokens so far) is for messages.
    fileprivate func slot(_ token: String, in container: ArraySlice<String>) throws(JSONPatch.Failure) -> Slot {
        switch self {
        case .array(let items):
            return .element(try Self.arrayIndex(token, count: items.count, appending: false, in: container))
        case .object(let members):
            guard let index = members.firstIndex(where: { Self.sameText($0.name, token) }) else {
                throw JSONPatch.Failure("no value at \(JSONPatch.quotedPointer(container + [token]))")
            }
            return .member(index)
        case .null, .bool, .number, .string:
            throw JSONPatch.Failure(
                "no value at \(JSONPatch.quotedPointer(container + [token])): "
                    + "\(JSONPatch.quotedPointer(container)) is neither an object nor an array"
            )
        }
    }

    /// An array index token: digits without leading zeros, below `count`, or `count` itself (also written `-`)
    /// when `appending`.
    fileprivate static func arrayIndex(
        _ token: String,
        count: Int,
        appending: Bool,
        in container: ArraySlice<String>
    ) throws(JSONPatch.Failure) -> Int {
        if Self.sameText(token, "-") {
            guard appending else {
                throw JSONPatch.Failure(
                    "\"-\" at \(JSONPatch.quotedPointer(container)) names no element; only add uses it")
            }
            return count
        }
        let digits = token.utf8
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            digits.count == 1 || digits.first != UInt8(ascii: "0")
        else {
            throw JSONPatch.Failure(
                "\(JSONString.quoted(token)) at \(JSONPatch.quotedPointer(container)) is not an array index "
                    + "(digits without leading zeros)"
            )
        }
        guard let index = Int(token), index < count || (appending && index == count) else {
            throw JSONPatch.Failure(
                "index \(token) is out of bounds at \(JSONPatch.quotedPointer(container)) (an array of \(count))"
            )
        }
        return index
    }

    fileprivate func child(at slot: Slot) -> ParsedJSON {
        switch (self, slot) {
        case (.array(let items), .element(let index)): return items[index]
        case (.object(let members), .member(let index)): return members[index].value
        default: return .null
        }
    }

    /// The child at `slot`, leaving null in its place so that the child is the only reference to its storage.
    fileprivate mutating func take(_ slot: Slot) -> ParsedJSON {
        let child = self.child(at: slot)
        self.put(.null, at: slot)
        return child
    }

    fileprivate mutating func put(_ child: ParsedJSON, at slot: Slot) {
        switch slot {
        case .element(let index): self.modifyArray { $0[index] = child }
        case .member(let index): self.modifyObject { $0[index].value = child }
        }
    }

    fileprivate mutating func removeSlot(_ slot: Slot) {
        switch slot {
        case .element(let index): self.modifyArray { _ = $0.remove(at: index) }
        case .member(let index): self.modifyObject { _ = $0.remove(at: index) }
        }
    }

    /// Runs `body` on the elements, with `self` set to null meanwhile so that the array storage is not shared; nil
    /// when `self` is not an array.
    @discardableResult
    fileprivate mutating func modifyArray<E: Error>(
        _ body: (inout [ParsedJSON]) throws(E) -> Void
    ) throws(E) -> Void? {
        guard case .array(var items) = self else { return nil }
        self = .null
        defer { self = .array(items) }
        return try body(&items)
    }

    /// Runs `body` on the members, as ``modifyArray(_:)`` does for elements.
    @discardableResult
    fileprivate mutating func modifyObject<E: Error>(
        _ body: (inout [Member]) throws(E) -> Void
    ) throws(E) -> Void? {
        guard case .object(var members) = self else { return nil }
        self = .null
        defer { self = .object(members) }
        return try body(&members)
    }
}
