import Testing

@testable import StatehouseCore

@Suite("AsyncHandOff", .timeLimit(.minutes(1)))
struct AsyncHandOffTests {
    struct Queue: Sendable {
        var items: [Int] = []
        var finished = false
        var cancelled = false
    }

    /// Takes everything queued; `.some(nil)` once finished and drained, or when cancelled.
    static func takeAll(_ state: inout Queue) -> [Int]?? {
        if !state.items.isEmpty {
            defer { state.items.removeAll() }
            return .some(state.items)
        }
        return state.finished || state.cancelled ? .some(nil) : nil
    }

    @Test("every item of concurrent producers reaches the consumer once, in each producer's order")
    func noLostItems() async throws {
        let handOff = AsyncHandOff(Queue())
        let producers = 8
        let perProducer = 2_000
        let consumer = Task {
            var received: [Int] = []
            while let batch = await handOff.next(Self.takeAll, onCancel: { $0.cancelled = true }) {
                received += batch
            }
            return received
        }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<producers {
                group.addTask {
                    for index in 0..<perProducer {
                        handOff.update { $0.items.append(producer * perProducer + index) }
                        if index % 100 == 0 { await Task.yield() }
                    }
                }
            }
        }
        handOff.update { $0.finished = true }
        let received = await consumer.value
        #expect(received.count == producers * perProducer)
        #expect(Set(received).count == received.count)
        for producer in 0..<producers {
            let own = received.filter { $0 / perProducer == producer }
            #expect(own == own.sorted())
        }
    }

    @Test("cancelling a waiting consumer runs onCancel and lets it return")
    func cancellation() async throws {
        let handOff = AsyncHandOff(Queue())
        let consumer = Task { await handOff.next(Self.takeAll, onCancel: { $0.cancelled = true }) }
        consumer.cancel()
        #expect(await consumer.value == .some(nil))
        #expect(handOff.withState { $0.cancelled })
    }
}
