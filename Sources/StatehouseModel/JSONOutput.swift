/// A JSON value under construction; raw JSON text (stored values) is embedded as is, never re-encoded.
public enum JSONOutput: Sendable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case raw(String)
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    public var text: String {
        switch self {
        case .string(let value): return Self.quote(value)
        case .number(let value): return value
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .raw(let value): return value
        case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.map { Self.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    public static func quote(_ text: String) -> String { JSONString.quoted(text) }

    public static func int<T: BinaryInteger>(_ value: T) -> JSONOutput { .number("\(value)") }
}
