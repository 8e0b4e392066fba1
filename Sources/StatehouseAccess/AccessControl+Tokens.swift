import Foundation
import Logging
public import StatehouseCore
public import StatehouseModel

extension AccessControl {
    /// Reads the token records, and with auth on and no token at all yet, creates the first admin token and writes it
    /// to ``Configuration/bootstrapTokenPath``. Requests wait until this ran.
    public func start() async throws {
        let records = try await self.engine.systemRecords(agent: SystemNamespace.tokensAgent).compactMap { record in
            try record.value.map { try TokenRecordCodec.stored($0, id: record.key) }
        }
        // Requests wait until the records are in (and the bootstrap token, when one is made, is in its file).
        defer { self.registry.load(records) }
        guard self.authRequired else { return }
        guard records.isEmpty else {
            self.logger.info("Auth is required", metadata: ["tokens": "\(records.count)"])
            return
        }
        guard let path = self.configuration.bootstrapTokenPath else {
            throw StatehouseError.invalidArgument(
                "auth is required and the store has no token yet, but there is nowhere to write the first admin "
                    + "token (a store in memory): set auth-bootstrap-token-file")
        }
        let (token, secret) = try await self.issue(
            name: "bootstrap admin", grants: [AccessGrant(everyNamespace: .admin)], expiresAtMicros: nil,
            certificateSubject: nil, createdBy: "bootstrap")
        try Self.writeSecretFile(secret ?? "", to: path)
        self.logger.notice(
            "Created the first admin token; its secret is in the bootstrap token file (mode 0600)",
            metadata: ["token.id": "\(token.id)", "file": "\(path)"])
    }

    /// Returns once ``start()`` ran: the token records are loaded and the bootstrap token file, if any, written.
    public func ready() async {
        await self.registry.loaded()
    }

    /// What the Health calls wait for before they answer "ok": with auth on, ``ready()``, so that a client that waits
    /// for Health and then reads the bootstrap token file finds it written; with auth off, nothing.
    public func readyToServe() async {
        guard self.authRequired else { return }
        await self.ready()
    }

    // MARK: Token administration

    /// Creates a token (or, with `certificateSubject`, a certificate principal) for the current request.
    ///
    /// The caller needs the admin role on every pattern it grants: a namespace admin delegates within its namespaces,
    /// never beyond.
    /// - Returns: the token and its bearer string (`nil` for a certificate principal): the only time it is shown.
    public func createToken(
        name: String, grants: [AccessGrant], expiresAtMicros: UInt64?, certificateSubject: String?
    ) async throws -> (token: AccessToken, bearer: String?) {
        let principal = try self.validPrincipal()
        guard !grants.isEmpty else {
            throw StatehouseError.invalidArgument("a token needs at least one grant, such as 'prod-*:write'")
        }
        try NameValidation.validateText(name, field: "token name", maxBytes: 256, allowEmpty: true)
        if let expiresAtMicros, expiresAtMicros <= self.nowMicros {
            throw StatehouseError.invalidArgument("expires_at \(expiresAtMicros) is not in the future")
        }
        if let certificateSubject {
            try NameValidation.validateText(
                certificateSubject, field: "certificate subject", maxBytes: 1024, allowEmpty: false)
        }
        for grant in grants where !Self.administers(principal, pattern: grant.namespacePattern) {
            throw StatehouseError.permissionDenied(
                "\(Self.describe(principal)) has no admin grant covering '\(grant.namespacePattern)', needed to grant "
                    + "\(grant.role.rawValue) on it")
        }
        return try await self.issue(
            name: name, grants: grants, expiresAtMicros: expiresAtMicros, certificateSubject: certificateSubject,
            createdBy: principal.id)
    }

    /// The tokens whose every grant the current request administers (all of them for `*:admin`), by id.
    public func listTokens(includeRevoked: Bool) throws -> [AccessToken] {
        let principal = try self.validPrincipal()
        guard principal.grants.contains(where: { $0.role == .admin }) else {
            throw StatehouseError.permissionDenied(
                "\(Self.describe(principal)) has no admin grant, needed to manage tokens")
        }
        return self.registry.all().map(\.token).filter { token in
            (includeRevoked || token.revokedAtMicros == nil)
                && token.grants.allSatisfy { Self.administers(principal, pattern: $0.namespacePattern) }
        }
    }

