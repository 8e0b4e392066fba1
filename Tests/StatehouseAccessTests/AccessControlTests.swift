import Foundation
import StatehouseCore
import StatehouseModel
import StatehouseTesting
import Testing

@testable import StatehouseAccess

/// Access control over a real engine: bootstrap, authentication, grants, token administration, revocation, the
/// principal tag on commits, and quotas.
@Suite struct AccessControlTests {
    static func withAccess(
        authRequired: Bool = true, quotas: QuotaConfiguration = QuotaConfiguration(),
        clock: ManualClock = ManualClock(),
        _ body: (AccessControl, StatehouseEngine, String) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { directory in
            try await withTestEngine(.memory, clock: clock) { engine in
                var configuration = AccessControl.Configuration()
                configuration.authRequired = authRequired
                configuration.bootstrapTokenPath = directory + "/admin.token"
                configuration.quotas = quotas
                let access = AccessControl(engine: engine, configuration: configuration, logger: testLogger)
                if !quotas.isEmpty { engine.setCommitAdmission(access.quotas) }
                try await access.start()
                let admin =
                    authRequired
                    ? try String(contentsOfFile: directory + "/admin.token", encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines) : ""
                try await body(access, engine, admin)
            }
        }
    }

    static func expectCode(_ reason: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected \(reason), but it succeeded")
        } catch let error as StatehouseError {
            #expect(error.reason == reason, "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func theFirstStartWritesAnAdminTokenOnlyItsOwnerMayRead() async throws {
        try await withTemporaryDirectory { directory in
            try await withTestEngine(.memory) { engine in
                var configuration = AccessControl.Configuration()
                configuration.authRequired = true
                configuration.bootstrapTokenPath = directory + "/admin.token"
                let access = AccessControl(engine: engine, configuration: configuration, logger: testLogger)
                try await access.start()
                let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/admin.token")
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                let text = try String(contentsOfFile: directory + "/admin.token", encoding: .utf8)
                let principal = try await access.authenticate(
                    authorization: "Bearer " + text.trimmingCharacters(in: .newlines), certificateSubject: nil)
                #expect(principal.isAdminOfEverything)
                // The store holds the digest, never the secret.
                let records = try await engine.systemRecords(agent: SystemNamespace.tokensAgent)
                #expect(records.count == 1)
                let secret = String(text.trimmingCharacters(in: .newlines).split(separator: ".")[1])
                #expect(!(records[0].value?.text.contains(secret) ?? true))
                // A second start over the same store makes no new token.
                let again = AccessControl(engine: engine, configuration: configuration, logger: testLogger)
                try await again.start()
                #expect(try await engine.systemRecords(agent: SystemNamespace.tokensAgent).count == 1)
            }
        }
    }

    @Test func credentialsThatDoNotAuthenticate() async throws {
        try await Self.withAccess { access, _, admin in
            let id = String(admin.split(separator: ".")[0])
            for authorization in [
                nil, "Basic abc", "Bearer nonsense", "Bearer \(id).\(String(repeating: "A", count: 43))",
                "Bearer tok_0000000000000000.\(String(repeating: "A", count: 43))",
            ] as [String?] {
                await Self.expectCode("unauthenticated") {
                    _ = try await access.authenticate(authorization: authorization, certificateSubject: nil)
                }
            }
            await Self.expectCode("unauthenticated") {
                _ = try await access.authenticate(authorization: nil, certificateSubject: "CN=nobody")
            }
        }
    }

