import Foundation
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

@Suite("Reads: points in history, listings, pagination", .timeLimit(.minutes(2)))
struct ReadTests {
    @Test("reads at a key version, as of a commit_ts and as of a time", arguments: StoreKind.allCases)
    func historicalReads(_ kind: StoreKind) async throws {
        let clock = ManualClock(wall: 1_000_000)
        try await withTestEngine(kind, clock: clock) { engine in
            try await engine.put(agent: "a", key: "k", json: "\"v1\"")  // ts 1 at t=1_000_000
            clock.advance(by: .seconds(1))
            try await engine.put(agent: "a", key: "other", json: "0")  // ts 2 at t=2_000_000
            clock.advance(by: .seconds(1))
            try await engine.put(agent: "a", key: "k", json: "\"v2\"")  // ts 3 at t=3_000_000
            clock.advance(by: .seconds(1))
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "a", key: "k")]))  // ts 4

            #expect(try await engine.get(agentID: "a", key: "k", at: .version(1)).value == json("\"v1\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .version(2)).value == json("\"v2\""))
            let tombstone = try await engine.get(agentID: "a", key: "k", at: .version(3))
            #expect(tombstone.deleted && !tombstone.exists && tombstone.value == nil)
            await #expect(throws: StatehouseError.self) {
                try await engine.get(agentID: "a", key: "k", at: .version(4))
            }
            await #expect(throws: StatehouseError.self) {
                try await engine.get(agentID: "a", key: "k", at: .version(0))
            }

            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(0)).exists == false)
            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(1)).value == json("\"v1\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(2)).value == json("\"v1\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(3)).value == json("\"v2\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .commit(4)).exists == false)
            // Beyond the head there is no such state (yet): refused, naming the head, for every pinned read.
            let beyond = StatehouseError.invalidArgument(
                "commit_ts 5 is beyond the end of the log of namespace 'default' (its head is commit_ts 4)"
            )
            await #expect(throws: beyond) { try await engine.get(agentID: "a", key: "k", at: .commit(5)) }
            await #expect(throws: beyond) { try await engine.scan(agentID: "a", at: .commit(5)) }
            await #expect(throws: beyond) {
                try await engine.get(keys: [KeyAddress(agentID: "a", key: "k")], at: .commit(5))
            }

            #expect(try await engine.get(agentID: "a", key: "k", at: .time(999_999)).exists == false)
            #expect(try await engine.get(agentID: "a", key: "k", at: .time(1_000_000)).value == json("\"v1\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .time(2_999_999)).value == json("\"v1\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .time(3_000_000)).value == json("\"v2\""))
            #expect(try await engine.get(agentID: "a", key: "k", at: .time(9_000_000)).exists == false)

            let latest = try await engine.get(agentID: "a", key: "k")
            #expect(latest.version == 3 && latest.deleted && latest.commitTS == 4 && latest.committedAt == 4_000_000)
            let missing = try await engine.get(agentID: "a", key: "never")
            #expect(missing == StateRecord.missing(agentID: "a", key: "never"))
        }
    }

    @Test("committed_at never decreases even if the wall clock goes back")
    func committedAtMonotonic() async throws {
        let clock = ManualClock(wall: 5_000_000)
        try await withTestEngine(clock: clock) { engine in
            let first = try await engine.put(agent: "a", key: "k", json: "1")
            clock.setWall(1_000_000)
            let second = try await engine.put(agent: "a", key: "k", json: "2")
            #expect(second.committedAt == first.committedAt)
        }
    }

    @Test("values are stored byte for byte")
    func byteForByte() async throws {
        try await withTestEngine { engine in
            let texts = [
                #"{ "big": 123456789012345678901234567890, "f": 1.10, "z": -0.0e+00 }"#,
                #"  [1,"é\u00e9😀",{"b":null,"a":true}]  "#, "\"plain\"", "null", "-0", "1E400",
            ]
            for (index, text) in texts.enumerated() {
                try await engine.put(agent: "a", key: "k\(index)", json: text)
                #expect(try await engine.get(agentID: "a", key: "k\(index)").value?.utf8 == Array(text.utf8))
            }
        }
    }

    @Test("deleted keys are hidden from listings and scans but kept in history", arguments: StoreKind.allCases)
    func tombstones(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            try await engine.put(agent: "a", key: "memory/1", json: "1")
            try await engine.put(agent: "a", key: "memory/2", json: "2")
            try await engine.put(agent: "a", key: "plan", json: "3")
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "a", key: "memory/1")]))

            #expect(try await engine.listKeys(agentID: "a").items.map(\.key) == ["memory/2", "plan"])
            let withDeleted = try await engine.listKeys(agentID: "a", includeDeleted: true).items
            #expect(withDeleted.map(\.key) == ["memory/1", "memory/2", "plan"])
            #expect(withDeleted[0].deleted && withDeleted[0].version == 2)
            #expect(try await engine.listKeys(agentID: "a", prefix: "memory/").items.map(\.key) == ["memory/2"])
            #expect(try await engine.scan(agentID: "a", prefix: "memory/").items.map(\.key) == ["memory/2"])
            #expect(
                try await engine.scan(agentID: "a", prefix: "memory/", at: .commit(3)).items.map(\.key)
                    == ["memory/1", "memory/2"])

            let history = try await engine.history(agentID: "a", key: "memory/1").items
            #expect(history.map(\.version) == [2, 1])
            #expect(history[0].deleted && history[0].value == nil)
            #expect(history[1].value == json("1"))
            #expect(try await engine.listAgents().items == ["a"])
        }
    }

    @Test("pagination never skips or repeats", arguments: [1, 2, 3, 7, 50])
    func pagination(_ pageSize: Int) async throws {
        try await withTestEngine { engine in
            let keys = (0..<23).map { "key/\(String(format: "%03d", $0))" }.shuffled()
            var operations = keys.map { WriteOperation.put(agentID: "a", key: $0, value: json("1")) }
            operations.append(.put(agentID: "b", key: "x", value: json("1")))
            operations.append(.put(agentID: "c", key: "x", value: json("1")))
            _ = try await engine.commit(AtomicCommit(operations: operations))
            for version in 2...9 { try await engine.put(agent: "a", key: "key/000", json: "\(version)") }
            _ = try await engine.commit(AtomicCommit(operations: [.delete(agentID: "a", key: "key/005")]))

            let listed = try await collectPages(pageSize) {
                try await engine.listKeys(agentID: "a", limit: pageSize, cursor: $0)
            }
            #expect(listed.map(\.key) == keys.sorted().filter { $0 != "key/005" })
            let scanned = try await collectPages(pageSize) {
                try await engine.scan(agentID: "a", prefix: "key/", limit: pageSize, cursor: $0)
            }
            #expect(scanned.map(\.key) == listed.map(\.key))
            let versions = try await collectPages(pageSize) {
                try await engine.history(agentID: "a", key: "key/000", limit: pageSize, cursor: $0)
            }
            #expect(versions.map(\.version) == Array((1...9).reversed()))
            let agents = try await collectPages(pageSize) { try await engine.listAgents(limit: pageSize, cursor: $0) }
            #expect(agents == ["a", "b", "c"])
            let events = try await collectPages(pageSize) {
                try await engine.readLog(LogFilter(), limit: pageSize, cursor: $0)
            }
            #expect(events.map(\.commitTS) == Array(1...10))
        }
    }

    @Test("100,000 keys list completely, each once and in order, under a prefix and without one")
    func deepListing() async throws {
        try await withTestEngine { engine in
            // Keys before, inside and after the prefix, so a cursor can sit on either side of it.
            let count = 100_000
            let keys = (0..<count).map { "m/\(String(format: "%06d", $0))" }
            for chunk in stride(from: 0, to: count, by: 5_000) {
                var operations = keys[chunk..<min(chunk + 5_000, count)].map {
                    WriteOperation.put(agentID: "a", key: $0, value: json("1"))
                }
                if chunk == 0 { operations += ["a", "z"].map { .put(agentID: "a", key: $0, value: json("1")) } }
                _ = try await engine.commit(AtomicCommit(operations: operations))
            }
            let listed = try await collectPages(1_000) {
                try await engine.listKeys(agentID: "a", limit: 1_000, cursor: $0)
            }
            #expect(listed.map(\.key) == ["a"] + keys + ["z"])
            let underPrefix = try await collectPages(1_000) {
                try await engine.listKeys(agentID: "a", prefix: "m/", limit: 1_000, cursor: $0)
            }
            #expect(underPrefix.map(\.key) == keys)
            let scanned = try await collectPages(1_000) {
                try await engine.scan(agentID: "a", prefix: "m/0999", limit: 1_000, cursor: $0)
            }
            #expect(scanned.map(\.key) == keys.filter { $0.hasPrefix("m/0999") })
        }
    }

    /// Follows cursors to the end, checking that no page is larger than asked for.
    func collectPages<Item>(_ pageSize: Int, _ read: (String?) async throws -> Page<Item>) async throws -> [Item] {
        var items: [Item] = []
        var cursor: String?
        repeat {
            let page = try await read(cursor)
            #expect(page.items.count <= pageSize)
            items += page.items
            cursor = page.nextCursor
        } while cursor != nil
        return items
    }

    @Test("a cursor that was altered or belongs to another query is refused")
    func cursorTampering() async throws {
        try await withTestEngine { engine in
            let operations = (0..<5).map { WriteOperation.put(agentID: "a", key: "k\($0)", value: json("1")) }
            _ = try await engine.commit(AtomicCommit(operations: operations))
            let page = try await engine.listKeys(agentID: "a", limit: 2)
            let cursor = try #require(page.nextCursor)
            var bytes = Array(cursor.utf8)
            bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let altered = String(decoding: bytes, as: UTF8.self)
            let invalid = StatehouseError.invalidArgument("cursor is invalid or belongs to a different query")
            await #expect(throws: invalid) { try await engine.listKeys(agentID: "a", limit: 2, cursor: altered) }
            await #expect(throws: invalid) { try await engine.listKeys(agentID: "b", limit: 2, cursor: cursor) }
            await #expect(throws: invalid) { try await engine.scan(agentID: "a", limit: 2, cursor: cursor) }
            await #expect(throws: invalid) { try await engine.listKeys(agentID: "a", limit: 2, cursor: "%%%") }
            #expect(try await engine.listKeys(agentID: "a", limit: 2, cursor: cursor).items.map(\.key) == ["k2", "k3"])
        }
    }

    @Test("a latest read of a key with a long history returns its newest version")
    func latestReadUsesIndex() async throws {
        try await withTestEngine { engine in
            for version in 1...300 { try await engine.put(agent: "a", key: "hot", json: "\(version)") }
            let record = try await engine.get(agentID: "a", key: "hot")
            #expect(record.version == 300 && record.value == json("300"))
        }
    }
}

