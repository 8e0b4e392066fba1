import StatehouseCore
import Testing

@Suite("JSON validation")
struct JSONValidationTests {
    @Test(
        "well-formed JSON texts are accepted",
        arguments: [
            "0", "-0", "1.5e-7", "1E+2", "\"\"", "\"\\u00e9\\n\\\"\"", "true", "false", "null", "[]", "{}",
            " [ 1 , { \"a\" : [ ] } ] ", "{\"a\":{\"b\":{\"c\":null}}}", "\"😀é\"", "123456789012345678901234567890",
        ]
    )
    func accepts(_ text: String) throws {
        #expect(try JSONValue(validating: text).text == text)
    }

    @Test(
        "malformed JSON texts are refused",
        arguments: [
            "", " ", "01", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "tru", "nul", "[1,]", "{\"a\":1,}", "[1 2]",
            "{a:1}", "{'a':1}", "\"abc", "\"\\x\"", "\"\\u12g4\"", "\"tab\tinside\"", "[", "]", "{\"a\"}", "1 2",
            "[1]]", "{\"a\":1}}", "\u{FEFF}1",
        ]
    )
    func refuses(_ text: String) {
        #expect(throws: StatehouseError.self) { try JSONValue(validating: text) }
    }

    @Test("invalid UTF-8 inside a string is refused")
    func invalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
        ] {
            #expect(throws: StatehouseError.self) { try JSONValue(validating: bytes) }
        }
    }
}
