import PostgresNIO
public import StatehouseModel

/// PostgreSQL's errors as Statehouse errors. postgres-nio describes a `PSQLError` generically (to keep query text and
/// values out of logs); the server's own message and SQLSTATE are what an operator needs, and they hold no values.
public enum PostgresErrors {
    /// Runs `body`, turning what the database or the connection throws into ``StatehouseModel/StatehouseError``
    /// (UNAVAILABLE, naming `what` was being done), and unwrapping a transaction's error into the one its body threw.
    public static func translating<Result: Sendable>(
        _ what: String, _ body: () async throws -> Result
    ) async throws -> Result {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw self.translated(inner, what) }
            throw self.translated(error.beginError ?? error.commitError ?? error.rollbackError ?? error, what)
        } catch {
            throw self.translated(error, what)
        }
    }

    static func translated(_ error: any Error, _ what: String) -> any Error {
        switch error {
        case is StatehouseError:
            return error
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] {
                let code = error.serverInfo?[.sqlState]
                let state = code.map { " (SQLSTATE \($0))" } ?? ""
                // A broken integrity constraint (class 23) is a fault of what was written, not of the database
                // being away: not UNAVAILABLE, so that a commit batch is retried transaction by transaction and
                // the one at fault fails alone.
                if code?.hasPrefix("23") == true {
                    return StatehouseError.internalError("PostgreSQL refused \(what): \(message)\(state)")
                }
                return StatehouseError.unavailable("PostgreSQL refused \(what): \(message)\(state)")
            }
            return StatehouseError.unavailable("PostgreSQL could not be reached while \(what) (\(error.code))")
        default:
            return StatehouseError.unavailable("PostgreSQL failed while \(what): \(error)")
        }
    }
}
