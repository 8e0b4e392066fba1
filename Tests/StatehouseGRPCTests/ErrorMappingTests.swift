import Foundation
import GRPCCore
import StatehouseCore
import StatehouseGRPC
import StatehouseProto
import StatehouseTesting
import Testing

@Suite("Errors map to status codes", .timeLimit(.minutes(2)))
struct ErrorMappingTests {
    @Test(
        "every StatehouseError case has its status code",
        arguments: [
            (StatehouseError.invalidArgument("x"), RPCError.Code.invalidArgument),
            (.transactionNotFound("x"), .notFound),
            (.notFound("x"), .notFound),
            (.transactionExpired("x"), .failedPrecondition),
            (.conflict(agentID: "a", key: "k", expected: 1, actual: 2), .aborted),
            (.resourceExhausted("x"), .resourceExhausted),
            (.subscriberTooSlow(resumeFrom: 7), .resourceExhausted),
            (.unavailable("x"), .unavailable),
            (.dataCorruption(commitTS: 3, reason: "x"), .dataLoss),
            (.internalError("x"), .internalError),
        ]
    )
    func mapping(_ error: StatehouseError, _ code: RPCError.Code) {
        let rpcError = RPCError(error)
        #expect(rpcError.code == code)
        #expect(rpcError.message == error.description)
    }

    @Test("structured details travel as metadata")
    func metadata() {
        #expect(
            RPCError(StatehouseError.subscriberTooSlow(resumeFrom: 42)).metadata[stringValues: "statehouse-resume-from"]
                .map { $0 } == ["42"])
        let conflict = RPCError(StatehouseError.conflict(agentID: "a", key: "k", expected: nil, actual: 3)).metadata
        #expect(conflict[stringValues: "statehouse-conflict-key"].map { $0 } == ["k"])
        #expect(conflict[stringValues: "statehouse-conflict-actual"].map { $0 } == ["3"])
        #expect(conflict[stringValues: "statehouse-conflict-expected"].map { $0 }.isEmpty)
    }

    @Test("RPCs fail with the documented codes and change nothing")
    func codesOverTheWire() async throws {
        var configuration = EngineConfiguration()
        configuration.limits.maxOpenTransactions = 2
        let clock = ManualClock()
        try await withTestService(configuration: configuration, clock: clock) { client, _ in
            // INVALID_ARGUMENT: malformed JSON, a bad name, an unknown operation kind.
            await expectCode(.invalidArgument) { try await client.apply(putRequest("a", "k", "{nope")) }
            await expectCode(.invalidArgument) { try await client.apply(putRequest("", "k", "1")) }
            var unspecified = putRequest("a", "k", "1")
            unspecified.operations[0].kind = .unspecified
            await expectCode(.invalidArgument) { try await client.apply(unspecified) }
            var badNamespace = Statehouse_V2_BeginTransactionRequest()
            badNamespace.namespace = "no spaces"
            await expectCode(.invalidArgument) { try await client.beginTransaction(badNamespace) }

            // NOT_FOUND: an unknown transaction.
            var commit = Statehouse_V2_CommitRequest()
            commit.txnID = "unknown"
            let message = await expectCode(.notFound) { try await client.commit(commit) }
            #expect(message == "transaction unknown not found")

            // RESOURCE_EXHAUSTED: too many open transactions.
            let first = try await client.beginTransaction(Statehouse_V2_BeginTransactionRequest())
            _ = try await client.beginTransaction(Statehouse_V2_BeginTransactionRequest())
            await expectCode(.resourceExhausted) {
                try await client.beginTransaction(Statehouse_V2_BeginTransactionRequest())
            }

            // FAILED_PRECONDITION: an expired transaction.
            clock.advance(by: .seconds(31))
            commit.txnID = first.txnID
            let expired = await expectCode(.failedPrecondition) { try await client.commit(commit) }
            #expect(expired.contains("expired"))

            // ABORTED: a conflict.
            _ = try await client.apply(putRequest("a", "k", "1"))
            var stale = putRequest("a", "k", "2")
            var condition = Statehouse_V2_Condition()
            condition.agentID = "a"
            condition.key = "k"
            condition.mustNotExist = true
            stale.conditions = [condition]
            await expectCode(.aborted) { try await client.apply(stale) }

            let head = try await client.getHead(Statehouse_V2_GetHeadRequest())
            #expect(head.commitTs == 1)
        }
    }
}
