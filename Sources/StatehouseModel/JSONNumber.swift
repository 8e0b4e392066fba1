/// Writes a double as the shortest JSON number text that reads back as the same double, in the form Python's
/// `repr(float)` (and so its `json.dumps`) uses: plain digits from 1e-4 up to (not including) 1e16, exponent form
/// outside that (`1e-05`, `1e+16`), and always a fraction or an exponent (`100.0`).
///
/// Swift's `description` gives the same shortest digits but switches to the exponent form at 2^53 instead of 1e16;
/// values in between are rewritten here, so that the CLI's summaries match the Python SDK's and a value written
/// through the original API is stored as a Python client would store the same number.
public enum JSONNumber {
    /// - Returns: the text, or `Infinity` / `-Infinity` / `NaN` (as Python writes them; not JSON) for non-finite input.
    public static func pythonRepr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        let text = value.description
        guard let e = text.firstIndex(of: "e"), let exponent = Int(text[text.index(after: e)...]),
            (0..<16).contains(exponent)
        else { return text }
        var mantissa = Substring(text[..<e])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa = mantissa.dropFirst() }
        let digits = mantissa.filter { $0 != "." }  // one digit before the point in exponent form
        let integerLength = exponent + 1
        let integer: String
        let fraction: String
        if digits.count <= integerLength {
            integer = digits + String(repeating: "0", count: integerLength - digits.count)
            fraction = "0"
        } else {
            integer = String(digits.prefix(integerLength))
            fraction = String(digits.dropFirst(integerLength))
        }
        return (negative ? "-" : "") + integer + "." + fraction
    }
}
