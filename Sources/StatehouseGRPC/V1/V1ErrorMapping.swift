import GRPCCore
import StatehouseCore
import StatehouseWire

/// The status codes of the original API: its documented `ErrorCode` table (proto/statehouse/v1/statehouse.proto),
/// which differs from statehouse.v2 for transactions.
///
/// | engine error | v1 status | original ErrorCode |
/// | --- | --- | --- |
/// | invalid argument | INVALID_ARGUMENT | INVALID_REQUEST |
/// | transaction not found (aborted, unknown) | NOT_FOUND | TXN_NOT_FOUND |
/// | transaction not found, but it committed | FAILED_PRECONDITION | TXN_ALREADY_COMMITTED |
/// | transaction expired | DEADLINE_EXCEEDED | TXN_EXPIRED |
/// | resource exhausted, unavailable, data corruption, internal | as in statehouse.v2 | STORAGE_ERROR, INTERNAL_ERROR |
enum V1ErrorMapping {
    /// - Parameter txnStatus: the transaction's status when the call named one, to tell "already committed" apart.
    static func rpcError(_ error: StatehouseError, txnStatus: TransactionStatus?) -> RPCError {
        switch error {
        case .transactionNotFound(let message):
            if case .committed(let result) = txnStatus {
                return RPCError(
                    code: .failedPrecondition,
                    message: "\(message) (commit_ts \(result.commitTS) in namespace '\(result.namespace)')",
                    metadata: error.rpcErrorMetadata
                )
            }
            return RPCError(code: .notFound, message: message, metadata: error.rpcErrorMetadata)
        case .transactionExpired(let message):
            // The original's code, and the same `statehouse-error` reason as statehouse.v2 sends.
            return RPCError(code: .deadlineExceeded, message: message, metadata: error.rpcErrorMetadata)
        default:
            return RPCError(code: error.rpcErrorCode, message: error.rpcErrorMessage, metadata: error.rpcErrorMetadata)
        }
    }
}
