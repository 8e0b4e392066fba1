/// Validation of the names that address state: namespaces, agent ids, keys and metadata strings.
///
/// Names are checked before a request reaches the transaction table or the pipeline, so a bad name can never be
/// stored. Error messages name the field and the limit but never echo a whole oversized value.
package enum NameValidation {
    /// The namespace used when a request names none.
    package static let defaultNamespace = "default"

    /// Checks that `namespace` is 1…limit characters of `[A-Za-z0-9._-]`.
    package static func validateNamespace(_ namespace: String, limits: EngineLimits) throws {
        let utf8 = namespace.utf8
        guard !utf8.isEmpty else { throw StatehouseError.invalidArgument("namespace must not be empty") }
        guard utf8.count <= limits.maxNamespaceLength else {
            throw StatehouseError.invalidArgument(
                "namespace is \(utf8.count) characters long; the limit is \(limits.maxNamespaceLength)"
            )
        }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                throw StatehouseError.invalidArgument(
                    "namespace '\(namespace.prefix(64))' may contain only letters, digits, '.', '_' and '-'"
                )
            }
        }
    }

    /// Checks that an agent id is non-empty, within the byte limit, and free of control characters.
    package static func validateAgentID(_ agentID: String, limits: EngineLimits) throws {
        try self.validateText(agentID, field: "agent_id", maxBytes: limits.maxAgentIDBytes, allowEmpty: false)
    }

    /// Checks that a key is non-empty, within the byte limit, and free of control characters.
    package static func validateKey(_ key: String, limits: EngineLimits) throws {
        try self.validateText(key, field: "key", maxBytes: limits.maxKeyBytes, allowEmpty: false)
    }

    /// Checks a prefix used for listing: like a key, but it may be empty.
    package static func validatePrefix(_ prefix: String, limits: EngineLimits) throws {
        try self.validateText(prefix, field: "prefix", maxBytes: limits.maxKeyBytes, allowEmpty: true)
    }

    /// Checks UTF-8 text with no control characters (U+0000–U+001F, U+007F) within `maxBytes`.
    ///
    /// Swift `String`s are valid Unicode by construction, so only length and control characters need checking;
    /// callers that start from raw bytes use ``decodeUTF8(_:field:)`` first.
    package static func validateText(_ text: String, field: String, maxBytes: Int, allowEmpty: Bool) throws {
        let utf8 = text.utf8
        if utf8.isEmpty && !allowEmpty {
            throw StatehouseError.invalidArgument("\(field) must not be empty")
        }
        guard utf8.count <= maxBytes else {
            throw StatehouseError.invalidArgument(
                "\(field) is \(utf8.count) bytes long; the limit is \(maxBytes) bytes"
            )
        }
        for byte in utf8 where byte < 0x20 || byte == 0x7F {
            throw StatehouseError.invalidArgument("\(field) must not contain control characters")
        }
    }

    /// Decodes raw bytes as UTF-8, rejecting invalid sequences instead of repairing them.
    package static func decodeUTF8(_ bytes: [UInt8], field: String) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw StatehouseError.invalidArgument("\(field) is not valid UTF-8")
        }
        return text
    }
}
