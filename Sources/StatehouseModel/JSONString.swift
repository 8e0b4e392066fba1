/// Writes a string as a JSON string literal, the way Python's `json.dumps(ensure_ascii=False)` does: `"` and `\`
/// escaped, `\n \r \t \b \f` in their short forms, the other control characters below U+0020 as `\u00XX`, everything
/// else (including non-ASCII) as is.
///
/// One writer for every JSON text Statehouse composes (the original API's values, the CLI's output and the pretty
/// format's summaries, which must match the Python SDK's byte for byte).
public enum JSONString {
    public static func append(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// The JSON string literal of `string`.
    public static func quoted(_ string: String) -> String {
        var out = ""
        self.append(string, to: &out)
        return out
    }
}
