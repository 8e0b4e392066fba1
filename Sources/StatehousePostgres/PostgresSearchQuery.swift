import StatehouseModel

/// A search query in SQLite FTS5's syntax (what ``StatehouseModel/SearchQuery/text`` is written in), turned into the
/// text of a PostgreSQL `tsquery` for `to_tsquery('simple', …)`.
///
/// Clients write one query language whatever the backend, so this parses the FTS5 subset people use, with FTS5's
/// grammar and precedence, and refuses the rest by name rather than reading it some other way:
///
/// - words and `"quoted phrases"` (`""` is a quote inside one), `a + b` joining phrases; adjacent phrases must all
///   match (an implicit AND that binds tighter than any operator, as in FTS5: `a b NOT c` is `(a b) NOT c`);
/// - `AND`, `OR` and binary `NOT` (upper case; lower case they are words), `NOT` binding tightest, then `AND`, then
///   `OR`, and parentheses;
/// - `word*` and `"a phrase"*`: the last word of the phrase is a prefix.
///
/// `NEAR(…)`, column filters (`col:`, `{a b}:`, `-col:`) and `^` (initial word) are refused as not supported: they
/// have no exact `tsquery` counterpart. Words are split as the index splits documents
/// (``PostgresSearchIndex/separators`` become spaces), and each word goes to PostgreSQL quoted, so its parser and
/// dictionary treat it exactly as the same word in a document. A phrase with no word (`""`) drops out of the query as
/// it does in FTS5 (`"" NOT a` matches nothing, `a OR ""` is `a`).
struct PostgresSearchQuery {
    /// One word of a phrase; `prefix` matches every word that starts with it.
    struct Word: Equatable {
        var text: String
        var prefix: Bool
    }

    indirect enum Node: Equatable {
        case phrase([Word])
        case and(Node, Node)
        case or(Node, Node)
        /// Matches the first and not the second (FTS5's NOT is binary).
        case not(Node, Node)
    }

    /// The parsed query; `nil` when it holds no word at all (it matches nothing).
    var root: Node?

    /// Parses `text`.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a query FTS5 would refuse (naming the
    ///   token it stopped at, or an unterminated string) or one that uses syntax this store does not support.
    init(_ text: String) throws {
        var parser = Parser(tokens: try Tokenizer.tokens(of: text))
        let root = try parser.expression()
        guard parser.peek == .end else { throw Self.syntaxError(near: parser.peek) }
        self.root = root
    }

    /// The query as `tsquery` text; `nil` when it matches nothing.
    var tsquery: String? { self.root.map(Self.render) }

    private static func render(_ node: Node) -> String {
        switch node {
        case .phrase(let words):
            // Each word is quoted; the separators (quotes and backslashes among them) were already taken out of it.
            let terms = words.map { "'\($0.text)'" + ($0.prefix ? ":*" : "") }
            return terms.count == 1 ? terms[0] : "(" + terms.joined(separator: " <-> ") + ")"
        case .and(let left, let right): return "(\(self.render(left)) & \(self.render(right)))"
        case .or(let left, let right): return "(\(self.render(left)) | \(self.render(right)))"
        case .not(let left, let right): return "(\(self.render(left)) & !\(self.render(right)))"
        }
    }

    static func syntaxError(near token: Token) -> StatehouseError {
        .invalidArgument("the search query is malformed: syntax error near \"\(token.text)\"")
    }

    static func unsupported(_ what: String) -> StatehouseError {
        .invalidArgument("the search query uses \(what), which the PostgreSQL store does not support")
    }

    /// The words of a phrase's text, split where the index splits a document's text.
    static func words(of text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if PostgresSearchIndex.isSeparator(scalar) {
                if !current.isEmpty { words.append(String(current)) }
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(String(current)) }
        return words
    }
}

extension PostgresSearchQuery {
    enum Token: Equatable {
        /// A bareword (`quoted` false) or a quoted string.
        case string(String, quoted: Bool)
        case and, or, not, leftParenthesis, rightParenthesis, star, plus, comma, end

        /// The token as the query spelled it, for error messages.
        var text: String {
            switch self {
            case .string(let text, let quoted): quoted ? "\"\(text)\"" : text
            case .and: "AND"
            case .or: "OR"
            case .not: "NOT"
            case .leftParenthesis: "("
            case .rightParenthesis: ")"
            case .star: "*"
            case .plus: "+"
            case .comma: ","
            case .end: ""
            }
        }
    }