    /// Revokes a token the current request administers: from now on it authenticates nothing, and its open watches
    /// and sessions end. Revoking a revoked token returns it unchanged.
    public func revokeToken(id: String) async throws -> AccessToken {
        let principal = try self.validPrincipal()
        guard let stored = self.registry.token(id: id),
            stored.token.grants.allSatisfy({ Self.administers(principal, pattern: $0.namespacePattern) })
        else {
            // The same answer for an unknown id and one the caller does not administer.
            throw StatehouseError.permissionDenied(
                "\(Self.describe(principal)) administers no token '\(id.prefix(64))'")
        }
        guard stored.token.revokedAtMicros == nil else { return stored.token }
        var revoked = stored
        revoked.token.revokedAtMicros = self.nowMicros
        let current = try await self.engine.systemRecord(agent: SystemNamespace.tokensAgent, key: id)
        try await self.engine.writeSystemRecord(
            agent: SystemNamespace.tokensAgent, key: id, value: TokenRecordCodec.value(revoked),
            readVersion: current.version, reason: "revoke token \(id)")
        self.registry.update(revoked)
        self.logger.notice("Token revoked", metadata: ["token.id": "\(id)", "by": "\(principal.id)"])
        return revoked.token
    }

    /// Who the current request is.
    public func identity() throws -> AccessIdentity {
        let principal = try self.validPrincipal()
        return AccessIdentity(
            principalID: principal.id, name: principal.name, grants: principal.grants,
            authRequired: self.authRequired)
    }

    /// Writes an admin action that is not a commit of its own (a backup, a compaction, an import) to the audit trail
    /// in the system namespace, so that it is in the chain: `_statehouse/@audit/<time-ordered id>`.
    public func audit(action: String, namespace: String?, details: [(String, String)]) async {
        let principal = (try? self.currentPrincipal()) ?? .anonymous
        var out = "{\"action\":" + JSONString.quoted(action) + ",\"at\":\(self.engine.wallClockMicroseconds)"
        out +=
            ",\"details\":{"
            + details.map { JSONString.quoted($0.0) + ":" + JSONString.quoted($0.1) }
            .joined(separator: ",") + "}"
        out += ",\"namespace\":" + (namespace.map(JSONString.quoted) ?? "null")
        out += ",\"principal\":" + JSONString.quoted(principal.id) + "}"
        let key = TransactionID.make(wallMicroseconds: self.engine.wallClockMicroseconds)
        do {
            try await self.engine.writeSystemRecord(
                agent: SystemNamespace.auditAgent, key: key, value: JSONValue(trusted: Array(out.utf8)),
                readVersion: 0, reason: action)
        } catch {
            self.logger.error(
                "Writing the audit record failed", metadata: ["action": "\(action)", "error": "\(error)"])
        }
        self.logger.notice(
            "Admin action",
            metadata: ["action": "\(action)", "namespace": "\(namespace ?? "*")", "principal": "\(principal.id)"])
    }

    /// Whether the principal's admin grants cover every namespace a pattern matches.
    static func administers(_ principal: Principal, pattern: String) -> Bool {
        principal.grants.contains { $0.role == .admin && $0.covers(pattern: pattern) }
    }

    private func issue(
        name: String, grants: [AccessGrant], expiresAtMicros: UInt64?, certificateSubject: String?, createdBy: String
    ) async throws -> (token: AccessToken, bearer: String?) {
        let bearer = BearerToken.generate()
        let token = AccessToken(
            id: bearer.id, name: name, grants: grants, createdAtMicros: self.nowMicros,
            expiresAtMicros: expiresAtMicros, createdBy: createdBy, certificateSubject: certificateSubject)
        let stored = TokenRecordCodec.Stored(
            token: token, secretDigest: certificateSubject == nil ? bearer.secretDigest : nil)
        try await self.engine.writeSystemRecord(
            agent: SystemNamespace.tokensAgent, key: token.id, value: TokenRecordCodec.value(stored), readVersion: 0,
            reason: "create token \(token.id)")
        self.registry.update(stored)
        self.logger.notice(
            "Token created",
            metadata: [
                "token.id": "\(token.id)", "by": "\(createdBy)",
                "grants": "\(grants.map(\.description).joined(separator: ","))",
            ])
        return (token, certificateSubject == nil ? bearer.text : nil)
    }

    /// Writes the secret to a new file only its owner may read (mode 0600, created with that mode), replacing one left
    /// from an earlier store.
    static func writeSecretFile(_ secret: String, to path: String) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw StatehouseError.unavailable(
                "cannot write the bootstrap token file \(path): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((secret + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw StatehouseError.unavailable("cannot write the bootstrap token file \(path)")
        }
    }
}
