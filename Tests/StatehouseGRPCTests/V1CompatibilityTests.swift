import Foundation
import GRPCCore
import StatehouseCore
import StatehouseProto
import StatehouseTesting
import SwiftProtobuf
import Testing

@testable import StatehouseGRPC

/// The original API (statehouse.v1) through stubs generated from our compatibility proto, beside statehouse.v2 on
/// the same server: every RPC, its error cases, and values crossing between the two APIs.
@Suite("statehouse.v1: the original API as a translation", .timeLimit(.minutes(2)))
struct V1CompatibilityTests {
    // ---- helpers ----

    static func value(_ json: String) throws -> Google_Protobuf_Struct {
        try Google_Protobuf_Struct(jsonString: json)
    }

    static func begin(_ v1: V1Client, timeoutMs: UInt64? = nil) async throws -> String {
        var request = Statehouse_V1_BeginTransactionRequest()
        if let timeoutMs { request.timeoutMs = timeoutMs }
        let id = try await v1.beginTransaction(request).txnID
        #expect(!id.isEmpty)
        return id
    }

    static func write(
        _ v1: V1Client, _ txn: String, _ agent: String, _ key: String, _ value: Google_Protobuf_Struct?,
        namespace: String = "default"
    ) async throws {
        var request = Statehouse_V1_WriteRequest()
        request.txnID = txn
        request.namespace = namespace
        request.agentID = agent
        request.key = key
        if let value { request.value = value }
        _ = try await v1.write(request)
    }

    static func delete(
        _ v1: V1Client, _ txn: String, _ agent: String, _ key: String, namespace: String = "default"
    )
        async throws
    {
        var request = Statehouse_V1_DeleteRequest()
        request.txnID = txn
        request.namespace = namespace
        request.agentID = agent
        request.key = key
        _ = try await v1.delete(request)
    }

    static func commit(_ v1: V1Client, _ txn: String) async throws -> UInt64 {
        var request = Statehouse_V1_CommitRequest()
        request.txnID = txn
        return try await v1.commit(request).commitTs
    }

    static func abort(_ v1: V1Client, _ txn: String) async throws {
        var request = Statehouse_V1_AbortRequest()
        request.txnID = txn
        _ = try await v1.abort(request)
    }

    /// One v1 transaction writing `json` to agent/key; returns its commit_ts.
    static func put(
        _ v1: V1Client, _ agent: String, _ key: String, _ json: String, namespace: String = "default"
    )
        async throws -> UInt64
    {
        let txn = try await self.begin(v1)
        try await self.write(v1, txn, agent, key, try self.value(json), namespace: namespace)
        return try await self.commit(v1, txn)
    }

    static func get(
        _ v1: V1Client, _ agent: String, _ key: String, namespace: String = "default"
    ) async throws
        -> Statehouse_V1_GetStateResponse
    {
        var request = Statehouse_V1_GetStateRequest()
        request.namespace = namespace
        request.agentID = agent
        request.key = key
        return try await v1.getState(request)
    }

    static func getAt(
        _ v1: V1Client, _ agent: String, _ key: String, _ version: UInt64
    ) async throws
        -> Statehouse_V1_GetStateAtVersionResponse
    {
        var request = Statehouse_V1_GetStateAtVersionRequest()
        request.agentID = agent
        request.key = key
        request.version = version
        return try await v1.getStateAtVersion(request)
    }

    static func replay(
        _ v1: V1Client, _ agent: String, start: UInt64? = nil, end: UInt64? = nil
    ) async throws
        -> [Statehouse_V1_ReplayEvent]
    {
        var request = Statehouse_V1_ReplayRequest()
        request.agentID = agent
        if let start { request.startTs = start }
        if let end { request.endTs = end }
        return try await v1.replay(request) { response in
            var events: [Statehouse_V1_ReplayEvent] = []
            for try await event in response.messages { events.append(event) }
            return events
        }
    }

    static func v2Text(_ client: Client, _ agent: String, _ key: String, namespace: String = "") async throws -> String
    {
        var request = getRequest(agent, key)
        request.namespace = namespace
        return try await client.getState(request).record.text
    }

    // ---- health, version ----

    @Test("Health and Version answer as the original's")
    func healthAndVersion() async throws {
        try await withBothServices { _, v1, _ in
            #expect(try await v1.health(Statehouse_V1_HealthRequest()).status == "ok")
            let version = try await v1.version(Statehouse_V1_VersionRequest())
            #expect(version.version == "1.2.3" && version.gitSha == "abcdef0")
        }
    }