@Suite("Multi-key reads", .timeLimit(.minutes(2)))
struct MultiKeyReadTests {
    @Test("many keys are read from one snapshot, in order, missing keys included", arguments: StoreKind.allCases)
    func multiGet(_ kind: StoreKind) async throws {
        try await withTestEngine(kind) { engine in
            try await engine.put(agent: "a", key: "x", json: "1")
            try await engine.put(agent: "b", key: "y", json: "2")
            try await engine.put(agent: "a", key: "x", json: "3")
            let keys = [
                KeyAddress(agentID: "a", key: "x"), KeyAddress(agentID: "c", key: "none"),
                KeyAddress(agentID: "b", key: "y"),
            ]
            let latest = try await engine.get(keys: keys)
            #expect(latest.map(\.value) == [json("3"), nil, json("2")])
            #expect(latest.map(\.key) == ["x", "none", "y"])
            let early = try await engine.get(keys: keys, at: .commit(1))
            #expect(early.map(\.value) == [json("1"), nil, nil])
            await #expect(throws: StatehouseError.self) { _ = try await engine.get(keys: keys, at: .version(1)) }
            let tooMany = (0...10_000).map { KeyAddress(agentID: "a", key: "k\($0)") }
            await #expect(throws: StatehouseError.self) { _ = try await engine.get(keys: tooMany) }
            #expect(try await engine.get(keys: Array(tooMany.prefix(10_000))).count == 10_000)
        }
    }