    /// FTS5's tokenizer of queries (`fts5ExprGetToken`).
    enum Tokenizer {
        static func tokens(of text: String) throws -> [Token] {
            var tokens: [Token] = []
            let scalars = Array(text.unicodeScalars)
            var index = 0
            while index < scalars.count {
                let scalar = scalars[index]
                switch scalar {
                case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}":
                    index += 1
                case "(":
                    tokens.append(.leftParenthesis)
                    index += 1
                case ")":
                    tokens.append(.rightParenthesis)
                    index += 1
                case "*":
                    // FTS5 reads a query that starts with `*` as a special command, which no client means.
                    guard !tokens.isEmpty else { throw PostgresSearchQuery.syntaxError(near: .star) }
                    tokens.append(.star)
                    index += 1
                case "+":
                    tokens.append(.plus)
                    index += 1
                case ",":
                    tokens.append(.comma)
                    index += 1
                case "\"":
                    var string = String.UnicodeScalarView()
                    index += 1
                    while true {
                        guard index < scalars.count else {
                            throw StatehouseError.invalidArgument("the search query is malformed: unterminated string")
                        }
                        if scalars[index] == "\"" {
                            if index + 1 < scalars.count, scalars[index + 1] == "\"" {
                                string.append("\"")
                                index += 2
                                continue
                            }
                            index += 1
                            break
                        }
                        string.append(scalars[index])
                        index += 1
                    }
                    tokens.append(.string(String(string), quoted: true))
                case ":", "{", "}", "-":
                    throw PostgresSearchQuery.unsupported("a column filter (\"\(scalar)\")")
                case "^":
                    throw PostgresSearchQuery.unsupported("an initial-word match (\"^\")")
                default:
                    guard Self.isBareword(scalar) else {
                        throw PostgresSearchQuery.syntaxError(near: .string(String(scalar), quoted: false))
                    }
                    var word = String.UnicodeScalarView()
                    while index < scalars.count, Self.isBareword(scalars[index]) {
                        word.append(scalars[index])
                        index += 1
                    }
                    switch String(word) {
                    case "AND": tokens.append(.and)
                    case "OR": tokens.append(.or)
                    case "NOT": tokens.append(.not)
                    case let word: tokens.append(.string(word, quoted: false))
                    }
                }
            }
            tokens.append(.end)
            return tokens
        }

        /// FTS5's bareword characters: ASCII letters and digits, `_`, U+001A and everything outside ASCII.
        static func isBareword(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x1A, 0x80...: true
            default: false
            }
        }
    }

    /// Recursive descent over FTS5's grammar (`fts5parse.y`): `OR` below `AND` below `NOT`, each left-associative;
    /// an operand is a parenthesized expression or a run of phrases.
    struct Parser {
        var tokens: [Token]
        var position = 0

        var peek: Token { self.tokens[self.position] }

        mutating func next() -> Token {
            defer { self.position += 1 }
            return self.tokens[self.position]
        }

        mutating func expression() throws -> Node? {
            var node = try self.conjunction()
            while self.peek == .or {
                self.position += 1
                let right = try self.conjunction()
                node = Self.combine(node, right) { .or($0, $1) } ?? node ?? right
            }
            return node
        }

        mutating func conjunction() throws -> Node? {
            var node = try self.negation()
            while self.peek == .and {
                self.position += 1
                let right = try self.negation()
                node = Self.combine(node, right) { .and($0, $1) } ?? node ?? right
            }
            return node
        }

        mutating func negation() throws -> Node? {
            var node = try self.operand()
            while self.peek == .not {
                self.position += 1
                let right = try self.operand()
                // Nothing NOT x is nothing; x NOT nothing is x.
                if let left = node, let right { node = .not(left, right) }
            }
            return node
        }

        mutating func operand() throws -> Node? {
            if self.peek == .leftParenthesis {
                self.position += 1
                let node = try self.expression()
                guard self.peek == .rightParenthesis else { throw PostgresSearchQuery.syntaxError(near: self.peek) }
                self.position += 1
                return node
            }
            guard case .string = self.peek else { throw PostgresSearchQuery.syntaxError(near: self.peek) }
            var node: Node?
            while case .string = self.peek {
                let phrase = try self.phrase()
                node = Self.combine(node, phrase) { .and($0, $1) } ?? node ?? phrase
            }
            return node
        }

        /// `STRING star? (+ STRING star?)*`; `nil` when it has no word.
        mutating func phrase() throws -> Node? {
            var words: [Word] = []
            while true {
                guard case .string(let text, let quoted) = self.next() else {
                    throw PostgresSearchQuery.syntaxError(near: self.tokens[self.position - 1])
                }
                if self.peek == .leftParenthesis {
                    // `NAME(` is FTS5's NEAR group (any other name is an error there too).
                    if text == "NEAR" && !quoted { throw PostgresSearchQuery.unsupported("NEAR(…)") }
                    throw PostgresSearchQuery.syntaxError(near: .string(text, quoted: quoted))
                }
                var found = PostgresSearchQuery.words(of: text).map { Word(text: $0, prefix: false) }
                // PostgreSQL ignores longer words, in documents and in queries: the query would match more, not less.
                if let long = found.first(where: { $0.text.utf8.count > 2047 }) {
                    throw StatehouseError.invalidArgument(
                        "the search query has a word longer than 2047 bytes ('\(long.text.prefix(32))…')")
                }
                if self.peek == .star {
                    self.position += 1
                    if !found.isEmpty { found[found.count - 1].prefix = true }
                }
                words += found
                guard self.peek == .plus else { break }
                self.position += 1
            }
            return words.isEmpty ? nil : .phrase(words)
        }

        static func combine(_ left: Node?, _ right: Node?, _ make: (Node, Node) -> Node) -> Node? {
            guard let left, let right else { return nil }
            return make(left, right)
        }
    }
}
