import GRPCCore
import StatehouseModel
import StatehouseWire

/// The error a failed call surfaces to the client's user.
enum ClientErrors {
    /// A status from the daemon becomes the `StatehouseError` it threw (by its `statehouse-error` reason); a status
    /// without a reason did not come from Statehouse's code, so it says what failed on the way (the connection, the
    /// deadline) and where. A daemon older than the reasons gets the classification by code alone.
    static func error(_ error: any Error, address: String) -> any Error {
        guard let rpcError = error as? RPCError else { return error }
        if let mapped = Wire.error(rpcError) { return mapped }
        let message = rpcError.message
        switch rpcError.code {
        case .unavailable: return StatehouseError.unavailable("cannot reach statehoused at \(address): \(message)")
        case .deadlineExceeded, .cancelled:
            return StatehouseError.unavailable("the call to \(address) did not complete: \(message)")
        case .invalidArgument: return StatehouseError.invalidArgument(message)
        case .notFound: return StatehouseError.transactionNotFound(message)
        case .failedPrecondition: return StatehouseError.transactionExpired(message)
        case .aborted: return StatehouseError.conflict(agentID: "", key: "", expected: nil, actual: nil)
        case .resourceExhausted: return StatehouseError.resourceExhausted(message)
        case .unauthenticated: return StatehouseError.unauthenticated(message)
        case .permissionDenied: return StatehouseError.permissionDenied(message)
        case .dataLoss: return StatehouseError.dataCorruption(commitTS: 0, reason: message)
        default: return StatehouseError.internalError(message)
        }
    }
}
