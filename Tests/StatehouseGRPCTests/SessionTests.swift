import Foundation
import GRPCCore
import StatehouseCore
import StatehouseGRPC
import StatehouseProto
import StatehouseTesting
import Synchronization
import Testing

@Suite("Session stream", .timeLimit(.minutes(2)))
struct SessionTests {
    @Test("pipelined requests are all answered, each with its own request id, errors included")
    func pipelining() async throws {
        try await withTestService { client, _ in
            let count = 500
            let responses = try await client.session { writer in
                var requests: [Statehouse_V2_SessionRequest] = []
                for index in 0..<count {
                    var request = Statehouse_V2_SessionRequest()
                    request.requestID = UInt64(index)
                    switch index % 4 {
                    case 0: request.apply = putRequest("agent-\(index % 7)", "k\(index)", "\(index)")
                    case 1: request.get = getRequest("agent-\(index % 7)", "k\(index - 1)")
                    case 2: request.apply = putRequest("a", "k", "{broken")  // fails alone
                    default:
                        var read = Statehouse_V2_ListKeysRequest()
                        read.agentID = "agent-0"
                        request.listKeys = read
                    }
                    requests.append(request)
                }
                try await writer.write(contentsOf: requests)
            } onResponse: { response in
                var all: [Statehouse_V2_SessionResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
            #expect(responses.count == count)
            #expect(Set(responses.map(\.requestID)) == Set((0..<count).map(UInt64.init)))
            for response in responses {
                switch Int(response.requestID) % 4 {
                case 0: #expect(response.commit.result.commitTs >= 1)
                case 2: #expect(response.error.code == Int32(RPCError.Code.invalidArgument.rawValue))
                case 1:
                    // A read pipelined with the write before it may or may not see it; it must not fail.
                    guard case .get = response.response else {
                        Issue.record("request \(response.requestID) got \(String(describing: response.response))")
                        continue
                    }
                default:
                    guard case .listKeys = response.response else {
                        Issue.record("request \(response.requestID) got \(String(describing: response.response))")
                        continue
                    }
                }
            }
            let head = try await client.getHead(Statehouse_V2_GetHeadRequest())
            #expect(head.commitTs == UInt64(count / 4))
        }
    }

    @Test("a batch carries many requests in one stream message; each is answered on its own")
    func batches() async throws {
        try await withTestService { client, _ in
            let responses = try await client.session { writer in
                var carrier = Statehouse_V2_SessionRequest()  // a pure carrier: no request of its own
                for index in 1...20 {
                    var request = Statehouse_V2_SessionRequest()
                    request.requestID = UInt64(index)
                    request.apply = putRequest("batch", "k\(index)", "\(index)")
                    carrier.batch.append(request)
                }
                var withOwn = Statehouse_V2_SessionRequest()  // its own request first, then its batch
                withOwn.requestID = 21
                withOwn.get = getRequest("batch", "k1")
                var nested = Statehouse_V2_SessionRequest()
                nested.requestID = 22
                nested.listKeys.agentID = "batch"
                withOwn.batch = [nested]
                try await writer.write(contentsOf: [carrier, withOwn])
            } onResponse: { response in
                var all: [Statehouse_V2_SessionResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
            #expect(responses.count == 22)
            #expect(Set(responses.map(\.requestID)) == Set(1...22))
            #expect(responses.filter { $0.requestID <= 20 }.allSatisfy { $0.commit.result.commitTs >= 1 })
            let head = try await client.getHead(Statehouse_V2_GetHeadRequest())
            #expect(head.commitTs == 20)
        }
    }

    @Test("an interactive transaction runs over the session")
    func transactionOverSession() async throws {
        try await withTestService { client, _ in
            let begin = try await client.beginTransaction(Statehouse_V2_BeginTransactionRequest())
            let responses = try await client.session { writer in
                var write = Statehouse_V2_SessionRequest()
                write.requestID = 1
                write.write.txnID = begin.txnID
                write.write.agentID = "a"
                write.write.key = "k"
                write.write.value = Data("7".utf8)
                try await writer.write(write)
            } onResponse: { response in
                var all: [Statehouse_V2_SessionResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
            #expect(responses.count == 1)
            guard case .write = responses.first?.response else {
                Issue.record("expected a write response, got \(String(describing: responses.first?.response))")
                return
            }
            var commit = Statehouse_V2_CommitRequest()
            commit.txnID = begin.txnID
            #expect(try await client.commit(commit).result.commitTs == 1)
        }
    }
}