    @Test func grantsDecideAndTheMessageNamesTheMissingGrant() async throws {
        try await Self.withAccess { access, _, admin in
            let adminPrincipal = try await access.authenticate(
                authorization: "Bearer " + admin, certificateSubject: nil)
            let reader = try await AccessScope.bound(adminPrincipal) {
                try await access.createToken(
                    name: "reader", grants: [try AccessGrant(parsing: "prod:read")], expiresAtMicros: nil,
                    certificateSubject: nil)
            }
            let principal = try await access.authenticate(
                authorization: "Bearer " + reader.bearer!, certificateSubject: nil)
            try await AccessScope.bound(principal) {
                try access.authorize(.readState, namespace: "prod")
                await Self.expectCode("permission_denied") { try access.authorize(.commit, namespace: "prod") }
                await Self.expectCode("permission_denied") { try access.authorize(.readState, namespace: "prod-2") }
                do {
                    try access.authorize(.readState, namespace: "missing")
                } catch let error as StatehouseError {
                    #expect(
                        "\(error)" == "token \(principal.id) has no read grant on namespace 'missing' (needed to read "
                            + "state)")
                }
                await Self.expectCode("permission_denied") { try access.authorizeEverywhere(.backup) }
                await Self.expectCode("permission_denied") { _ = try access.listTokens(includeRevoked: false) }
                #expect(try access.readable(["prod", "dev"]) == ["prod"])
            }
            // Nobody writes the system namespace through the data API, not even *:admin.
            try await AccessScope.bound(adminPrincipal) {
                await Self.expectCode("permission_denied") {
                    try access.authorize(.commit, namespace: SystemNamespace.name)
                }
                try access.authorize(.readState, namespace: SystemNamespace.name)
            }
        }
    }

    @Test func aNamespaceAdminDelegatesOnlyWithinItsNamespaces() async throws {
        try await Self.withAccess { access, _, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            let prodAdmin = try await AccessScope.bound(root) {
                try await access.createToken(
                    name: "", grants: [try AccessGrant(parsing: "prod-*:admin")], expiresAtMicros: nil,
                    certificateSubject: nil)
            }
            let principal = try await access.authenticate(
                authorization: "Bearer " + prodAdmin.bearer!, certificateSubject: nil)
            try await AccessScope.bound(principal) {
                let delegated = try await access.createToken(
                    name: "", grants: [try AccessGrant(parsing: "prod-eu:write")], expiresAtMicros: nil,
                    certificateSubject: nil)
                for pattern in ["*:read", "prod:read", "other:read"] {
                    await Self.expectCode("permission_denied") {
                        _ = try await access.createToken(
                            name: "", grants: [try AccessGrant(parsing: pattern)], expiresAtMicros: nil,
                            certificateSubject: nil)
                    }
                }
                // It lists and revokes what it administers, and not the root token.
                #expect(
                    try access.listTokens(includeRevoked: false).map(\.id).sorted()
                        == [prodAdmin.token.id, delegated.token.id].sorted())
                await Self.expectCode("permission_denied") { _ = try await access.revokeToken(id: root.id) }
                _ = try await access.revokeToken(id: delegated.token.id)
            }
            // A token may revoke itself; from then on it authenticates nothing.
            _ = try await AccessScope.bound(principal) { try await access.revokeToken(id: principal.id) }
            await Self.expectCode("unauthenticated") {
                _ = try await access.authenticate(authorization: "Bearer " + prodAdmin.bearer!, certificateSubject: nil)
            }
        }
    }

    @Test func expiryAndRevocationEndAuthentication() async throws {
        let clock = ManualClock()
        try await Self.withAccess(clock: clock) { access, _, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            let now = UInt64(clock.wallMicroseconds())
            let shortLived = try await AccessScope.bound(root) {
                try await access.createToken(
                    name: "", grants: [try AccessGrant(parsing: "*:read")], expiresAtMicros: now + 1_000_000,
                    certificateSubject: nil)
            }
            let principal = try await access.authenticate(
                authorization: "Bearer " + shortLived.bearer!, certificateSubject: nil)
            clock.advance(by: .seconds(2))
            await Self.expectCode("unauthenticated") {
                _ = try await access.authenticate(
                    authorization: "Bearer " + shortLived.bearer!, certificateSubject: nil)
            }
            // A request of a session authenticated earlier is refused too.
            await Self.expectCode("unauthenticated") {
                try await AccessScope.bound(principal) { try access.authorize(.readState, namespace: "x") }
            }
            let revoked = try await AccessScope.bound(root) { try await access.revokeToken(id: root.id) }
            #expect(revoked.revokedAtMicros != nil)
            await Self.expectCode("unauthenticated") {
                _ = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            }
        }
    }

    @Test func aRevocationEndsWhatWaitsOnIt() async throws {
        try await Self.withAccess { access, _, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            let other = try await AccessScope.bound(root) {
                try await access.createToken(
                    name: "", grants: [try AccessGrant(parsing: "*:read")], expiresAtMicros: nil,
                    certificateSubject: nil)
            }
            let principal = try await access.authenticate(
                authorization: "Bearer " + other.bearer!, certificateSubject: nil)
            let ended = AsyncStream<Void>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await Self.expectCode("unauthenticated") {
                        try await AccessScope.bound(principal) {
                            try await access.whileValid(onInvalid: { ended.continuation.finish() }) {
                                for await _ in ended.stream {}
                            }
                        }
                    }
                }
                _ = try await AccessScope.bound(root) { try await access.revokeToken(id: other.token.id) }
                try await group.waitForAll()
            }
        }
    }

    @Test func commitsCarryThePrincipalAndClientsCannotForgeIt() async throws {
        try await Self.withAccess { access, engine, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            try await AccessScope.bound(root) {
                try await engine.put(agent: "a", key: "k", json: "1")
                await Self.expectCode("invalid_argument") {
                    _ = try await engine.commit(
                        AtomicCommit(
                            namespace: "default", operations: [.put(agentID: "a", key: "k", value: json("2"))],
                            metadata: CommitMetadata(tags: [SystemNamespace.principalTag: "tok_forged"])))
                }
            }
            let history = try await engine.history(namespace: "default", agentID: "a", key: "k")
            let metadata = try await engine.commitMetadata(namespace: "default", of: history.items)
            #expect(metadata.map { $0.tags[SystemNamespace.principalTag] } == [root.id])
        }
    }

    @Test func aTokenOverItsRateIsRefusedAndOthersAreNot() async throws {
        var quotas = QuotaConfiguration()
        quotas.commitsPerSecond = 3
        try await Self.withAccess(quotas: quotas) { access, engine, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            let other = try await AccessScope.bound(root) {
                try await access.createToken(
                    name: "", grants: [try AccessGrant(parsing: "*:write")], expiresAtMicros: nil,
                    certificateSubject: nil)
            }
            let writer = try await access.authenticate(
                authorization: "Bearer " + other.bearer!, certificateSubject: nil)
            let before = try await engine.head(namespace: "q").commitTS
            var accepted = 0
            var refused: StatehouseError?
            try await AccessScope.bound(writer) {
                for index in 0..<20 {
                    do {
                        try await engine.put(namespace: "q", agent: "a", key: "k\(index)", json: "1")
                        accepted += 1
                    } catch let error as StatehouseError {
                        refused = error
                        break
                    }
                }
            }
            guard case .quotaExceeded(_, let retryAfter)? = refused else {
                Issue.record("expected quota_exceeded, got \(String(describing: refused))")
                return
            }
            #expect(retryAfter >= 1 && retryAfter <= 1000)
            // Nothing of the refused commit was written; the bucket of another token is full.
            #expect(try await engine.head(namespace: "q").commitTS == before + UInt64(accepted))
            try await AccessScope.bound(root) { try await engine.put(namespace: "q", agent: "a", key: "x", json: "1") }
        }
    }

    @Test func aNamespaceOverItsStoredBytesRefusesWritesAndServesReads() async throws {
        var quotas = QuotaConfiguration()
        quotas.storedBytesPerNamespace = 100
        try await Self.withAccess(authRequired: false, quotas: quotas) { _, engine, _ in
            try await engine.put(
                namespace: "small", agent: "a", key: "k", json: "\"\(String(repeating: "x", count: 60))\"")
            await Self.expectCode("quota_exceeded") {
                try await engine.put(
                    namespace: "small", agent: "a", key: "k2", json: "\"\(String(repeating: "y", count: 60))\"")
            }
            #expect(try await engine.get(namespace: "small", agentID: "a", key: "k").value != nil)
            try await engine.put(
                namespace: "other", agent: "a", key: "k", json: "\"\(String(repeating: "x", count: 60))\"")
        }
    }

    @Test func adminActionsAreWrittenToTheAuditTrail() async throws {
        try await Self.withAccess { access, engine, admin in
            let root = try await access.authenticate(authorization: "Bearer " + admin, certificateSubject: nil)
            let before = try await engine.head(namespace: SystemNamespace.name).commitTS
            try await AccessScope.bound(root) {
                await access.audit(action: "backup", namespace: nil, details: [("destination", "/srv/b")])
            }
            let records = try await engine.systemRecords(agent: SystemNamespace.auditAgent)
            #expect(records.count == 1)
            let text = try #require(records.first?.value?.text)
            #expect(text.hasPrefix("{\"action\":\"backup\",\"at\":"))
            #expect(
                text.hasSuffix(
                    ",\"details\":{\"destination\":\"/srv/b\"},\"namespace\":null,\"principal\":\"\(root.id)\"}"))
            #expect(try await engine.head(namespace: SystemNamespace.name).commitTS == before + 1)
        }
    }
}
