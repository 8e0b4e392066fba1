import StatehouseModel
import Testing

@testable import StatehouseAccess

@Suite struct AccessGrantTests {
    @Test(arguments: [
        ("prod", "prod", true), ("prod", "prod-2", false), ("prod", "pro", false),
        ("prod-*", "prod-1", true), ("prod-*", "prod-", true), ("prod-*", "prod", false), ("prod*", "prod", true),
        ("prod*", "production", true), ("*", "anything", true), ("*", "_statehouse", true),
    ])
    func patternMatching(pattern: String, namespace: String, matches: Bool) throws {
        #expect(try AccessGrant(namespacePattern: pattern, role: .read).matches(namespace) == matches)
    }

    @Test(arguments: ["", "pr*d", "**", "*prod", "a b", "ns/x", String(repeating: "a", count: 300)])
    func invalidPatternsAreRefused(pattern: String) {
        #expect(throws: StatehouseError.self) { try AccessGrant(namespacePattern: pattern, role: .read) }
    }

    @Test func parsingNamesTheForm() throws {
        let grant = try AccessGrant(parsing: "prod-*:write")
        #expect(grant.namespacePattern == "prod-*" && grant.role == .write)
        #expect(grant.description == "prod-*:write")
        for bad in ["prod", "prod:owner", ":read", "prod:"] {
            #expect(throws: StatehouseError.self) { try AccessGrant(parsing: bad) }
        }
    }

    @Test func rolesAreOrderedAndTheHighestMatchingGrantWins() throws {
        #expect(AccessRole.read < .write && AccessRole.write < .admin)
        let grants = [try AccessGrant(parsing: "*:read"), try AccessGrant(parsing: "prod-*:write")]
        #expect(grants.role(in: "prod-1") == .write)
        #expect(grants.role(in: "dev") == .read)
        #expect([try AccessGrant(parsing: "prod:admin")].role(in: "dev") == nil)
    }

    @Test(arguments: [
        ("*", "anything*", true), ("*", "prod", true), ("prod-*", "prod-eu*", true), ("prod-*", "prod-1", true),
        ("prod-*", "prod", false), ("prod-*", "*", false), ("prod", "prod", true), ("prod", "prod*", false),
        ("prod", "prod-1", false),
    ])
    func coverage(admin: String, pattern: String, covered: Bool) throws {
        #expect(try AccessGrant(namespacePattern: admin, role: .admin).covers(pattern: pattern) == covered)
    }
}

@Suite struct BearerTokenTests {
    @Test func generatedTokensParseBackAndHideTheirSecret() throws {
        let token = BearerToken.generate()
        #expect(BearerToken.isID(token.id))
        let parsed = try BearerToken(parsing: Substring(token.text))
        #expect(parsed == token)
        #expect(parsed.secretDigest == token.secretDigest && parsed.secretDigest.count == 64)
        #expect(!"\(token)".contains(token.secret))
        #expect(BearerToken.generate().id != token.id)
    }

    @Test(arguments: [
        "", "tok_", "tok_0123456789abcdef", "tok_0123456789abcdef.",
        "tok_0123456789ABCDEF.\(String(repeating: "a", count: 43))",
        "tk_0123456789abcdef.\(String(repeating: "a", count: 43))",
        "tok_0123456789abcde.\(String(repeating: "a", count: 44))",
        "tok_0123456789abcdef.\(String(repeating: "a", count: 42))",
    ])
    func malformedTokensAreUnauthenticated(text: String) {
        #expect(throws: StatehouseError.self) { try BearerToken(parsing: Substring(text)) }
        do {
            _ = try BearerToken(parsing: Substring(text))
        } catch let error as StatehouseError {
            guard case .unauthenticated = error else {
                Issue.record("expected unauthenticated, got \(error)")
                return
            }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func digestsCompareExactly() {
        #expect(BearerToken.digestsEqual("abc", "abc"))
        #expect(!BearerToken.digestsEqual("abc", "abd"))
        #expect(!BearerToken.digestsEqual("abc", "abcd"))
    }

    @Test func authorizationValuesNeedTheBearerScheme() throws {
        let token = BearerToken.generate()
        #expect(try AccessControl.bearer("Bearer \(token.text)") == token)
        #expect(try AccessControl.bearer("bearer  \(token.text)") == token)
        for bad in ["Basic \(token.text)", token.text, "Bearer", "Bearer "] {
            #expect(throws: StatehouseError.self) { try AccessControl.bearer(bad) }
        }
    }
}

@Suite struct TokenRecordCodecTests {
    @Test func recordsRoundTrip() throws {
        let token = AccessToken(
            id: "tok_0123456789abcdef", name: "reader \"q\"", grants: [try AccessGrant(parsing: "prod-*:read")],
            createdAtMicros: 10, expiresAtMicros: 20, revokedAtMicros: nil, createdBy: "bootstrap",
            certificateSubject: "CN=agent-1,O=Acme")
        let stored = TokenRecordCodec.Stored(token: token, secretDigest: String(repeating: "a", count: 64))
        let value = TokenRecordCodec.value(stored)
        #expect(try TokenRecordCodec.stored(value, id: token.id) == stored)
        #expect(value.text.hasPrefix("{\"certificate_subject\":\"CN=agent-1,O=Acme\",\"created_at\":10,"))
    }

    @Test(arguments: ["[]", "{}", #"{"grants":["bad"],"created_at":1,"name":"","created_by":"x"}"#])
    func malformedRecordsAreCorruption(text: String) throws {
        #expect(throws: StatehouseError.self) {
            try TokenRecordCodec.stored(try JSONValue(validating: text), id: "tok_0123456789abcdef")
        }
    }
}

@Suite struct TokenBucketTests {
    @Test func aBucketHoldsOneSecondAndRefills() {
        var bucket = TokenBucket(rate: 5, now: 0)
        for _ in 0..<5 {
            #expect(bucket.wait(for: 1) <= 0)
            bucket.take(1)
        }
        #expect(abs(bucket.wait(for: 1) - 0.2) < 1e-9)
        bucket.refill(now: 0.2)
        #expect(bucket.wait(for: 1) <= 0)
        bucket.refill(now: 100)
        #expect(bucket.tokens == 5)
    }

    @Test func aCostAboveTheCapacityPassesWhenFullAndLeavesADebt() {
        var bucket = TokenBucket(rate: 100, now: 0)
        #expect(bucket.wait(for: 1000) <= 0)
        bucket.take(1000)
        #expect(bucket.wait(for: 1) > 9)
    }

    @Test func aZeroRateIsNoLimit() {
        var bucket = TokenBucket(rate: 0, now: 0)
        bucket.take(1e12)
        #expect(bucket.wait(for: 1e12) == 0)
    }
}
