package import StatehouseModel
package import StatehouseProto

// Tokens and grants, both ways.
extension Wire {
    package static func grant(_ proto: Statehouse_V2_AccessGrant) throws -> AccessGrant {
        try AccessGrant(namespacePattern: proto.namespacePattern, role: AccessRole.parse(proto.role))
    }

    package static func proto(_ grant: AccessGrant) -> Statehouse_V2_AccessGrant {
        var proto = Statehouse_V2_AccessGrant()
        proto.namespacePattern = grant.namespacePattern
        proto.role = grant.role.rawValue
        return proto
    }

    package static func proto(_ token: AccessToken) -> Statehouse_V2_AccessToken {
        var proto = Statehouse_V2_AccessToken()
        proto.id = token.id
        proto.name = token.name
        proto.grants = token.grants.map(Self.proto)
        proto.createdAtMicros = token.createdAtMicros
        if let expiresAt = token.expiresAtMicros { proto.expiresAtMicros = expiresAt }
        if let revokedAt = token.revokedAtMicros { proto.revokedAtMicros = revokedAt }
        proto.createdBy = token.createdBy
        proto.certificateSubject = token.certificateSubject ?? ""
        return proto
    }

    package static func token(_ proto: Statehouse_V2_AccessToken) throws -> AccessToken {
        AccessToken(
            id: proto.id, name: proto.name, grants: try proto.grants.map(Self.grant),
            createdAtMicros: proto.createdAtMicros,
            expiresAtMicros: proto.hasExpiresAtMicros ? proto.expiresAtMicros : nil,
            revokedAtMicros: proto.hasRevokedAtMicros ? proto.revokedAtMicros : nil, createdBy: proto.createdBy,
            certificateSubject: proto.certificateSubject.isEmpty ? nil : proto.certificateSubject)
    }
}
