import StatehouseModel
import Testing

/// JSON Patch lives in StatehouseModel, which has no test target of its own; this target is the smallest one that
/// depends on it.
@Suite("JSON Patch (RFC 6902)")
struct JSONPatchTests {
    /// One example: `result` nil means the patch must fail.
    struct Example: Sendable, CustomTestStringConvertible {
        var name: String
        var document: String
        var patch: String
        var result: String?
        var testDescription: String { self.name }
    }

    static let appendixA: [Example] = [
        Example(
            name: "A.1 adding an object member",
            document: #"{"foo": "bar"}"#,
            patch: #"[{"op": "add", "path": "/baz", "value": "qux"}]"#,
            result: #"{"foo":"bar","baz":"qux"}"#
        ),
        Example(
            name: "A.2 adding an array element",
            document: #"{"foo": ["bar", "baz"]}"#,
            patch: #"[{"op": "add", "path": "/foo/1", "value": "qux"}]"#,
            result: #"{"foo":["bar","qux","baz"]}"#
        ),
        Example(
            name: "A.3 removing an object member",
            document: #"{"baz": "qux", "foo": "bar"}"#,
            patch: #"[{"op": "remove", "path": "/baz"}]"#,
            result: #"{"foo":"bar"}"#
        ),
        Example(
            name: "A.4 removing an array element",
            document: #"{"foo": ["bar", "qux", "baz"]}"#,
            patch: #"[{"op": "remove", "path": "/foo/1"}]"#,
            result: #"{"foo":["bar","baz"]}"#
        ),
        Example(
            name: "A.5 replacing a value",
            document: #"{"baz": "qux", "foo": "bar"}"#,
            patch: #"[{"op": "replace", "path": "/baz", "value": "boo"}]"#,
            result: #"{"baz":"boo","foo":"bar"}"#
        ),
        Example(
            name: "A.6 moving a value",
            document: #"{"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}"#,
            patch: #"[{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]"#,
            result: #"{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}"#
        ),
        Example(
            name: "A.7 moving an array element",
            document: #"{"foo": ["all", "grass", "cows", "eat"]}"#,
            patch: #"[{"op": "move", "from": "/foo/1", "path": "/foo/3"}]"#,
            result: #"{"foo":["all","cows","eat","grass"]}"#
        ),
        Example(
            name: "A.8 testing a value: success",
            document: #"{"baz": "qux", "foo": ["a", 2, "c"]}"#,
            patch: #"[{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]"#,
            result: #"{"baz":"qux","foo":["a",2,"c"]}"#
        ),
        Example(
            name: "A.9 testing a value: error",
            document: #"{"baz": "qux"}"#,
            patch: #"[{"op": "test", "path": "/baz", "value": "bar"}]"#,
            result: nil
        ),
        Example(
            name: "A.10 adding a nested member object",
            document: #"{"foo": "bar"}"#,
            patch: #"[{"op": "add", "path": "/child", "value": {"grandchild": {}}}]"#,
            result: #"{"foo":"bar","child":{"grandchild":{}}}"#
        ),
        Example(
            name: "A.11 ignoring unrecognized elements",
            document: #"{"foo": "bar"}"#,
            patch: #"[{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]"#,
            result: #"{"foo":"bar","baz":"qux"}"#
        ),
        Example(
            name: "A.12 adding to a nonexistent target",
            document: #"{"foo": "bar"}"#,
            patch: #"[{"op": "add", "path": "/baz/bat", "value": "qux"}]"#,
            result: nil
        ),
        Example(
            name: "A.14 ~ escape ordering",
            document: #"{"/": 9, "~1": 10}"#,
            patch: #"[{"op": "test", "path": "/~01", "value": 10}]"#,
            result: #"{"/":9,"~1":10}"#
        ),
        Example(
            name: "A.15 comparing strings and numbers",
            document: #"{"/": 9, "~1": 10}"#,
            patch: #"[{"op": "test", "path": "/~01", "value": "10"}]"#,
            result: nil
        ),
        Example(
            name: "A.16 adding an array value",
            document: #"{"foo": ["bar"]}"#,
            patch: #"[{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]"#,
            result: #"{"foo":["bar",["abc","def"]]}"#
        ),
    ]

    @Test("the examples of RFC 6902 Appendix A apply, or fail, as the RFC says", arguments: Self.appendixA)
    func appliesAppendixA(_ example: Example) throws {
        try Self.check(example)
    }

