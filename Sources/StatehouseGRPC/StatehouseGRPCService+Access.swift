import GRPCCore
import StatehouseAccess
import StatehouseCore
import StatehouseModel
import StatehouseProto
import StatehouseWire

// The access check of each call (the capability table is StatehouseAccess.AccessCapability), and the token calls.
extension ServiceImplementation {
    /// Checks that the caller may use `capability` in the request's namespace (empty: "default").
    func authorize(_ capability: AccessCapability, _ namespace: String) throws {
        try self.access.authorize(capability, namespace: Wire.namespace(namespace))
    }

    /// Checks a request that names an interactive transaction (``StatehouseAccess/AccessControl/authorizeTransaction(_:_:writingTo:)``).
    func authorizeTransaction(_ txnID: String) throws {
        try self.access.authorizeTransaction(txnID, self.engine.transactionAccess(txnID: txnID), writingTo: nil)
    }

    func createToken(
        request: Statehouse_V2_CreateTokenRequest, context: ServerContext
    ) async throws -> Statehouse_V2_CreateTokenResponse {
        let grants = try request.grants.map(Wire.grant)
        let created = try await self.access.createToken(
            name: request.name, grants: grants,
            expiresAtMicros: request.hasExpiresAtMicros ? request.expiresAtMicros : nil,
            certificateSubject: request.certificateSubject.isEmpty ? nil : request.certificateSubject)
        var response = Statehouse_V2_CreateTokenResponse()
        response.token = Wire.proto(created.token)
        response.secret = created.bearer ?? ""
        return response
    }

    func listTokens(
        request: Statehouse_V2_ListTokensRequest, context: ServerContext
    ) async throws -> Statehouse_V2_ListTokensResponse {
        var response = Statehouse_V2_ListTokensResponse()
        response.tokens = try self.access.listTokens(includeRevoked: request.includeRevoked).map(Wire.proto)
        return response
    }

    func revokeToken(
        request: Statehouse_V2_RevokeTokenRequest, context: ServerContext
    ) async throws -> Statehouse_V2_AccessToken {
        Wire.proto(try await self.access.revokeToken(id: request.id))
    }

    func whoAmI(
        request: Statehouse_V2_WhoAmIRequest, context: ServerContext
    ) async throws -> Statehouse_V2_WhoAmIResponse {
        let identity = try self.access.identity()
        var response = Statehouse_V2_WhoAmIResponse()
        response.principalID = identity.principalID
        response.name = identity.name
        response.grants = identity.grants.map(Wire.proto)
        response.authRequired = identity.authRequired
        return response
    }
}