    // ---- values ----

    @Test("a Struct is stored as JSON: integral numbers as integers, sorted keys, nested lists and objects")
    func structToJSON() async throws {
        try await withBothServices { client, v1, _ in
            let json =
                #"{"z": 1, "a": {"n": -3, "f": 2.5, "big": 1e300, "tiny": 1e-7, "wide": 9.5e15}, "l": [1, "x\n\"", null, true, []]}"#
            let commitTS = try await Self.put(v1, "agent-1", "memory", json)
            #expect(commitTS == 1)
            #expect(
                try await Self.v2Text(client, "agent-1", "memory")
                    == #"{"a":{"big":1e+300,"f":2.5,"n":-3,"tiny":1e-07,"wide":9500000000000000.0},"l":[1,"x\n\"",null,true,[]],"z":1}"#
            )
            let read = try await Self.get(v1, "agent-1", "memory")
            let sent = try Self.value(json)
            #expect(read.exists && read.version == 1 && read.commitTs == 1)
            #expect(read.value == sent)
            // An empty Struct is the value {}.
            _ = try await Self.put(v1, "agent-1", "empty", "{}")
            #expect(try await Self.v2Text(client, "agent-1", "empty") == "{}")
        }
    }

    @Test("values cross between the APIs: v2 -> v1 -> v2 and v1 -> v2 -> v1")
    func roundTrips() async throws {
        try await withBothServices { client, v1, _ in
            // Written through v2, read through v1, written back through v1, read through v2.
            _ = try await client.apply(putRequest("a", "k", #"{"b":1,"a":[1.5,"x",null,true],"c":{"d":"é"}}"#))
            let viaV1 = try await Self.get(v1, "a", "k")
            let expected = try Self.value(#"{"a":[1.5,"x",null,true],"b":1,"c":{"d":"é"}}"#)
            #expect(viaV1.exists && viaV1.value == expected)
            let txn = try await Self.begin(v1)
            try await Self.write(v1, txn, "a", "copy", viaV1.value)
            _ = try await Self.commit(v1, txn)
            #expect(try await Self.v2Text(client, "a", "copy") == #"{"a":[1.5,"x",null,true],"b":1,"c":{"d":"é"}}"#)

            // Written through v1, read through v2 and back through v1 unchanged.
            _ = try await Self.put(v1, "a", "fromv1", #"{"count": 3, "ratio": 0.25}"#)
            #expect(try await Self.v2Text(client, "a", "fromv1") == #"{"count":3,"ratio":0.25}"#)
            #expect(try await Self.get(v1, "a", "fromv1").value == (try Self.value(#"{"count":3,"ratio":0.25}"#)))
        }
    }

    @Test("what a Struct cannot carry: non-object values fail with FAILED_PRECONDITION, big integers become doubles")
    func structLimits() async throws {
        try await withBothServices { client, v1, _ in
            for (key, json, kind) in [
                ("list", "[1,2]", "array"), ("text", #""hi""#, "string"), ("n", "42", "number"),
                ("flag", "true", "boolean"), ("nothing", "null", "null"),
            ] {
                _ = try await client.apply(putRequest("a", key, json))
                let message = await expectCode(.failedPrecondition) { try await Self.get(v1, "a", key) }
                #expect(message.contains("key '\(key)'") && message.contains("JSON \(kind)"), "\(message)")
                #expect(message.contains("statehouse.v2"))
            }
            // A scan or a replay that meets one says so too, naming the key.
            var scan = Statehouse_V1_ScanPrefixRequest()
            scan.agentID = "a"
            #expect(await expectCode(.failedPrecondition) { try await v1.scanPrefix(scan) }.contains("key 'flag'"))
            #expect(await expectCode(.failedPrecondition) { try await Self.replay(v1, "a") }.contains("key 'list'"))

            // 2^60 + 1 has no double: it comes back as the nearest one, as the original documented for Struct.
            _ = try await client.apply(putRequest("b", "big", #"{"id":1152921504606846977}"#))
            let big = try await Self.get(v1, "b", "big")
            #expect(big.value.fields["id"]?.numberValue == 1_152_921_504_606_846_976)
            // NaN and infinity have no JSON text: refused, nothing staged.
            let txn = try await Self.begin(v1)
            var nan = Google_Protobuf_Struct()
            nan.fields["x"] = Google_Protobuf_Value(numberValue: .nan)
            #expect(
                await expectCode(.invalidArgument) { try await Self.write(v1, txn, "b", "nan", nan) }.contains(
                    "value.x"))
            var unset = Google_Protobuf_Struct()
            unset.fields["y"] = Google_Protobuf_Value()
            #expect(
                await expectCode(.invalidArgument) { try await Self.write(v1, txn, "b", "unset", unset) }.contains(
                    "no kind"))
            #expect(
                await expectCode(.invalidArgument) { try await Self.write(v1, txn, "b", "none", nil) }.contains(
                    "needs a value"))
            #expect(try await Self.commit(v1, txn) == 6)  // staged nothing: the head, no new event
            #expect(try await Self.get(v1, "b", "nan").exists == false)
        }
    }

    @Test("a reply larger than a client takes (4 MiB as protobuf) is refused with the reason, not cut off")
    func replySize() async throws {
        try await withBothServices { client, v1, _ in
            // 800 kB of JSON, but each number is 11 bytes in a Struct: 4.4 MB.
            let numbers = "{\"a\":[" + Array(repeating: "1", count: 400_000).joined(separator: ",") + "]}"
            _ = try await client.apply(putRequest("a", "wide", numbers))
            let message = await expectCode(.resourceExhausted) { try await Self.get(v1, "a", "wide") }
            #expect(message.contains("key 'wide'") && message.contains("statehouse.v2"))
            await expectCode(.resourceExhausted) { try await Self.replay(v1, "a") }
            // Five values of 1 MB as a Struct each pass alone but not together in one ScanPrefix.
            let fifth = "{\"a\":[" + Array(repeating: "1", count: 95_000).joined(separator: ",") + "]}"
            for index in 0..<5 { _ = try await client.apply(putRequest("b", "k\(index)", fifth)) }
            #expect(try await Self.get(v1, "b", "k0").exists)
            var scan = Statehouse_V1_ScanPrefixRequest()
            scan.agentID = "b"
            #expect(await expectCode(.resourceExhausted) { try await v1.scanPrefix(scan) }.contains("ScanPrefix"))
        }
    }

    // ---- transactions ----

    @Test("a transaction's namespace is its first write's; another namespace is refused and stages nothing")
    func namespaces() async throws {
        try await withBothServices { client, v1, engine in
            let txn = try await Self.begin(v1)
            try await Self.write(v1, txn, "a", "k", try Self.value(#"{"env":"prod"}"#), namespace: "prod")
            let message = await expectCode(.invalidArgument) {
                try await Self.write(v1, txn, "a", "other", try Self.value("{}"), namespace: "staging")
            }
            #expect(message.contains("'prod'") && message.contains("'staging'"))
            try await Self.delete(v1, txn, "a", "never", namespace: "prod")
            #expect(try await Self.commit(v1, txn) == 1)
            #expect(try await Self.v2Text(client, "a", "k", namespace: "prod") == #"{"env":"prod"}"#)
            #expect(try await engine.head(namespace: "staging").commitTS == 0)
            #expect(try await engine.head(namespace: "default").commitTS == 0)
            // An empty namespace is "default", as everywhere.
            _ = try await Self.put(v1, "a", "k", #"{"env":"default"}"#, namespace: "")
            #expect(try await Self.v2Text(client, "a", "k") == #"{"env":"default"}"#)
            // A bad namespace is the caller's mistake.
            let bad = try await Self.begin(v1)
            await expectCode(.invalidArgument) {
                try await Self.write(v1, bad, "a", "k", try Self.value("{}"), namespace: "no spaces")
            }
        }
    }

    @Test("commit, double commit, writes after commit, abort, unknown ids: the original's documented codes")
    func lifecycle() async throws {
        try await withBothServices { _, v1, _ in
            let txn = try await Self.begin(v1)
            try await Self.write(v1, txn, "a", "k", try Self.value(#"{"n":1}"#))
            #expect(try await Self.commit(v1, txn) == 1)
            #expect(
                await expectCode(.failedPrecondition) { try await Self.commit(v1, txn) }.contains("already committed"))
            await expectCode(.failedPrecondition) { try await Self.write(v1, txn, "a", "k", try Self.value("{}")) }
            await expectCode(.failedPrecondition) { try await Self.abort(v1, txn) }

            await expectCode(.notFound) { try await Self.commit(v1, "no-such-transaction") }
            await expectCode(.notFound) {
                try await Self.write(v1, "no-such-transaction", "a", "k", try Self.value("{}"))
            }
            try await Self.abort(v1, "no-such-transaction")  // idempotent: nothing to abort is not an error

            let aborted = try await Self.begin(v1)
            try await Self.write(v1, aborted, "a", "k", try Self.value(#"{"n":2}"#))
            try await Self.abort(v1, aborted)
            try await Self.abort(v1, aborted)  // twice is safe
            await expectCode(.notFound) { try await Self.commit(v1, aborted) }
            #expect(try await Self.get(v1, "a", "k").value == (try Self.value(#"{"n":1}"#)))

            // A transaction that stages nothing writes no event and reports the head.
            #expect(try await Self.commit(v1, try await Self.begin(v1)) == 1)
        }
    }

    @Test("the original API's own codes carry the same statehouse-error reason as statehouse.v2")
    func reasons() {
        func reason(_ error: RPCError) -> String? {
            error.metadata[stringValues: "statehouse-error"].first(where: { _ in true })
        }
        let expired = V1ErrorMapping.rpcError(.transactionExpired("expired"), txnStatus: nil)
        #expect(expired.code == .deadlineExceeded && reason(expired) == "transaction_expired")
        let unknown = V1ErrorMapping.rpcError(.transactionNotFound("unknown"), txnStatus: nil)
        #expect(unknown.code == .notFound && reason(unknown) == "transaction_not_found")
        let committed = CommitResult(
            namespace: "ns", txnID: "t", commitTS: 3, committedAt: 1, versions: [1], hash: .zero)
        let again = V1ErrorMapping.rpcError(.transactionNotFound("committed"), txnStatus: .committed(committed))
        #expect(again.code == .failedPrecondition && reason(again) == "transaction_not_found")
        let conflict = V1ErrorMapping.rpcError(
            .conflict(agentID: "a", key: "k", expected: 1, actual: 2), txnStatus: nil)
        #expect(conflict.code == .aborted && reason(conflict) == "conflict")
    }

    @Test("BeginTransaction's timeout: default 30 s, bounded, expiry is DEADLINE_EXCEEDED and applies nothing")
    func timeouts() async throws {
        let clock = ManualClock()
        var configuration = EngineConfiguration()
        configuration.reapInterval = .seconds(3600)
        try await withBothServices(configuration: configuration, clock: clock) { _, v1, _ in
            let short = try await Self.begin(v1, timeoutMs: 100)
            try await Self.write(v1, short, "a", "k", try Self.value("{}"))
            let standard = try await Self.begin(v1)
            try await Self.write(v1, standard, "a", "s", try Self.value("{}"))
            clock.advance(by: .milliseconds(200))
            #expect(await expectCode(.deadlineExceeded) { try await Self.commit(v1, short) }.contains("expired"))
            await expectCode(.deadlineExceeded) { try await Self.write(v1, short, "a", "k", try Self.value("{}")) }
            try await Self.abort(v1, short)  // aborting an expired transaction is a no-op
            clock.advance(by: .seconds(29))
            #expect(try await Self.commit(v1, standard) == 1)  // 29.2 s < 30 s
            #expect(try await Self.get(v1, "a", "k").exists == false)

            let late = try await Self.begin(v1)
            clock.advance(by: .seconds(31))
            await expectCode(.deadlineExceeded) { try await Self.commit(v1, late) }

            await expectCode(.invalidArgument) { try await Self.begin(v1, timeoutMs: 0) }
            await expectCode(.invalidArgument) { try await Self.begin(v1, timeoutMs: 3_600_000) }
        }
    }

    // ---- reads ----

    @Test("GetState and GetStateAtVersion: live, deleted and never-written keys; versions that do not exist")
    func reads() async throws {
        try await withBothServices { _, v1, _ in
            _ = try await Self.put(v1, "a", "k", #"{"v":1}"#)
            _ = try await Self.put(v1, "a", "k", #"{"v":2}"#)
            let txn = try await Self.begin(v1)
            try await Self.delete(v1, txn, "a", "k")
            #expect(try await Self.commit(v1, txn) == 3)

            let deleted = try await Self.get(v1, "a", "k")
            #expect(!deleted.exists && !deleted.hasValue && deleted.version == 3 && deleted.commitTs == 3)
            let never = try await Self.get(v1, "a", "never")
            #expect(!never.exists && !never.hasValue && never.version == 0 && never.commitTs == 0)

            let first = try await Self.getAt(v1, "a", "k", 1)
            let one = try Self.value(#"{"v":1}"#)
            #expect(first.exists && first.value == one && first.commitTs == 1)
            #expect(try await Self.getAt(v1, "a", "k", 2).value == (try Self.value(#"{"v":2}"#)))
            let tombstone = try await Self.getAt(v1, "a", "k", 3)
            #expect(!tombstone.exists && !tombstone.hasValue && tombstone.version == 3)
            #expect(
                await expectCode(.notFound) { try await Self.getAt(v1, "a", "k", 4) }.contains("versions are 1 to 3"))
            await expectCode(.notFound) { try await Self.getAt(v1, "a", "k", 0) }
            await expectCode(.notFound) { try await Self.getAt(v1, "a", "never", 1) }
            await expectCode(.invalidArgument) { try await Self.get(v1, "", "k") }
        }
    }

    @Test("ListKeys and ScanPrefix: live keys in byte order, deleted ones left out, too many for one reply refused")
    func listings() async throws {
        try await withBothServices { client, v1, _ in
            for key in ["config/b", "config/a", "step/1", "gone"] {
                _ = try await Self.put(v1, "a", key, #"{"key":"\#(key)"}"#)
            }
            _ = try await Self.put(v1, "other", "config/z", "{}")
            let txn = try await Self.begin(v1)
            try await Self.delete(v1, txn, "a", "gone")
            _ = try await Self.commit(v1, txn)

            var list = Statehouse_V1_ListKeysRequest()
            list.agentID = "a"
            #expect(try await v1.listKeys(list).keys == ["config/a", "config/b", "step/1"])
            var scan = Statehouse_V1_ScanPrefixRequest()
            scan.agentID = "a"
            scan.prefix = "config/"
            let entries = try await v1.scanPrefix(scan).entries
            #expect(entries.map(\.key) == ["config/a", "config/b"])
            let configA = try Self.value(#"{"key":"config/a"}"#)
            #expect(entries[0].value == configA && entries[0].version == 1)
            #expect(entries.map(\.commitTs) == [2, 1])
            list.agentID = "nobody"
            #expect(try await v1.listKeys(list).keys.isEmpty)

            // 4,200 keys of 1,000 bytes are more than a 4 MiB reply: the original API cannot page, so it says so.
            var many = Statehouse_V2_ApplyRequest()
            many.namespace = "big"
            for index in 0..<4200 {
                var operation = Statehouse_V2_Operation()
                operation.agentID = "crowd"
                operation.key = String(format: "%04d-", index) + String(repeating: "k", count: 995)
                operation.kind = .put
                operation.value = Data("{}".utf8)
                many.operations.append(operation)
            }
            _ = try await client.apply(many)
            list.namespace = "big"
            list.agentID = "crowd"
            let message = await expectCode(.resourceExhausted) { try await v1.listKeys(list) }
            #expect(message.contains("statehouse.v2 ListKeys"))
        }
    }

    @Test("Replay: one agent's operations in commit order, inclusive range, deletes without a value")
    func replay() async throws {
        try await withBothServices { _, v1, _ in
            _ = try await Self.put(v1, "a", "k1", #"{"i":1}"#)  // 1
            _ = try await Self.put(v1, "b", "k1", #"{"i":2}"#)  // 2: another agent
            let txn = try await Self.begin(v1)  // 3: both agents
            try await Self.write(v1, txn, "a", "k2", try Self.value(#"{"i":3}"#))
            try await Self.write(v1, txn, "b", "k2", try Self.value(#"{"i":3}"#))
            try await Self.delete(v1, txn, "a", "k1")
            _ = try await Self.commit(v1, txn)
            _ = try await Self.put(v1, "a", "k3", #"{"i":4}"#)  // 4

            let all = try await Self.replay(v1, "a")
            #expect(all.map(\.commitTs) == [1, 3, 4])
            #expect(all[1].operations.map(\.key) == ["k2", "k1"])
            #expect(all[1].operations[1].hasValue == false && all[1].operations[1].version == 2)
            #expect(all[1].operations[0].value == (try Self.value(#"{"i":3}"#)))
            #expect(all.allSatisfy { !$0.txnID.isEmpty })
            #expect(try await Self.replay(v1, "a", start: 3, end: 4).map(\.commitTs) == [3, 4])
            #expect(try await Self.replay(v1, "a", start: 2, end: 3).map(\.commitTs) == [3])
            #expect(try await Self.replay(v1, "a", start: 5).isEmpty)
            #expect(try await Self.replay(v1, "nobody").isEmpty)
            await expectCode(.invalidArgument) { try await Self.replay(v1, "a", start: 4, end: 3) }
            await expectCode(.invalidArgument) { try await Self.replay(v1, "") }
        }
    }
}
