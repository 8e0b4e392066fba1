import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import StatehouseModel

/// Building responses: JSON built by ``StatehouseModel/JSONOutput`` (stored values embedded as their bytes), pages with
/// their cursor, and the headers of a key's version.
enum HTTPResponses {
    static func json(_ output: JSONOutput, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: output.text)))
    }

    /// `{"items": [...], "next_cursor": "..." | null}`: a page; pass `next_cursor` back as `cursor` for the next one.
    static func page<Item>(_ page: Page<Item>, _ render: (Item) -> JSONOutput) -> Response {
        self.json(
            .object([
                ("items", .array(page.items.map(render))),
                ("next_cursor", page.nextCursor.map { .string($0) } ?? .null),
            ]))
    }

    /// `ETag: "N"`: a key's version, the validator `If-Match` / `If-None-Match` compare with.
    static func etag(_ version: Version) -> String { "\"\(version)\"" }
}

extension HTTPFields {
    /// Reads a header that must name one key version: `"3"`, `W/"3"` or `3`; `*` only where `star` allows it.
    func version(_ name: HTTPField.Name) throws -> Version? {
        guard let raw = self[name] else { return nil }
        var text = Substring(raw.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2 && text.first == "\"" && text.last == "\"" { text = text.dropFirst().dropLast() }
        guard let version = Version(text), version >= 1 else {
            throw HTTPProblem.badRequest(
                "\(name.rawName) must be one ETag of this API (a key version such as \"3\"), got '\(raw)'")
        }
        return version
    }
}
