/// Finds SHA-256 digests in stored bytes: every run of exactly 64 lowercase hex digits, bounded by anything that is
/// not one (so a longer hex string is not mistaken for a digest). How a value refers to an artifact: by its digest
/// anywhere in the JSON (`"sha256": "…"`, `"artifact": "…"`, a plain string).
package enum DigestScanner {
    package static func scan(_ bytes: [UInt8], into digests: inout Set<String>) {
        var start = -1
        for index in 0...bytes.count {
            let isHex =
                index < bytes.count
                && ((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index])
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(bytes[index]))
            if isHex {
                if start < 0 { start = index }
            } else if start >= 0 {
                if index - start == 64 { digests.insert(String(decoding: bytes[start..<index], as: UTF8.self)) }
                start = -1
            }
        }
    }
}
