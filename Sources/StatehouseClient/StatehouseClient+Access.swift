public import StatehouseModel
import StatehouseProto
import StatehouseWire

// Tokens (docs/security.md, "Tokens"): the admin calls, and who the client is.
extension StatehouseClient {
    /// Creates a token with `grants` (the caller needs admin on every pattern it grants). Returns the token and its
    /// bearer string, shown this once; a certificate principal (`certificateSubject`) has none.
    public func createToken(
        name: String, grants: [AccessGrant], expiresAtMicros: UInt64? = nil, certificateSubject: String? = nil
    ) async throws -> (token: AccessToken, secret: String?) {
        var request = Statehouse_V2_CreateTokenRequest()
        request.name = name
        request.grants = grants.map(Wire.proto)
        if let expiresAtMicros { request.expiresAtMicros = expiresAtMicros }
        request.certificateSubject = certificateSubject ?? ""
        return try await self.call {
            let response = try await self.stub.createToken(request)
            return (try Wire.token(response.token), response.secret.isEmpty ? nil : response.secret)
        }
    }

    /// The tokens the caller administers, by id (revoked ones too with `includeRevoked`).
    public func listTokens(includeRevoked: Bool = false) async throws -> [AccessToken] {
        var request = Statehouse_V2_ListTokensRequest()
        request.includeRevoked = includeRevoked
        return try await self.call { try await self.stub.listTokens(request).tokens.map(Wire.token) }
    }

    /// Revokes a token: it authenticates nothing from now on, and its open watches end.
    public func revokeToken(id: String) async throws -> AccessToken {
        var request = Statehouse_V2_RevokeTokenRequest()
        request.id = id
        return try await self.call { try Wire.token(try await self.stub.revokeToken(request)) }
    }

    /// Who the daemon takes this client for.
    public func whoAmI() async throws -> AccessIdentity {
        try await self.call {
            let response = try await self.stub.whoAmI(Statehouse_V2_WhoAmIRequest())
            return AccessIdentity(
                principalID: response.principalID, name: response.name, grants: try response.grants.map(Wire.grant),
                authRequired: response.authRequired)
        }
    }
}
