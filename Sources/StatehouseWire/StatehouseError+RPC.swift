public import GRPCCore
public import StatehouseCore

/// The one mapping from ``StatehouseError`` to gRPC status codes (ARCHITECTURE.md, "Errors").
///
/// Services throw `StatehouseError` as is; grpc-swift turns it into a status with this code and the error's one-line,
/// client-safe description. Structured details a client can act on travel as metadata.
extension StatehouseError: RPCErrorConvertible {
    public var rpcErrorCode: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .transactionNotFound, .notFound: .notFound
        case .transactionExpired: .failedPrecondition
        case .conflict: .aborted  // re-read, then retry
        case .resourceExhausted, .subscriberTooSlow: .resourceExhausted
        case .unavailable: .unavailable
        case .dataCorruption: .dataLoss
        case .internalError: .internalError
        }
    }

    public var rpcErrorMessage: String { self.description }

    public var rpcErrorMetadata: Metadata {
        switch self {
        case .subscriberTooSlow(let resumeFrom):
            return ["statehouse-resume-from": "\(resumeFrom)"]
        case .conflict(let agentID, let key, let expected, let actual):
            var metadata: Metadata = ["statehouse-conflict-agent-id": "\(agentID)", "statehouse-conflict-key": "\(key)"]
            if let expected { metadata.addString("\(expected)", forKey: "statehouse-conflict-expected") }
            if let actual { metadata.addString("\(actual)", forKey: "statehouse-conflict-actual") }
            return metadata
        default:
            return [:]
        }
    }
}
