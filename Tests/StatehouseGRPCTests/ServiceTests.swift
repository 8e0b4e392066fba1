import Foundation
import GRPCCore
import StatehouseCore
import StatehouseGRPC
import StatehouseProto
import StatehouseTesting
import Testing

@Suite("gRPC service over an in-process transport", .timeLimit(.minutes(2)))
struct ServiceTests {
    @Test("Health and Version")
    func healthAndVersion() async throws {
        try await withTestService { client, _ in
            #expect(try await client.health(Statehouse_V2_HealthRequest()).status == "ok")
            let version = try await client.version(Statehouse_V2_VersionRequest())
            #expect(version.version == "1.2.3" && version.gitSha == "abcdef0")
        }
    }

    @Test("a transaction begun by the client commits in one call, once, in its namespace")
    func clientBegunTransaction() async throws {
        try await withTestService { client, engine in
            _ = try await client.apply(putRequest("a", "read", "1", namespace: "ns"))
            var commit = Statehouse_V2_CommitRequest()
            commit.txnID = "0190f3a2-6c1e-7d4b-9a2f-3c5e7a9b1d2f"
            commit.begunByClient = true
            commit.namespace = "ns"
            commit.operations = putRequest("a", "k", #"{"v":1}"#).operations
            var read = Statehouse_V2_Condition()
            read.agentID = "a"
            read.key = "read"
            read.version = 1
            commit.conditions = [read]
            let result = try await client.commit(commit).result
            #expect(result.namespace == "ns" && result.txnID == commit.txnID && result.commitTs == 2)
            #expect(try await client.commit(commit).result == result)  // exactly once
            #expect(
                try await engine.get(namespace: "ns", agentID: "a", key: "k").value
                    == (try JSONValue(validating: #"{"v":1}"#)))

            _ = try await client.apply(putRequest("a", "read", "2", namespace: "ns"))
            commit.txnID = "0190f3a2-6c1e-7d4b-9a2f-3c5e7a9b1d30"  // a new transaction whose read is stale now
            await #expect(throws: RPCError.self) { _ = try await client.commit(commit) }
            commit.begunByClient = false  // without the flag, the daemon knows no such transaction
            await #expect(throws: RPCError.self) { _ = try await client.commit(commit) }
            #expect(try await engine.head(namespace: "ns").commitTS == 3)
        }
    }

    @Test("an interactive transaction: begin, write, delete, read own writes, commit with metadata, retry")
    func interactiveTransaction() async throws {
        try await withTestService { client, engine in
            _ = try await client.apply(putRequest("a", "gone", "0"))
            var begin = Statehouse_V2_BeginTransactionRequest()
            begin.timeoutMs = 120_000  // long: the suite runs in parallel with heavy tests on 2 cores
            let txn = try await client.beginTransaction(begin)
            #expect(txn.namespace == "default" && txn.timeoutMs == 120_000 && !txn.txnID.isEmpty)

            var write = Statehouse_V2_WriteRequest()
            write.txnID = txn.txnID
            write.agentID = "a"
            write.key = "k"
            write.value = Data(#"{"n":123456789012345678901234567890}"#.utf8)
            _ = try await client.write(write)
            var delete = Statehouse_V2_DeleteRequest()
            delete.txnID = txn.txnID
            delete.agentID = "a"
            delete.key = "gone"
            _ = try await client.delete(delete)
            var read = Statehouse_V2_TransactionGetRequest()
            read.txnID = txn.txnID
            read.agentID = "a"
            read.key = "k"
            #expect(try await client.transactionGet(read).record.text == #"{"n":123456789012345678901234567890}"#)

            var commit = Statehouse_V2_CommitRequest()
            commit.txnID = txn.txnID
            commit.metadata.actor = "tester"
            commit.metadata.tags = ["run": "1"]
            let result = try await client.commit(commit).result
            #expect(result.commitTs == 2 && result.versions == [1, 2] && result.hash.count == 32)
            #expect(try await client.commit(commit).result == result)  // exactly once

            let stored = try await client.getState(getRequest("a", "k")).record
            #expect(stored.exists && stored.version == 1 && stored.commitTs == 2)
            #expect(stored.text == #"{"n":123456789012345678901234567890}"#)
            #expect(try await client.getState(getRequest("a", "gone")).record.exists == false)
            #expect(try await engine.readLog(LogFilter()).items.last?.metadata.actor == "tester")
        }
    }

    @Test("Abort discards the transaction")
    func abort() async throws {
        try await withTestService { client, _ in
            let txn = try await client.beginTransaction(Statehouse_V2_BeginTransactionRequest())
            var write = Statehouse_V2_WriteRequest()
            write.txnID = txn.txnID
            write.agentID = "a"
            write.key = "k"
            write.value = Data("1".utf8)
            _ = try await client.write(write)
            var abort = Statehouse_V2_AbortRequest()
            abort.txnID = txn.txnID
            _ = try await client.abort(abort)
            var commit = Statehouse_V2_CommitRequest()
            commit.txnID = txn.txnID
            await expectCode(.notFound) { try await client.commit(commit) }
            #expect(try await client.getState(getRequest("a", "k")).record.exists == false)
        }
    }

    @Test("Apply with conditions, deletes, idempotency key and metadata")
    func apply() async throws {
        try await withTestService { client, _ in
            var request = putRequest("a", "k", "1")
            var absent = Statehouse_V2_Condition()
            absent.agentID = "a"
            absent.key = "k"
            absent.mustNotExist = true
            request.conditions = [absent]
            request.idempotencyKey = "create-k"
            request.metadata.reason = "first"
            let first = try await client.apply(request).result
            #expect(first.commitTs == 1)
            #expect(try await client.apply(request).result == first)
            var stale = putRequest("a", "k", "2")
            var condition = Statehouse_V2_Condition()
            condition.agentID = "a"
            condition.key = "k"
            condition.version = 9
            stale.conditions = [condition]
            let message = await expectCode(.aborted) { try await client.apply(stale) }
            #expect(message.contains("expected version 9, found version 1"))

            var delete = Statehouse_V2_ApplyRequest()
            var operation = Statehouse_V2_Operation()
            operation.agentID = "a"
            operation.key = "k"
            operation.kind = .delete
            delete.operations = [operation]
            #expect(try await client.apply(delete).result.versions == [2])
        }
    }

    @Test("every read RPC: points in history, many keys, listings, history, agents, namespaces, head")
    func reads() async throws {
        try await withTestService { client, _ in
            for (index, key) in ["m/1", "m/2", "plan"].enumerated() {
                _ = try await client.apply(putRequest("a", key, "\(index)"))
            }
            _ = try await client.apply(putRequest("a", "m/1", "10"))
            _ = try await client.apply(putRequest("b", "x", "20", namespace: "other"))

            var atTwo = getRequest("a", "m/1")
            atTwo.at.commitTs = 2
            #expect(try await client.getState(atTwo).record.text == "0")
            var asOfFuture = getRequest("a", "m/1")
            asOfFuture.at.asOfMicros = Int64.max
            #expect(try await client.getState(asOfFuture).record.text == "10")
            var atVersion = Statehouse_V2_GetStateAtVersionRequest()
            atVersion.agentID = "a"
            atVersion.key = "m/1"
            atVersion.version = 1
            #expect(try await client.getStateAtVersion(atVersion).record.text == "0")

            var many = Statehouse_V2_GetManyRequest()
            many.keys = ["m/1", "nope", "plan"].map { key in
                var address = Statehouse_V2_KeyAddress()
                address.agentID = "a"
                address.key = key
                return address
            }
            #expect(try await client.getMany(many).records.map(\.exists) == [true, false, true])

            var listKeys = Statehouse_V2_ListKeysRequest()
            listKeys.agentID = "a"
            listKeys.limit = 2
            let firstPage = try await client.listKeys(listKeys)
            #expect(firstPage.keys.map(\.key) == ["m/1", "m/2"] && !firstPage.nextCursor.isEmpty)
            listKeys.cursor = firstPage.nextCursor
            let secondPage = try await client.listKeys(listKeys)
            #expect(secondPage.keys.map(\.key) == ["plan"] && secondPage.nextCursor.isEmpty)

            var scan = Statehouse_V2_ScanPrefixRequest()
            scan.agentID = "a"
            scan.prefix = "m/"
            #expect(try await client.scanPrefix(scan).records.map(\.text) == ["10", "1"])

            var history = Statehouse_V2_HistoryRequest()
            history.agentID = "a"
            history.key = "m/1"
            #expect(try await client.history(history).versions.map(\.version) == [2, 1])

            #expect(try await client.listAgents(Statehouse_V2_ListAgentsRequest()).agentIds == ["a"])
            let namespaces = try await client.listNamespaces(Statehouse_V2_ListNamespacesRequest()).namespaces
            #expect(namespaces.map(\.namespace) == ["default", "other"])
            var head = Statehouse_V2_GetHeadRequest()
            head.namespace = "other"
            #expect(try await client.getHead(head).commitTs == 1)
        }
    }

    @Test("ReadLog pages, Replay streams batches, Verify checks the chain")
    func logRPCs() async throws {
        try await withTestService { client, _ in
            for index in 0..<2500 { _ = try await client.apply(putRequest("a", "k\(index % 10)", "\(index)")) }
            var readLog = Statehouse_V2_ReadLogRequest()
            readLog.filter.fromCommitTs = 11
            readLog.limit = 5
            let page = try await client.readLog(readLog)
            #expect(page.events.map(\.commitTs) == [11, 12, 13, 14, 15] && !page.nextCursor.isEmpty)

            var replay = Statehouse_V2_ReplayRequest()
            replay.filter.toCommitTs = 2400
            let (batches, events) = try await client.replay(replay) { response in
                var batches = 0
                var events: [UInt64] = []
                for try await batch in response.messages {
                    batches += 1
                    events += batch.events.map(\.commitTs)
                }
                return (batches, events)
            }
            #expect(events == Array(1...2400))
            #expect(batches == 3)

            let report = try await client.verify(Statehouse_V2_VerifyRequest())
            #expect(report.ok && report.eventsChecked == 2500 && report.head.commitTs == 2500)
        }
    }

    @Test("Watch catches up and then follows live commits")
    func watch() async throws {
        try await withTestService { client, _ in
            _ = try await client.apply(putRequest("a", "k", "1"))
            var request = Statehouse_V2_WatchRequest()
            request.fromCommitTs = 1
            let seen = try await client.watch(request) { response in
                var seen: [UInt64] = []
                for try await batch in response.messages {
                    seen += batch.events.map(\.commitTs)
                    if seen.last == 1 {
                        // Commit more while the watch is open; they must arrive live.
                        for value in 2...5 { _ = try await client.apply(putRequest("a", "k", "\(value)")) }
                    }
                    if seen.last == 5 { break }
                }
                return seen
            }
            #expect(seen == [1, 2, 3, 4, 5])
        }
    }
}
