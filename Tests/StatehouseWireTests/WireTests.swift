import Foundation
import GRPCCore
import StatehouseModel
import StatehouseProto
import StatehouseWire
import Testing

/// Every conversion of StatehouseWire round-trips: what one side encodes, the other decodes to the same value.
@Suite("Wire conversions")
struct WireTests {
    let hash = EventHash(bytes: (0..<32).map { UInt8($0) })!
    let otherHash = EventHash(bytes: (0..<32).map { UInt8(255 - $0) })!
    let metadata = CommitMetadata(actor: "planner", reason: "step 3", tags: ["run": "r-1", "é": "ü"])

    func json(_ text: String) throws -> JSONValue { try JSONValue(validating: text) }

    @Test("records, results, heads and events decode to what was encoded")
    func replies() throws {
        let records = [
            StateRecord(
                agentID: "a", key: "k", value: try json(#"{"n":1.50,"s":"é"}"#), version: 3, commitTS: 9,
                committedAt: 1_700_000_000_000_123, deleted: false),
            .missing(agentID: "a", key: "gone"),
            StateRecord(
                agentID: "a", key: "deleted", value: nil, version: 4, commitTS: 10, committedAt: 5, deleted: true),
        ]
        for record in records { #expect(Wire.record(Wire.proto(record)) == record) }

        let result = CommitResult(
            namespace: "ns", txnID: "t-1", commitTS: 7, committedAt: 42, versions: [1, 5],
            hash: self.hash)
        #expect(Wire.result(Wire.proto(result)) == result)

        let head = LogHead(namespace: "ns", commitTS: 7, hash: self.hash, committedAt: 42)
        #expect(Wire.head(Wire.proto(head)) == head)

        for metadata in [self.metadata, CommitMetadata()] {
            let event = Event(
                namespace: "ns", commitTS: 7, txnID: "t-1", committedAt: 42,
                operations: [
                    AppliedOperation(agentID: "a", key: "k", kind: .put, value: try json("[1,2]"), version: 2),
                    AppliedOperation(agentID: "a", key: "old", kind: .delete, value: nil, version: 6),
                ],
                metadata: metadata, prevHash: self.otherHash, hash: self.hash
            )
            #expect(Wire.event(Wire.proto(event)) == event)
        }
    }

    @Test("a one-shot commit decodes to its operations, conditions and metadata")
    func commits() throws {
        let commit = AtomicCommit(
            namespace: "ns",
            operations: [
                .put(agentID: "a", key: "k", value: try json(#"{"x":true}"#)), .delete(agentID: "a", key: "d"),
            ],
            conditions: [
                .init(agentID: "a", key: "k", expected: .version(4)),
                .init(agentID: "a", key: "new", expected: .absent),
            ],
            idempotencyKey: "retry-1",
            metadata: self.metadata
        )
        let request = Wire.proto(commit)
        let limits = EngineLimits()
        #expect(try request.operations.map { try Wire.operation($0, limits: limits) } == commit.operations)
        #expect(try request.conditions.map(Wire.condition) == commit.conditions)
        #expect(Wire.metadata(request.metadata) == commit.metadata)
        #expect(Wire.namespace(request.namespace) == "ns" && request.idempotencyKey == "retry-1")
    }

    @Test("log filters and read points decode to what was encoded")
    func queries() throws {
        let filters = [
            LogFilter(
                namespace: "ns", agentID: "a", keyPrefix: "memory/", fromCommitTS: 2, toCommitTS: 9,
                since: 100, until: 200),
            LogFilter(namespace: "ns"),
        ]
        for filter in filters { #expect(Wire.filter(Wire.proto(filter)) == filter) }
        for point in [ReadPoint.latest, .commit(12), .time(1_700_000_000_000_000)] {
            #expect(Wire.readPoint(try Wire.proto(point)) == point)
        }
        #expect(throws: StatehouseError.self) { try Wire.proto(ReadPoint.version(3)) }
    }

    @Test("bad request fields are refused with the same errors whoever sends them")
    func badRequests() throws {
        var operation = Statehouse_V2_Operation()
        operation.agentID = "a"
        operation.key = "k"
        #expect(throws: StatehouseError.invalidArgument("operation kind must be PUT or DELETE")) {
            try Wire.operation(operation, limits: EngineLimits())
        }
        operation.kind = .delete
        operation.value = Data("1".utf8)
        #expect(throws: StatehouseError.invalidArgument("a delete takes no value")) {
            try Wire.operation(operation, limits: EngineLimits())
        }
        operation.kind = .put
        operation.value = Data("{".utf8)
        #expect(throws: StatehouseError.self) { try Wire.operation(operation, limits: EngineLimits()) }
        #expect(throws: StatehouseError.invalidArgument("a condition needs must_not_exist = true or a version")) {
            try Wire.condition(Statehouse_V2_Condition())
        }
    }

    static let sampleErrors: [StatehouseError] = [
        .invalidArgument("bad"),
        .transactionNotFound("no such transaction"),
        .notFound("no such namespace"),
        .transactionExpired("expired"),
        .conflict(agentID: "a", key: "k", expected: 3, actual: 4),
        .conflict(agentID: "a", key: "k", expected: nil, actual: nil),
        .resourceExhausted("too many"),
        .subscriberTooSlow(resumeFrom: 77),
        .unavailable("the store cannot write: read-only file system"),
        .dataCorruption(commitTS: 12, reason: "hash mismatch"),
        .dataCorruption(commitTS: 0, reason: "page 3 is damaged"),
        .internalError("oops"),
    ]

    @Test("every error survives a status and a session error, keyed on its reason", arguments: Self.sampleErrors)
    func roundTrip(_ error: StatehouseError) throws {
        let status = RPCError(
            code: error.rpcErrorCode, message: error.rpcErrorMessage, metadata: error.rpcErrorMetadata)
        #expect(Wire.error(status) == error)
        let session = Wire.sessionError(error)
        #expect(session.code == Int32(error.rpcErrorCode.rawValue) && session.reason == error.reason)
        #expect(Wire.error(session) == error)
    }

    @Test("a status or session error without a reason is not taken for Statehouse's")
    func foreignStatus() {
        #expect(Wire.error(RPCError(code: .unavailable, message: "connection refused")) == nil)
        var session = Statehouse_V2_SessionError()
        session.code = Int32(RPCError.Code.unavailable.rawValue)
        session.message = "store is closed"
        #expect(Wire.error(session) == nil)
        #expect(Wire.sessionError(RPCError(code: .notFound, message: "x")).reason.isEmpty)
    }
}
