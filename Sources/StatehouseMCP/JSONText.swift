import Foundation
import MCP
import StatehouseModel

/// JSON text built piece by piece, with stored values embedded as they are (a stored integer above 2^53 or a number
/// with many digits reaches the model exactly, which a round trip through `Double` would not guarantee).
struct JSONText: Sendable {
    let text: String

    init(raw text: String) {
        self.text = text
    }

    static let null = JSONText(raw: "null")

    static func string(_ value: String) -> JSONText { JSONText(raw: JSONString.quoted(value)) }

    static func number<N: BinaryInteger>(_ value: N) -> JSONText { JSONText(raw: "\(value)") }

    static func bool(_ value: Bool) -> JSONText { JSONText(raw: value ? "true" : "false") }

    static func value(_ value: JSONValue?) -> JSONText { value.map { JSONText(raw: $0.text) } ?? .null }

    static func optional(_ value: String?) -> JSONText { value.map { .string($0) } ?? .null }

    static func time(_ micros: Microseconds) -> JSONText { micros == 0 ? .null : .string(RFC3339.text(micros)) }

    static func array(_ items: [JSONText]) -> JSONText {
        JSONText(raw: "[" + items.map(\.text).joined(separator: ",") + "]")
    }

    /// An object with its members in the given order (names are not repeated).
    static func object(_ members: KeyValuePairs<String, JSONText>) -> JSONText {
        self.object(members.map { ($0.key, $0.value) })
    }

    static func object(_ members: [(String, JSONText)]) -> JSONText {
        JSONText(raw: "{" + members.map { "\(JSONText.string($0.0).text):\($0.1.text)" }.joined(separator: ",") + "}")
    }

    /// The same JSON as MCP's value type, for a tool result's structured content.
    var mcpValue: Value? {
        try? JSONDecoder().decode(Value.self, from: Data(self.text.utf8))
    }
}
