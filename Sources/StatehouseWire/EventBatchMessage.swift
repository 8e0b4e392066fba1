package import GRPCCore
package import StatehouseModel

/// A `statehouse.v2.EventBatch` (a replay or watch message) as the model's events.
///
/// The daemon registers `Replay` and `Watch` with ``EventBatchSerializer`` and the Swift client calls them with
/// ``EventBatchDeserializer``, so neither builds the generated messages for the log (``EventWireCodec``); the bytes
/// on the wire are the same, so other clients see no difference.
package struct EventBatchMessage: Sendable {
    package var events: [Event]

    package init(events: [Event]) {
        self.events = events
    }
}

/// Writes an ``EventBatchMessage`` as `EventBatch` protobuf, measured first and encoded into the transport's buffer.
package struct EventBatchSerializer: MessageSerializer {
    package init() {}

    package func serialize<Bytes: GRPCContiguousBytes>(_ message: EventBatchMessage) throws -> Bytes {
        let measured = EventWireCodec.MeasuredEvents(message.events)
        var bytes = Bytes(repeating: 0, count: measured.size)
        bytes.withUnsafeMutableBytes { EventWireCodec.encodeBatch(measured, into: $0) }
        return bytes
    }
}

/// Reads an `EventBatch` into an ``EventBatchMessage``; bytes that are not one fail the call with INTERNAL.
package struct EventBatchDeserializer: MessageDeserializer {
    package init() {}

    package func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> EventBatchMessage {
        let decoded = serializedMessageBytes.withUnsafeBytes { buffer in
            Result { () throws(EventWireCodec.MalformedInput) -> [Event] in try EventWireCodec.decodeBatch(buffer) }
        }
        switch decoded {
        case .success(let events):
            return EventBatchMessage(events: events)
        case .failure(let error):
            throw RPCError(code: .internalError, message: "the daemon sent an event batch that is not valid: \(error)")
        }
    }
}

/// An `ImportLogRequest` (a message of the import stream) as the model's events: the client writes it with
/// ``ImportLogMessageSerializer`` and the daemon reads it with ``ImportLogMessageDeserializer``
/// (``EventWireCodec``), the same bytes as the generated message.
package struct ImportLogMessage: Sendable {
    /// The target namespace and the source one: set in the first message only.
    package var namespace: String
    package var sourceNamespace: String
    package var events: [Event]

    package init(namespace: String = "", sourceNamespace: String = "", events: [Event] = []) {
        self.namespace = namespace
        self.sourceNamespace = sourceNamespace
        self.events = events
    }
}

package struct ImportLogMessageSerializer: MessageSerializer {
    package init() {}

    package func serialize<Bytes: GRPCContiguousBytes>(_ message: ImportLogMessage) throws -> Bytes {
        Bytes(
            EventWireCodec.encodeImportRequest(
                namespace: message.namespace, sourceNamespace: message.sourceNamespace, events: message.events))
    }
}

/// Reads an `ImportLogRequest`; bytes that are not one fail the call with INVALID_ARGUMENT (the client sent them).
package struct ImportLogMessageDeserializer: MessageDeserializer {
    package init() {}

    package func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> ImportLogMessage {
        let decoded = serializedMessageBytes.withUnsafeBytes { buffer in
            Result { () throws(EventWireCodec.MalformedInput) in try EventWireCodec.decodeImportRequest(buffer) }
        }
        switch decoded {
        case .success(let (namespace, sourceNamespace, events)):
            return ImportLogMessage(namespace: namespace, sourceNamespace: sourceNamespace, events: events)
        case .failure(let error):
            throw RPCError(code: .invalidArgument, message: "an import message is not valid: \(error)")
        }
    }
}
