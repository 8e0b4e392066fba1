public import Hummingbird
import NIOCore
public import NIOSSL
public import StatehouseAccess
import StatehouseModel
import SwiftASN1
import X509

/// What an HTTP route needs of its caller; the role each capability needs is ``StatehouseAccess/AccessCapability``'s
/// one table, shared with gRPC and MCP.
enum HTTPAccess: Sendable {
    /// Anyone: liveness.
    case open
    /// Any authenticated caller (who am I).
    case authenticated
    /// Any authenticated caller; the answer leaves out what it may not read (the namespace list).
    case filtered
    /// The capability, on the route's `{namespace}`.
    case capability(AccessCapability)
}

extension HTTPAPI {
    /// The access of every route, by operation id. ``StatehouseHTTPServer/router(api:probes:loopbackOnly:)`` refuses to
    /// build a router with a route missing here, and a test checks it.
    static let routeAccess: [String: HTTPAccess] = [
        "health": .open,
        "whoAmI": .authenticated,
        "listNamespaces": .filtered,
        // Read.
        "getValue": .capability(.readState), "keyHistory": .capability(.readState), "getHead": .capability(.readState),
        "listAgents": .capability(.readState), "getAgent": .capability(.readState),
        "listKeys": .capability(.readState), "scanState": .capability(.readState),
        "diffAgent": .capability(.readState), "listSnapshots": .capability(.readState),
        "getSnapshot": .capability(.readState), "getRetention": .capability(.readState),
        "listEvents": .capability(.readState), "getEvent": .capability(.readState),
        "listSessions": .capability(.readState), "getSession": .capability(.readState),
        "listTasks": .capability(.readState), "getTask": .capability(.readState),
        "listCommits": .capability(.readLog), "getCommit": .capability(.readLog), "timeline": .capability(.readLog),
        "replay": .capability(.readLog), "watch": .capability(.watch), "search": .capability(.search),
        "verify": .capability(.verify), "verifiedGet": .capability(.verify), "treeHead": .capability(.verify),
        "inclusionProof": .capability(.verify), "consistencyProof": .capability(.verify),
        // Write.
        "putValue": .capability(.commit), "deleteValue": .capability(.commit), "commit": .capability(.commit),
        "updateAgent": .capability(.changeAgents), "deleteAgent": .capability(.changeAgents),
        // Forking also needs changeSnapshots on the target namespace, which the handler checks (it is in the body).
        "forkAgent": .capability(.readState),
        "createSnapshot": .capability(.changeSnapshots), "deleteSnapshot": .capability(.changeSnapshots),
        "restoreSnapshot": .capability(.changeSnapshots),
        "recordEvents": .capability(.recordEvents), "startSession": .capability(.recordEvents),
        "endSession": .capability(.recordEvents), "createTask": .capability(.recordEvents),
        "updateTask": .capability(.recordEvents),
        // Admin.
        "setRetention": .capability(.retention), "clearRetention": .capability(.retention),
        "compact": .capability(.retention),
        // Artifacts.
        "putArtifact": .capability(.commit), "getArtifact": .capability(.readState),
        "statArtifact": .capability(.readState),
    ]

    /// Authenticates a request (its `Authorization` header, else its client certificate) and runs `respond` as that
    /// principal, checking `access` first. A streaming body (watch, replay) runs after the handler returns, so it is
    /// bound too.
    func withAccess(
        _ access: HTTPAccess, _ request: Request, _ context: HTTPRequestContext,
        _ respond: () async throws -> Response
    ) async throws -> Response {
        if case .open = access { return try await respond() }
        guard self.access.authRequired else {
            if case .capability(let capability) = access {
                try self.access.authorize(capability, namespace: context.parameters.get("namespace") ?? "default")
            }
            return try await respond()
        }
        let authorization = request.headers[.authorization]
        let subject = authorization == nil ? await Self.certificateSubject(context.channel) : nil
        let principal = try await self.access.authenticate(authorization: authorization, certificateSubject: subject)
        return try await AccessScope.bound(principal) {
            if case .capability(let capability) = access {
                try self.access.authorize(capability, namespace: context.parameters.get("namespace") ?? "default")
            } else {
                try self.access.authorizeAuthenticated()
            }
            var response = try await respond()
            let body = response.body
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                try await AccessScope.bound(principal) { try await body.write(writer) }
            }
            return response
        }
    }

    /// The subject of the client certificate mutual TLS verified on this connection, RFC 4514 style; nil without one.
    static func certificateSubject(_ channel: any Channel) async -> String? {
        guard let certificate = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return ClientCertificate.subject(of: certificate)
    }
}

/// The client certificates mutual TLS verified, named as the daemon's listeners name them to access control.
public enum ClientCertificate {
    /// A client certificate's subject, RFC 4514 style (`CN=agent-1,O=Acme`), as gRPC's transport gives it to calls;
    /// `nil` when it cannot be read. The HTTP listener and the gRPC listener's direct unary calls read it with this.
    public static func subject(of certificate: NIOSSLCertificate) -> String? {
        guard let bytes = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: bytes) else {
            return nil
        }
        return String(describing: parsed.subject)
    }
}