    @Test("a scan as of a commit is the state the log builds, whether the agent's versions up to it are few or many")
    func scanAtCommitBothWays() async throws {
        try await withTestEngine { engine in
            var points: [CommitTS] = []
            for round in 0..<4 {
                for chunk in stride(from: 0, to: 400, by: 100) {
                    let operations: [WriteOperation] = (chunk..<chunk + 100).map { index in
                        (index + round) % 7 == 0
                            ? .delete(agentID: "a", key: "k/\(index)")
                            : .put(agentID: "a", key: "k/\(index)", value: json("[\(round),\(index)]"))
                    }
                    _ = try await engine.commit(AtomicCommit(operations: operations))
                }
                points.append(try await engine.head().commitTS)
            }
            let events = try await engine.readLog(LogFilter(agentID: "a"), limit: 100).items
            // Round 1 leaves 400 versions (few: one pass over the agent's log), round 4 1,600 (many: key by key).
            for point in points {
                var expected: [String: String] = [:]
                for event in events where event.commitTS <= point {
                    for operation in event.operations { expected[operation.key] = operation.value?.text }
                }
                for prefix in ["", "k/1"] {
                    var scanned: [String] = []
                    var cursor: String?
                    repeat {
                        let page = try await engine.scan(
                            agentID: "a", prefix: prefix, at: .commit(point), limit: 100, cursor: cursor)
                        scanned += page.items.map { "\($0.key)=\($0.value?.text ?? "")" }
                        cursor = page.nextCursor
                    } while cursor != nil
                    // (A delete's nil removed its key from `expected`.)
                    let wanted = expected.filter { $0.key.hasPrefix(prefix) }
                        .sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
                        .map { "\($0.key)=\($0.value)" }
                    #expect(scanned == wanted)
                }
            }
        }
    }
}
