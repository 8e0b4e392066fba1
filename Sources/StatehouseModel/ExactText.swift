/// A string compared and hashed by its UTF-8 bytes (its code points), not by Swift's canonical equivalence, under
/// which "é" and "e" + U+0301 are one key. Statehouse stores keys, ids and payload strings as bytes (SQLite compares
/// them so), and a format read by other languages (audit bundles, their advisory and replay plan) must compare them
/// as those do: as code points.
package struct ExactText: Hashable, Sendable, Comparable {
    package let text: String

    package init(_ text: String) { self.text = text }

    package static func == (lhs: ExactText, rhs: ExactText) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    /// UTF-8 byte order, which is code point order.
    package static func < (lhs: ExactText, rhs: ExactText) -> Bool { utf8Order(lhs.text, rhs.text) }

    package func hash(into hasher: inout Hasher) {
        var text = self.text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension Optional where Wrapped == String {
    /// Whether two optional strings hold the same code points (both absent counts as the same).
    package func sameText(as other: String?) -> Bool {
        switch (self, other) {
        case (nil, nil): return true
        case (let a?, let b?): return a.utf8.elementsEqual(b.utf8)
        default: return false
        }
    }
}
