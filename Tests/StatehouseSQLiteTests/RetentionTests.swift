import Foundation
import StatehouseCore
import StatehouseLedger
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Retention policies, compaction and expiry over a real store (docs/architecture.md, "Retention and expiry").
@Suite("Retention, compaction and expiry", .timeLimit(.minutes(2)))
struct RetentionTests {
    /// The background sweep and compaction stay out of the way: these tests run them by hand, on a manual clock.
    static let manual = EngineConfiguration.defaults {
        $0.expirySweepInterval = .seconds(3600)
        $0.compactionInterval = .zero
    }

    /// Writes `count` versions of agent "a" key "k" (values {"v":1} …).
    static func writeVersions(_ engine: StatehouseEngine, count: Int, key: String = "k") async throws {
        for index in 1...count { try await engine.put(agent: "a", key: key, json: "{\"v\":\(index)}") }
    }

    /// Every event's leaf, recomputed from what replay returns (removed values by their digests), must be the leaf
    /// the inclusion proof against the current root is for.
    static func expectProofsHold(_ engine: StatehouseEngine) async throws {
        let head = try await engine.treeHead()
        let events = try await engine.readLog(LogFilter(), limit: 1000).items
        #expect(UInt64(events.count) == head.treeSize)
        for event in events {
            let proof = try await engine.inclusionProof(commitTS: event.commitTS)
            #expect(
                MerkleVerification.verifyInclusion(
                    leafIndex: event.commitTS - 1, treeSize: head.treeSize, leafHash: LeafEncoding.leafHash(event),
                    proof: proof.hashes, root: head.rootHash))
            // The audit bundle's event line (value digest instead of the value) gives the same leaf.
            #expect(AuditBundle.EventLine(event).leafHash(namespace: "default") == LeafEncoding.leafHash(event))
        }
    }

    @Test(
        "keep the newest K versions: older values go, reads of them are FAILED_PRECONDITION, verify and proofs pass",
        arguments: StoreKind.allCases)
    func keepNewest(_ kind: StoreKind) async throws {
        try await withTestEngine(kind, configuration: Self.manual) { engine in
            try await Self.writeVersions(engine, count: 5)
            try await engine.put(agent: "b", key: "other", json: "1")
            let set = try await engine.setRetention(policy: RetentionPolicy(keepVersions: 2))
            #expect(set.source == .namespace && set.policy.keepVersions == 2 && set.commitTS > 0)
            let report = try await engine.compact()
            #expect(report.valuesRemoved == 3)
            #expect(report.valueBytesRemoved == 3 * 7)
            #expect(report.versionsExamined == 6)
            let message =
                "version 1 of agent 'a' key 'k' was removed by the retention policy (kept: the newest 2 versions of "
                + "each key, and versions a live snapshot needs)"
            await #expect(throws: StatehouseError.failedPrecondition(message)) {
                try await engine.get(agentID: "a", key: "k", at: .version(1))
            }
            // As of a commit whose version of the key was removed.
            await #expect(throws: StatehouseError.self) {
                try await engine.get(agentID: "a", key: "k", at: .commit(2))
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.scan(agentID: "a", at: .commit(3))
            }
            #expect(try await engine.get(agentID: "a", key: "k", at: .version(4)).value?.text == "{\"v\":4}")
            #expect(try await engine.get(agentID: "a", key: "k").value?.text == "{\"v\":5}")
            let history = try await engine.history(agentID: "a", key: "k").items
            #expect(history.map(\.valueRemoved) == [false, false, true, true, true])
            #expect(history.map(\.exists) == [true, true, true, true, true])
            #expect(history.map(\.value).suffix(3) == [nil, nil, nil])
            let verified = try await engine.verify()
            #expect(verified.isValid)
            #expect(verified.eventsWithRemovedValues == 3)
            let events = try await engine.readLog(LogFilter(agentID: "a"), limit: 10).items
            #expect(events.prefix(3).allSatisfy { $0.operations[0].valueRemoved && $0.operations[0].value == nil })
            #expect(
                events[0].operations[0].removedValueDigest == EventHash(digestOf: Array("{\"v\":1}".utf8)))
            try await Self.expectProofsHold(engine)
            // Compacting again finds nothing more; the reserved policy record keeps its history.
            #expect(try await engine.compact().valuesRemoved == 0)
            #expect(try await engine.verify().isValid)
        }
    }

    @Test("keep for a duration: a version stays while it was current within the window")
    func keepFor() async throws {
        let clock = ManualClock()
        try await withTestEngine(configuration: Self.manual, clock: clock) { engine in
            try await engine.put(agent: "a", key: "k", json: "1")  // superseded at +10 s
            clock.advance(by: .seconds(10))
            try await engine.put(agent: "a", key: "k", json: "2")  // superseded at +200 s
            clock.advance(by: .seconds(190))
            try await engine.put(agent: "a", key: "k", json: "3")
            try await engine.setRetention(policy: RetentionPolicy(keepFor: .seconds(60)))
            #expect(try await engine.compact().valuesRemoved == 1)
            #expect(try await engine.get(agentID: "a", key: "k", at: .version(2)).value?.text == "2")
            clock.advance(by: .seconds(61))
            #expect(try await engine.compact().valuesRemoved == 1)
            #expect(try await engine.get(agentID: "a", key: "k").value?.text == "3")
            // A version is kept when any rule keeps it.
            try await engine.put(agent: "a", key: "k", json: "4")
            try await engine.setRetention(policy: RetentionPolicy(keepVersions: 2, keepFor: .seconds(1)))
            clock.advance(by: .seconds(5))
            #expect(try await engine.compact().valuesRemoved == 0)
        }
    }

    @Test("a live snapshot keeps the versions it names; deleting it lets them go, and restore works meanwhile")
    func snapshotsKeepVersions() async throws {
        try await withTestEngine(configuration: Self.manual) { engine in
            try await engine.put(agent: "a", key: "k", json: "1")
            try await engine.put(agent: "a", key: "j", json: "\"x\"")
            try await engine.createSnapshot(name: "first", agentID: "a")
            try await Self.writeVersions(engine, count: 3)
            try await engine.put(agent: "a", key: "j", json: "\"y\"")
            try await engine.setRetention(policy: RetentionPolicy(keepVersions: 1))
            // k: version 1 is the snapshot's, 2 and 3 go, 4 is the latest; j: version 1 is the snapshot's.
            let first = try await engine.compact()
            #expect(first.valuesRemoved == 2)
            let restored = try await engine.restoreSnapshot(name: "first")
            #expect(restored.puts == 2)
            #expect(try await engine.get(agentID: "a", key: "k").value?.text == "1")
            try await engine.deleteSnapshot(name: "first")
            // Now only each key's latest is kept (the restore wrote new latest versions): k's versions 1 and 4, j's 1
            // and 2.
            #expect(try await engine.compact().valuesRemoved == 4)
            #expect(try await engine.verify().isValid)
        }
    }

    @Test("an expired key reads as deleted at once, its delete is committed by the sweep, its value compacted")
    func expiry() async throws {
        let clock = ManualClock()
        try await withTestEngine(configuration: Self.manual, clock: clock) { engine in
            let now = clock.wallMicroseconds()
            await #expect(throws: StatehouseError.self) {
                try await engine.commit(
                    AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("1"), expiresAt: now)]))
            }
            let written = try await engine.commit(
                AtomicCommit(operations: [
                    .put(agentID: "a", key: "k", value: json("1"), expiresAt: now + 10_000_000),
                    .put(agentID: "a", key: "stays", value: json("2")),
                ]))
            #expect(try await engine.get(agentID: "a", key: "k").expiresAt == now + 10_000_000)
            #expect(try await engine.get(agentID: "a", key: "k").exists)
            #expect(try await engine.sweepExpiredKeys() == 0)
            clock.advance(by: .seconds(11))
            let expired = try await engine.get(agentID: "a", key: "k")
            #expect(!expired.exists && expired.deleted && expired.version == 1)
            #expect(try await engine.listKeys(agentID: "a").items.map(\.key) == ["stays"])
            #expect(try await engine.scan(agentID: "a").items.map(\.key) == ["stays"])
            // As of the commit that wrote it (before the expiry) the value is there.
            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(written.commitTS)).exists)
            // A condition sees the expired key as absent.
            try await engine.commit(
                AtomicCommit(
                    operations: [.put(agentID: "a", key: "other", value: json("3"))],
                    conditions: [.init(agentID: "a", key: "k", expected: .absent)]))
            #expect(try await engine.sweepExpiredKeys() == 1)
            #expect(try await engine.sweepExpiredKeys() == 0)
            let history = try await engine.history(agentID: "a", key: "k").items
            #expect(history.map(\.deleted) == [true, false])
            let reasons = try await engine.commitMetadata(of: history)
            #expect(reasons[0].reason == "expired: 1 key(s)")
            // The expired value goes at the next compaction, whatever the policy.
            #expect(try await engine.retention().source == .none)
            #expect(try await engine.compact().valuesRemoved == 1)
            #expect(try await engine.verify().isValid)
            try await Self.expectProofsHold(engine)
        }
    }

    @Test("keeping everything, a compaction removes only expired superseded values, and not one a snapshot names")
    func expiredOnly() async throws {
        let clock = ManualClock()
        try await withTestEngine(configuration: Self.manual, clock: clock) { engine in
            let now = clock.wallMicroseconds()
            try await engine.put(agent: "a", key: "m", json: "1")
            try await engine.put(agent: "a", key: "m", json: "2")
            for key in ["k", "j"] {
                try await engine.commit(
                    AtomicCommit(operations: [
                        .put(agentID: "a", key: key, value: json("\"\(key)\""), expiresAt: now + 10_000_000)
                    ]))
                // The snapshot names k's expiring version, and a point before j's.
                if key == "k" { try await engine.createSnapshot(name: "keeps-k", agentID: "a") }
            }
            try await engine.put(agent: "a", key: "j", json: "\"again\"")  // j's expiring version is superseded
            clock.advance(by: .seconds(11))
            #expect(try await engine.sweepExpiredKeys() == 1)  // k's delete
            let first = try await engine.compact()
            #expect(first.valuesRemoved == 1)  // j's; k's is the snapshot's, m's never expires
            #expect(first.versionsExamined == 2)
            await #expect(throws: StatehouseError.self) {
                try await engine.get(agentID: "a", key: "j", at: .version(1))
            }
            #expect(try await engine.get(agentID: "a", key: "k", at: .version(1)).value?.text == "\"k\"")
            #expect(try await engine.get(agentID: "a", key: "m", at: .version(1)).value?.text == "1")
            try await engine.deleteSnapshot(name: "keeps-k")
            #expect(try await engine.compact().valuesRemoved == 1)
            #expect(try await engine.verify().isValid)
        }
    }

    @Test("an expired key written again before the sweep keeps its new value")
    func rewrittenBeforeSweep() async throws {
        let clock = ManualClock()
        try await withTestEngine(configuration: Self.manual, clock: clock) { engine in
            let now = clock.wallMicroseconds()
            try await engine.commit(
                AtomicCommit(operations: [.put(agentID: "a", key: "k", value: json("1"), expiresAt: now + 1_000_000)]))
            clock.advance(by: .seconds(2))
            try await engine.put(agent: "a", key: "k", json: "2")
            #expect(try await engine.sweepExpiredKeys() == 0)
            #expect(try await engine.get(agentID: "a", key: "k").value?.text == "2")
        }
    }

    @Test("the chain hash covers the expiry: kind 3 with expires_at after the value")
    func documentedExpiryEncoding() async throws {
        try await withTestEngine(clock: ManualClock(wall: 1_700_000_000_000_000)) { engine in
            let result = try await engine.commit(
                AtomicCommit(operations: [
                    .put(agentID: "a", key: "k", value: json("1"), expiresAt: 1_700_000_005_000_000)
                ]))
            let content = handEncodedFirstPut(
                txnID: result.txnID, committedAt: 1_700_000_000_000_000, expiresAt: 1_700_000_005_000_000)
            #expect(result.hash.bytes == (try sha256(content)))
        }
    }

    @Test("bad policies are refused and change nothing; use-default falls back to the daemon's default")
    func policies() async throws {
        var configuration = EngineConfiguration()
        configuration.defaultRetention = RetentionPolicy(keepVersions: 3)
        try await withTestEngine(configuration: configuration) { engine in
            #expect(try await engine.retention().source == .default)
            #expect(try await engine.retention().policy.keepVersions == 3)
            await #expect(throws: StatehouseError.self) {
                try await engine.setRetention(policy: RetentionPolicy(keepVersions: -1))
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.setRetention(policy: RetentionPolicy(keepFor: .milliseconds(1500)))
            }
            #expect(try await engine.head().commitTS == 0)
            try await engine.setRetention(policy: .keepEverything)
            #expect(try await engine.retention().source == .namespace)
            #expect(try await engine.retention().policy.keepsEverything)
            let back = try await engine.setRetention(policy: nil)
            #expect(back.source == .default && back.policy.keepVersions == 3)
        }
    }

    @Test("without VACUUM, the pages of removed values go to the free list, and later writes reuse them")
    func freedPagesReused() async throws {
        try await withTemporaryDirectory { directory in
            let backend = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            let filler = String(repeating: "y", count: 900)
            try await runEngine(backend: backend, configuration: Self.manual) { engine in
                try await engine.setRetention(policy: RetentionPolicy(keepVersions: 1))
                for index in 0..<2000 {
                    try await engine.put(agent: "a", key: "k\(index % 20)", json: "\"\(index)\(filler)\"")
                }
                #expect(try await engine.compact().valuesRemoved == 1980)
            }
            let pages = try StorageTests.scalar(directory, "SELECT page_count FROM pragma_page_count")
            let free = try StorageTests.scalar(directory, "SELECT freelist_count FROM pragma_freelist_count")
            // 2,000 values of ~900 bytes took most of the file; all but 20 are gone.
            #expect(free * 2 > pages)
            let reopened = try await SQLiteBackend.open(configuration: .directory(directory), logger: testLogger)
            try await runEngine(backend: reopened, configuration: Self.manual) { engine in
                for index in 0..<400 {
                    try await engine.put(agent: "a", key: "k\(index % 20)", json: "\"\(index)\(filler)\"")
                }
            }
            #expect(try StorageTests.scalar(directory, "SELECT page_count FROM pragma_page_count") == pages)
        }
    }

    @Test("compaction and VACUUM give the space of removed values back to the file system")
    func freesSpace() async throws {
        try await withTestEngine(.file, configuration: Self.manual) { engine in
            let filler = String(repeating: "x", count: 16_000)
            for index in 0..<120 {
                try await engine.put(agent: "a", key: "k\(index % 4)", json: "\"\(index)\(filler)\"")
            }
            try await engine.setRetention(policy: RetentionPolicy(keepVersions: 1))
            let report = try await engine.compact(vacuum: true)
            #expect(report.valuesRemoved == 116)
            #expect(report.fileBytesAfter * 4 < report.fileBytesBefore)
            #expect(try await engine.verify().isValid)
        }
    }
}
