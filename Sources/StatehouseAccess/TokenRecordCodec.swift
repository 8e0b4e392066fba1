import StatehouseCore
import StatehouseModel

/// The stored form of a token: a JSON record at `_statehouse/@tokens/<id>` (docs/security.md, "Tokens"), written by
/// a commit like any state, so that every create and revoke is versioned, in the hash chain and provable.
///
/// ```
/// {"certificate_subject":null|"CN=agent-1","created_at":<µs>,"created_by":"tok_…"|"bootstrap",
///  "expires_at":<µs>|null,"grants":["prod-*:write","*:read"],"name":"…","revoked_at":<µs>|null,
///  "secret_sha256":"<64 hex>"|null}
/// ```
///
/// Members in byte order, no whitespace. The secret itself is never stored.
enum TokenRecordCodec {
    struct Stored: Sendable, Hashable {
        var token: AccessToken
        /// `nil` for a certificate principal.
        var secretDigest: String?
    }

    static func value(_ stored: Stored) -> JSONValue {
        let token = stored.token
        var out = "{\"certificate_subject\":" + (token.certificateSubject.map(JSONString.quoted) ?? "null")
        out += ",\"created_at\":\(token.createdAtMicros),\"created_by\":" + JSONString.quoted(token.createdBy)
        out += ",\"expires_at\":" + (token.expiresAtMicros.map { "\($0)" } ?? "null")
        out += ",\"grants\":[" + token.grants.map { JSONString.quoted($0.description) }.joined(separator: ",") + "]"
        out += ",\"name\":" + JSONString.quoted(token.name)
        out += ",\"revoked_at\":" + (token.revokedAtMicros.map { "\($0)" } ?? "null")
        out += ",\"secret_sha256\":" + (stored.secretDigest.map(JSONString.quoted) ?? "null") + "}"
        return JSONValue(trusted: Array(out.utf8))
    }

    /// Reads a record back.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/dataCorruption(commitTS:reason:)`` when it is not a token record.
    static func stored(_ value: JSONValue, id: String) throws -> Stored {
        func malformed(_ what: String) -> StatehouseError {
            .dataCorruption(commitTS: 0, reason: "token record '\(id)' has no valid \(what)")
        }
        guard let object = try? ParsedJSON(parsing: value.utf8), case .object = object else {
            throw malformed("object")
        }
        func string(_ name: String) throws -> String? {
            switch object[member: name] {
            case .string(let text)?: return text
            case .null?, nil: return nil
            default: throw malformed(name)
            }
        }
        func micros(_ name: String) throws -> UInt64? {
            switch object[member: name] {
            case .number(let text)?:
                guard let value = UInt64(text) else { throw malformed(name) }
                return value
            case .null?, nil: return nil
            default: throw malformed(name)
            }
        }
        guard case .array(let items)? = object[member: "grants"] else { throw malformed("grants") }
        let grants = try items.map { item -> AccessGrant in
            guard case .string(let text) = item, let grant = try? AccessGrant(parsing: text) else {
                throw malformed("grants")
            }
            return grant
        }
        guard let createdAt = try micros("created_at"), let name = try string("name"),
            let createdBy = try string("created_by")
        else { throw malformed("created_at, name or created_by") }
        let token = AccessToken(
            id: id, name: name, grants: grants, createdAtMicros: createdAt, expiresAtMicros: try micros("expires_at"),
            revokedAtMicros: try micros("revoked_at"), createdBy: createdBy,
            certificateSubject: try string("certificate_subject"))
        return Stored(token: token, secretDigest: try string("secret_sha256"))
    }
}
