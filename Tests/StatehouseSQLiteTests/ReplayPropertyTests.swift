import PropertyBased
import StatehouseCore
import StatehouseSQLite
import StatehouseTesting
import Testing

/// Deterministic replay, checked on random histories: replaying events 1…S into an empty model gives exactly the
/// state that reads return as of commit_ts S, for every S; and a simple model of the commit rules predicts which
/// transactions commit and which conflict.
@Suite("Replay property", .timeLimit(.minutes(2)))
struct ReplayPropertyTests {
    struct Address: Hashable, Comparable {
        var agent: String
        var key: String
        static func < (lhs: Self, rhs: Self) -> Bool { (lhs.agent, lhs.key) < (rhs.agent, rhs.key) }
    }

    static let agents = ["a", "b"]
    static let keys = ["k0", "k1", "k2", "m/0"]
    static let universe = agents.flatMap { agent in keys.map { Address(agent: agent, key: $0) } }

    /// Decodes one generated integer into a transaction: operations, and a condition when the seed asks for one.
    static func transaction(_ seeds: [Int]) -> AtomicCommit {
        var operations: [Address: WriteOperation] = [:]
        for seed in seeds {
            let address = self.universe[seed % self.universe.count]
            operations[address] =
                seed / 8 % 4 == 0
                ? .delete(agentID: address.agent, key: address.key)
                : .put(agentID: address.agent, key: address.key, value: json("{\"v\":\(seed)}"))
        }
        var commit = AtomicCommit(operations: operations.keys.sorted().map { operations[$0]! })
        if let first = seeds.first, first % 3 == 0 {
            let address = self.universe[(first / 3) % self.universe.count]
            let expected = (first / 7) % 3
            commit.conditions = [
                .init(
                    agentID: address.agent, key: address.key,
                    expected: expected == 0 ? .absent : .version(Version(expected)))
            ]
        }
        return commit
    }

    @Test("events 1…S replayed into an empty model equal reads as of S, for every S")
    func replayEqualsReads() async {
        await propertyCheck(count: 40, input: Gen.int(in: 0...10_000).array(of: 1...4).array(of: 1...14)) { history in
            try await withTestEngine { engine in
                // The model of versions: (version, deleted) per address.
                var model: [Address: (version: Version, deleted: Bool)] = [:]
                var expectedCommits = 0
                for seeds in history {
                    let commit = Self.transaction(seeds)
                    let shouldCommit = commit.conditions.allSatisfy { condition in
                        let current = model[Address(agent: condition.agentID, key: condition.key)]
                        switch condition.expected {
                        case .absent: return current == nil || current!.deleted
                        case .version(let version): return current?.version == version
                        }
                    }
                    do {
                        let result = try await engine.commit(commit)
                        #expect(shouldCommit)
                        expectedCommits += 1
                        #expect(result.commitTS == CommitTS(expectedCommits))
                        for (operation, version) in zip(commit.operations, result.versions) {
                            let address = Address(agent: operation.agentID, key: operation.key)
                            #expect(version == (model[address]?.version ?? 0) + 1)
                            model[address] = (version, operation.kind == .delete)
                        }
                    } catch StatehouseError.conflict {
                        #expect(!shouldCommit)
                    }
                }

                // Replay the log into an empty state and compare with reads at every commit_ts.
                let events = try await engine.allEvents()
                #expect(events.count == expectedCommits)
                var replayed: [Address: AppliedOperation] = [:]
                for commitTS in 0...CommitTS(events.count) {
                    if commitTS > 0 {
                        let event = events[Int(commitTS) - 1]
                        #expect(event.commitTS == commitTS)
                        for operation in event.operations {
                            replayed[Address(agent: operation.agentID, key: operation.key)] = operation
                        }
                    }
                    for address in Self.universe {
                        let read = try await engine.get(agentID: address.agent, key: address.key, at: .commit(commitTS))
                        let expected = replayed[address]
                        #expect(read.version == (expected?.version ?? 0))
                        #expect(read.value == expected?.value)
                        #expect(read.exists == (expected.map { $0.kind == .put } ?? false))
                    }
                    for agent in Self.agents {
                        let scanned = try await engine.scan(agentID: agent, at: .commit(commitTS)).items
                        let expectedKeys = replayed.filter { $0.key.agent == agent && $0.value.kind == .put }
                            .map(\.key.key).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                        #expect(scanned.map(\.key) == expectedKeys)
                    }
                }
                // The latest state equals the full replay, and the chain verifies.
                for address in Self.universe {
                    #expect(
                        try await engine.get(agentID: address.agent, key: address.key).version
                            == (replayed[address]?.version ?? 0))
                }
                #expect(try await engine.verify().isValid)
            }
        }
    }
}