    static func check(_ example: Example) throws {
        let document = try JSONValue(validating: example.document)
        let patch = try JSONValue(validating: example.patch)
        if let result = example.result {
            #expect(try JSONPatch.apply(patch, to: document).text == result)
        } else {
            #expect(throws: StatehouseError.self) { try JSONPatch.apply(patch, to: document) }
        }
    }

    static let moreExamples: [Example] = [
        Example(
            name: "add at the root replaces the document",
            document: #"{"a": 1}"#,
            patch: #"[{"op": "add", "path": "", "value": [1, 2]}]"#,
            result: "[1,2]"
        ),
        Example(
            name: "replace at the root replaces the document",
            document: "[1]",
            patch: #"[{"op": "replace", "path": "", "value": {"b": null}}]"#,
            result: #"{"b":null}"#
        ),
        Example(
            name: "add inserts at index 0 and at the end, and replaces an existing member in place",
            document: #"{"a": [1, 2], "b": 1, "c": 2}"#,
            patch: #"""
                [{"op": "add", "path": "/a/0", "value": 0}, {"op": "add", "path": "/a/3", "value": 3},
                 {"op": "add", "path": "/b", "value": "x"}]
                """#,
            result: #"{"a":[0,1,2,3],"b":"x","c":2}"#
        ),
        Example(
            name: "copy duplicates a value, and later operations see earlier ones",
            document: #"{"a": {"b": [1]}}"#,
            patch: #"""
                [{"op": "copy", "from": "/a", "path": "/c"}, {"op": "add", "path": "/c/b/-", "value": 2},
                 {"op": "test", "path": "/a/b", "value": [1]}]
                """#,
            result: #"{"a":{"b":[1]},"c":{"b":[1,2]}}"#
        ),
        Example(
            name: "move onto itself changes nothing, and move to the root makes the value the document",
            document: #"{"a": {"b": 1}}"#,
            patch: #"[{"op": "move", "from": "/a", "path": "/a"}, {"op": "move", "from": "/a", "path": ""}]"#,
            result: #"{"b":1}"#
        ),
        Example(
            name: "move to a later array index counts after the removal",
            document: "[0, 1, 2, 3]",
            patch: #"[{"op": "move", "from": "/0", "path": "/-"}, {"op": "move", "from": "/2", "path": "/0"}]"#,
            result: "[3,1,2,0]"
        ),
        Example(
            name: "test compares objects in any order and numbers by value",
            document: #"{"o": {"x": 1, "y": [1.0, -0]}, "big": 12345678901234567890}"#,
            patch: #"""
                [{"op": "test", "path": "/o", "value": {"y": [1, 0], "x": 10e-1}},
                 {"op": "test", "path": "/big", "value": 1234567890123456789e1}]
                """#,
            result: #"{"o":{"x":1,"y":[1.0,-0]},"big":12345678901234567890}"#
        ),
        Example(
            name: "test tells big integers apart that are the same double",
            document: "[9007199254740993]",
            patch: #"[{"op": "test", "path": "/0", "value": 9007199254740992}]"#,
            result: nil
        ),
        Example(
            name: "test compares strings by code points, not canonical equivalence",
            document: #"["\u00e9"]"#,
            patch: #"[{"op": "test", "path": "/0", "value": "e\u0301"}]"#,
            result: nil
        ),
        Example(
            name: "escaped names and unicode in paths",
            document: #"{"a/b": 1, "m~n": 2, "é": {"": 3}}"#,
            patch: #"""
                [{"op": "replace", "path": "/a~1b", "value": 10}, {"op": "remove", "path": "/m~0n"},
                 {"op": "replace", "path": "/\u00e9/", "value": "\ud83d\ude00\n"}]
                """#,
            result: #"{"a/b":10,"é":{"":"😀\n"}}"#
        ),
        Example(
            name: "an empty patch writes the document compactly; an unpaired surrogate becomes U+FFFD",
            document: #"{ "s" : ["\ud800x", "\u00e9\/"], "n": 1.50 }"#,
            patch: "[]",
            result: #"{"s":["\#u{FFFD}x","é/"],"n":1.50}"#
        ),
        Example(
            name: "a repeated member name counts once, with its last value",
            document: #"{"a": 1, "b": 2, "a": 3}"#,
            patch: #"[{"op": "test", "path": "/a", "value": 3}]"#,
            result: #"{"a":3,"b":2}"#
        ),
    ]

    @Test("add, remove, replace, move, copy and test follow RFC 6902 beyond its examples", arguments: Self.moreExamples)
    func semantics(_ example: Example) throws {
        try Self.check(example)
    }

    /// A patch that must fail, and the message it must fail with.
    struct Rejection: Sendable, CustomTestStringConvertible {
        var document: String
        var patch: String
        var message: String
        var testDescription: String { self.message }
    }

    static let rejections: [Rejection] = [
        Rejection(document: "{}", patch: #"{"op": "add"}"#, message: "a JSON patch must be an array of operations"),
        Rejection(document: "{}", patch: "[1]", message: "JSON patch operation 0: an operation must be an object"),
        Rejection(
            document: "{}",
            patch: #"[{"path": "/a"}]"#,
            message: #"JSON patch operation 0: the operation has no "op" member"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": 1, "path": "/a"}]"#,
            message: #"JSON patch operation 0: "op" is not a string"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "frob", "path": "/a"}]"#,
            message: #"JSON patch operation 0: unknown op "frob"; expected add, remove, replace, move, copy or test"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "add", "path": "/a"}]"#,
            message: #"JSON patch operation 0 (add): the operation has no "value" member"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "remove"}]"#,
            message: #"JSON patch operation 0 (remove): the operation has no "path" member"#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "copy", "path": "/b"}]"#,
            message: #"JSON patch operation 0 (copy): the operation has no "from" member"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "add", "path": 1, "value": 1}]"#,
            message: #"JSON patch operation 0 (add): "path" is not a string"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "add", "path": "a", "value": 1}]"#,
            message: #"JSON patch operation 0 (add): "a" is not a JSON Pointer: it must be empty or start with '/'"#
        ),
        Rejection(
            document: "{}",
            patch: #"[{"op": "add", "path": "/a~2", "value": 1}]"#,
            message: #"JSON patch operation 0 (add): "/a~2" is not a JSON Pointer: '~' must be followed by 0 or 1"#
        ),
        Rejection(
            document: #"{"foo": [1, 2]}"#,
            patch: #"[{"op": "add", "path": "/foo/01", "value": 0}]"#,
            message:
                #"JSON patch operation 0 (add): "01" at "/foo" is not an array index (digits without leading zeros)"#
        ),
        Rejection(
            document: #"{"foo": [1, 2]}"#,
            patch: #"[{"op": "replace", "path": "/foo/1e0", "value": 0}]"#,
            message: #"JSON patch operation 0 (replace): "1e0" at "/foo" is not an array index "#
                + "(digits without leading zeros)"
        ),
        Rejection(
            document: #"{"foo": [1, 2]}"#,
            patch: #"[{"op": "add", "path": "/foo/3", "value": 0}]"#,
            message: #"JSON patch operation 0 (add): index 3 is out of bounds at "/foo" (an array of 2)"#
        ),
        Rejection(
            document: #"{"foo": [1, 2]}"#,
            patch: #"[{"op": "remove", "path": "/foo/2"}]"#,
            message: #"JSON patch operation 0 (remove): index 2 is out of bounds at "/foo" (an array of 2)"#
        ),
        Rejection(
            document: "[1]",
            patch: #"[{"op": "remove", "path": "/99999999999999999999999"}]"#,
            message: "JSON patch operation 0 (remove): index 99999999999999999999999 is out of bounds "
                + #"at "" (an array of 1)"#
        ),
        Rejection(
            document: #"{"foo": [1, 2]}"#,
            patch: #"[{"op": "remove", "path": "/foo/-"}]"#,
            message: #"JSON patch operation 0 (remove): "-" at "/foo" names no element; only add uses it"#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "remove", "path": "/b"}]"#,
            message: #"JSON patch operation 0 (remove): no value at "/b""#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "replace", "path": "/b", "value": 1}]"#,
            message: #"JSON patch operation 0 (replace): no value at "/b""#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "test", "path": "/a/b", "value": 1}]"#,
            message: #"JSON patch operation 0 (test): no value at "/a/b": "/a" is neither an object nor an array"#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "add", "path": "/a/b", "value": 1}]"#,
            message: #"JSON patch operation 0 (add): "/a" is neither an object nor an array"#
        ),
        Rejection(
            document: #"{"a": {"b": {}}}"#,
            patch: #"[{"op": "move", "from": "/a", "path": "/a/b/c"}]"#,
            message: #"JSON patch operation 0 (move): cannot move "/a" into itself at "/a/b/c""#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "move", "from": "/x", "path": "/x"}]"#,
            message: #"JSON patch operation 0 (move): no value at "/x""#
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "remove", "path": ""}]"#,
            message: "JSON patch operation 0 (remove): cannot remove the whole document"
        ),
        Rejection(
            document: #"{"a": 1}"#,
            patch: #"[{"op": "add", "path": "/x", "value": 1}, {"op": "test", "path": "/x", "value": 2}]"#,
            message: #"JSON patch operation 1 (test): test failed: the value at "/x" differs"#
        ),
    ]

    @Test("a bad patch fails whole, naming the operation's index and the reason", arguments: Self.rejections)
    func rejection(_ rejection: Rejection) throws {
        let document = try JSONValue(validating: rejection.document)
        let patch = try JSONValue(validating: rejection.patch)
        let error = #expect(throws: StatehouseError.self) { try JSONPatch.apply(patch, to: document) }
        #expect(error == .invalidArgument(rejection.message))
    }

    @Test("no operation may nest deeper than the depth limit, and copies together stay under the size limit")
    func limits() throws {
        var limits = EngineLimits()
        limits.maxJSONDepth = 3
        limits.maxValueBytes = 20
        let document = try JSONValue(validating: #"{"a": {}, "s": "0123456789"}"#)
        let fits = try JSONValue(validating: #"[{"op": "add", "path": "/a/b", "value": [1]}]"#)
        #expect(try JSONPatch.apply(fits, to: document, limits: limits).text == #"{"a":{"b":[1]},"s":"0123456789"}"#)
        let deep = try JSONValue(validating: #"[{"op": "add", "path": "/a/b", "value": [[1]]}]"#)
        #expect(throws: StatehouseError.self) { try JSONPatch.apply(deep, to: document, limits: limits) }
        let deepMove = try JSONValue(
            validating: #"[{"op": "add", "path": "/b", "value": [[1]]}, {"op": "move", "from": "/b", "path": "/a/b"}]"#)
        #expect(throws: StatehouseError.self) { try JSONPatch.apply(deepMove, to: document, limits: limits) }
        let oneCopy = try JSONValue(validating: #"[{"op": "copy", "from": "/s", "path": "/t"}]"#)
        #expect(try JSONPatch.apply(oneCopy, to: document, limits: limits).text.hasSuffix(#""t":"0123456789"}"#))
        let twoCopies = try JSONValue(
            validating: #"[{"op": "copy", "from": "/s", "path": "/t"}, {"op": "copy", "from": "/s", "path": "/u"}]"#
        )
        let error = #expect(throws: StatehouseError.self) {
            try JSONPatch.apply(twoCopies, to: document, limits: limits)
        }
        #expect(
            error
                == .invalidArgument(
                    "JSON patch operation 1 (copy): the patch copies more than the limit of a value in total"))
    }

    // MARK: - Diff

    @Test(
        "equal documents give an empty patch, whatever their member order, whitespace and number forms",
        arguments: [
            (#"{"a": 1, "b": [1, 2, {"c": null}]}"#, #" { "b" : [ 1, 2.0, {"c":null} ], "a" : 1e0 } "#),
            ("[]", "[ ]"),
            (#""\u00e9""#, #""é""#),
            ("-0", "0.0"),
            (#"{"a": 1, "a": 2}"#, #"{"a": 2}"#),
        ]
    )
    func diffOfEqualDocuments(_ pair: (String, String)) throws {
        let old = try JSONValue(validating: pair.0)
        let new = try JSONValue(validating: pair.1)
        #expect(JSONPatch.diff(from: old, to: new).text == "[]")
        #expect(JSONPatch.diff(from: new, to: old).text == "[]")
        #expect(JSONPatch.diff(from: old, to: old).text == "[]")
    }

    @Test(
        "diff writes the documented operations",
        arguments: [
            // Key escaping: ~ as ~0, / as ~1.
            (
                #"{"a/b": 1, "m~n": 2, "~1": 3}"#, #"{"a/b": 4, "m~n": 5, "~1": 6}"#,
                #"[{"op":"replace","path":"/a~1b","value":4},{"op":"replace","path":"/m~0n","value":5},"#
                    + #"{"op":"replace","path":"/~01","value":6}]"#
            ),
            // Type changes replace; the root's path is "".
            (
                #"{"a": 1, "b": "x", "c": [], "d": {}, "e": null}"#,
                #"{"a": "1", "b": null, "c": {}, "d": [], "e": false}"#,
                #"[{"op":"replace","path":"/a","value":"1"},{"op":"replace","path":"/b","value":null},"#
                    + #"{"op":"replace","path":"/c","value":{}},{"op":"replace","path":"/d","value":[]},"#
                    + #"{"op":"replace","path":"/e","value":false}]"#
            ),
            ("[]", "{}", #"[{"op":"replace","path":"","value":{}}]"#),
            ("1", "2", #"[{"op":"replace","path":"","value":2}]"#),
            ("{}", #"{"": 1}"#, #"[{"op":"add","path":"/","value":1}]"#),
            // Nested: removes first, then the new document's member order; arrays index by index.
            (
                #"{"x": true, "a": {"b": [1, 2, 3], "c": {"d": 1}}}"#,
                #"{"a": {"c": {"d": 1, "e": []}, "b": [1, 5]}, "y": {"z": [null]}}"#,
                #"[{"op":"remove","path":"/x"},{"op":"add","path":"/a/c/e","value":[]},"#
                    + #"{"op":"replace","path":"/a/b/1","value":5},{"op":"remove","path":"/a/b/2"},"#
                    + #"{"op":"add","path":"/y","value":{"z":[null]}}]"#
            ),
            // Extra trailing elements: removed from the last one down, or added upwards.
            (
                "[1, 2, 3, 4]", "[1]",
                #"[{"op":"remove","path":"/3"},{"op":"remove","path":"/2"},{"op":"remove","path":"/1"}]"#
            ),
            ("[[1]]", "[[1, 2, 3]]", #"[{"op":"add","path":"/0/1","value":2},{"op":"add","path":"/0/2","value":3}]"#),
            // Numbers are written as their text, big integers exactly.
            (
                "[9007199254740992, 1.50]", "[9007199254740993, 1.5e0]",
                #"[{"op":"replace","path":"/0","value":9007199254740993}]"#
            ),
            // Strings compare by code points and are written with JSON's escapes, the rest as UTF-8.
            (
                #"{"s": "a"}"#, #"{"s": "\u00e9\ud83d\ude00\n\"\\\u0001/\u2028"}"#,
                #"[{"op":"replace","path":"/s","value":"é😀\n\"\\\u0001/"# + "\u{2028}" + #""}]"#
            ),
            (#"["\u00e9"]"#, #"["e\u0301"]"#, #"[{"op":"replace","path":"/0","value":"é"}]"#),
        ]
    )
    func diffOperations(_ example: (String, String, String)) throws {
        let old = try JSONValue(validating: example.0)
        let new = try JSONValue(validating: example.1)
        let patch = JSONPatch.diff(from: old, to: new)
        #expect(patch.text == example.2)
        #expect(try Self.same(JSONPatch.apply(patch, to: old), new))
    }

    @Test("strings with escapes and non-ASCII text round-trip through diff and apply")
    func unicodeRoundTrip() throws {
        let strings = ["é", "😀", "\n", "\"", "\\", "\u{0}\u{1F}\u{7F}", "e\u{301}", "日本語\t/~", "\u{FEFF}"]
        for string in strings {
            let old = try JSONValue(validating: "{}")
            let new = try JSONValue(
                validating: #"{"# + JSONString.quoted(string) + ":" + JSONString.quoted(string) + "}")
            let patched = try JSONPatch.apply(JSONPatch.diff(from: old, to: new), to: old)
            #expect(patched == new)
            #expect(JSONPatch.diff(from: patched, to: new).text == "[]")
        }
    }

    @Test("for random pairs of documents, applying the diff of the pair to the first gives the second")
    func diffThenApplyProperty() throws {
        var random = SplitMix64(seed: 0x6902_5EED)
        var changedRounds = 0
        var nestedPaths = 0
        for round in 0..<400 {
            let first = RandomJSON.make(depth: 4, using: &random)
            let second =
                random.next() % 4 == 0 ? RandomJSON.make(depth: 4, using: &random) : first.mutated(using: &random)
            let old = try JSONValue(validating: first.text(using: &random))
            let new = try JSONValue(validating: second.text(using: &random))
            let patch = JSONPatch.diff(from: old, to: new)
            let patched = try JSONPatch.apply(patch, to: old)
            #expect(try Self.same(patched, new), "round \(round): \(old) -> \(new) by \(patch) gave \(patched)")
            #expect(JSONPatch.diff(from: patched, to: new).text == "[]", "round \(round)")
            #expect(JSONPatch.diff(from: old, to: old).text == "[]", "round \(round)")
            guard case .array(let operations) = try ParsedJSON(parsing: patch.utf8) else { continue }
            if !operations.isEmpty { changedRounds += 1 }
            nestedPaths += operations.count { operation in
                guard case .object(let members) = operation, case .string(let path) = members[1].value else {
                    return false
                }
                return path.count { $0 == "/" } >= 2
            }
        }
        // The generator is useful only if most pairs differ and many changes lie below the top level.
        #expect(changedRounds > 250)
        #expect(nestedPaths > 100)
    }

    @Test("documents nested to the depth limit parse, diff, patch and write")
    func deepDocuments() throws {
        let depth = EngineLimits().maxJSONDepth
        let old = try JSONValue(validating: String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        let new = try JSONValue(
            validating: String(repeating: "[", count: depth - 1) + "[1]" + String(repeating: "]", count: depth - 1)
        )
        let patch = JSONPatch.diff(from: old, to: new)
        let path = String(repeating: "/0", count: depth - 1)
        #expect(patch.text == #"[{"op":"add","path":""# + path + #"/0","value":1}]"#)
        #expect(try JSONPatch.apply(patch, to: old) == new)
        let tooDeep = try JSONValue(validating: #"[{"op":"add","path":""# + path + #"/0","value":[]}]"#)
        #expect(throws: StatehouseError.self) { try JSONPatch.apply(tooDeep, to: old) }
    }

    /// Structural equality, as the `test` operation sees it.
    static func same(_ lhs: JSONValue, _ rhs: JSONValue) throws -> Bool {
        try ParsedJSON(parsing: lhs.utf8) == ParsedJSON(parsing: rhs.utf8)
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a seeded generator, so that a failing round can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = self.state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// A random JSON document for the property test, drawn from small pools so that two documents share names and
/// values often enough for the diff to recurse.
enum RandomJSON {
    case scalar(String)
    case array([RandomJSON])
    case object([(String, RandomJSON)])

    static let scalars = [
        "null", "true", "false", "0", "-1", "42", "1.5", "-0.25e3", "12345678901234567890", #""""#, #""a""#,
        #""é""#, #""😀""#, #""line\nbreak""#, #""q\"uote""#, #""\u00e9""#, #""\ud83d\ude00""#, #""back\\slash""#,
    ]
    static let names = ["a", "b", "c", "a/b", "m~n", "~1", "é", "", "0", "-"]

    static func make(depth: Int, using random: inout SplitMix64) -> RandomJSON {
        if depth == 0 || Int.random(in: 0..<10, using: &random) < 4 {
            return .scalar(Self.scalars.randomElement(using: &random)!)
        }
        let count = Int.random(in: 0...4, using: &random)
        if Bool.random(using: &random) {
            return .array((0..<count).map { _ in Self.make(depth: depth - 1, using: &random) })
        }
        let names = Self.names.shuffled(using: &random).prefix(count)
        return .object(names.map { ($0, Self.make(depth: depth - 1, using: &random)) })
    }

    /// A copy with some values changed, removed, added or reordered.
    func mutated(using random: inout SplitMix64) -> RandomJSON {
        let roll = Int.random(in: 0..<10, using: &random)
        switch self {
        case _ where roll == 0:
            return Self.make(depth: 2, using: &random)
        case .scalar:
            return roll < 3 ? Self.make(depth: 1, using: &random) : self
        case .array(var items):
            items = items.map { Bool.random(using: &random) ? $0.mutated(using: &random) : $0 }
            if roll < 4, !items.isEmpty { items.remove(at: Int.random(in: 0..<items.count, using: &random)) }
            if roll >= 7 { items.insert(Self.make(depth: 2, using: &random), at: items.count / 2) }
            return .array(items)
        case .object(var members):
            members = members.map { Bool.random(using: &random) ? ($0.0, $0.1.mutated(using: &random)) : $0 }
            if roll < 4, !members.isEmpty { members.remove(at: Int.random(in: 0..<members.count, using: &random)) }
            if roll >= 6, let name = Self.names.first(where: { name in !members.contains { $0.0 == name } }) {
                members.append((name, Self.make(depth: 2, using: &random)))
            }
            if roll == 9 { members.shuffle(using: &random) }
            return .object(members)
        }
    }

    /// The JSON text, with whitespace here and there.
    func text(using random: inout SplitMix64) -> String {
        let separator = Bool.random(using: &random) ? "," : " , "
        switch self {
        case .scalar(let text):
            return text
        case .array(let items):
            return "[" + items.map { $0.text(using: &random) }.joined(separator: separator) + "]"
        case .object(let members):
            let texts = members.map { JSONString.quoted($0.0) + ": " + $0.1.text(using: &random) }
            return "{" + texts.joined(separator: separator) + "}"
        }
    }
}
