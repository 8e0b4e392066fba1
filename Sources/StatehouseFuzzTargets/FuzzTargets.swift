import StatehouseCore

/// The fuzz targets: each takes arbitrary bytes and checks the properties that must hold for every input, trapping
/// (which the fuzzer reports as a crash) when one does not.
///
/// They live in the main package (they use `package` API) and are driven by libFuzzer from `fuzz/`
/// (`scripts/fuzz.sh`); the inputs that once failed are replayed by `StatehouseFuzzTargetsTests` in every test run.
public enum FuzzTargets {
    /// JSON validation: never crashes; an accepted text is kept byte for byte, validating it again gives the same
    /// answer, and wrapping it in an array is accepted too (unless that crosses the depth limit).
    public static func jsonValidation(_ bytes: [UInt8]) {
        let maxDepth = 64
        guard let value = try? JSONValue(validating: bytes, maxDepth: maxDepth) else {
            precondition((try? JSONValue(validating: bytes, maxDepth: maxDepth)) == nil, "validation is not stable")
            return
        }
        precondition(value.utf8 == bytes, "an accepted value was not kept byte for byte")
        let wrapped = Array("[".utf8) + bytes + Array("]".utf8)
        precondition((try? JSONValue(validating: wrapped, maxDepth: maxDepth + 1)) != nil, "[value] was refused")
    }

    /// Cursor decoding: arbitrary text never crashes and is refused unless it is a real cursor; a cursor made from
    /// the input's bytes decodes back to them, and only for the query and kind it was made for.
    public static func cursorDecoding(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        let query = ["default", "agent"]
        for kind in [PageCursor.Kind.keys, .history, .log] {
            if let position = try? PageCursor.decode(text, kind: kind, query: query) {
                // Accepted: it must re-encode to a cursor with the same position.
                let again = PageCursor.encode(kind: kind, query: query, position: position)
                precondition((try? PageCursor.decode(again, kind: kind, query: query)) == position)
            }
            _ = try? PageCursor.decodeString(text, kind: kind, query: query)
            _ = try? PageCursor.decodeNumber(text, kind: kind, query: query)
        }
        let made = PageCursor.encode(kind: .scan, query: query, position: bytes)
        precondition((try? PageCursor.decode(made, kind: .scan, query: query)) == bytes, "round trip failed")
        precondition((try? PageCursor.decode(made, kind: .keys, query: query)) == nil, "accepted for another kind")
        precondition(
            (try? PageCursor.decode(made, kind: .scan, query: ["other", "agent"])) == nil,
            "accepted for another query")
        _ = Base64URL.decode(text)
    }
}
