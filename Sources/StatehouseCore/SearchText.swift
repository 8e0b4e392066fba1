/// The text a commit adds to the search index, extracted the same way by every backend.
package enum SearchText {
    /// The string values inside a JSON value (object member names left out), one per line; empty when it has none.
    package static func strings(of value: [UInt8]) -> String {
        guard let parsed = try? ParsedJSON(parsing: value) else { return "" }
        return self.strings(of: parsed)
    }

    /// The string values inside a parsed JSON value, one per line.
    package static func strings(of parsed: ParsedJSON) -> String {
        var lines: [String] = []
        var pending = [parsed]
        while let next = pending.popLast() {
            switch next {
            case .string(let text): lines.append(text)
            case .array(let items): pending += items.reversed()
            case .object(let members): pending += members.map(\.value).reversed()
            case .null, .bool, .number: continue
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A commit's actor, reason and tags (names and values), one per line.
    ///
    /// The principal tag the daemon sets (``StatehouseModel/SystemNamespace/principalTag``) is left out: with auth on
    /// every commit has one, and indexing it would add an index document (an FTS5 insert) to every commit, about a
    /// tenth of a one-write commit's cost. A token's commits are found by reading the log instead.
    package static func metadata(_ metadata: CommitMetadata) -> String {
        var lines = [metadata.actor, metadata.reason].compactMap { $0 }
        for (name, value) in metadata.tags.sorted(by: { $0.key < $1.key }) where name != SystemNamespace.principalTag {
            lines += [name, value]
        }
        return lines.joined(separator: "\n")
    }
}
