/// A `WHERE` clause made of optional filters, each condition added together with its parameters, so that the
/// parameters are bound in the order their `?` appear (event and search queries build theirs from what is set).
struct SQLiteConditions {
    enum Parameter {
        case text(String)
        case integer(Int64)
        /// Text given as UTF-8 bytes (a prefix's upper bound is not valid UTF-8).
        case textBytes([UInt8])
    }

    private(set) var clauses: [String] = []
    private(set) var parameters: [Parameter] = []

    mutating func add(_ clause: String, _ parameters: Parameter...) {
        self.add(clause, parameters: parameters)
    }

    /// A clause that holds other conditions (a subquery's), their parameters in their order.
    mutating func add(_ clause: String, parameters: [Parameter]) {
        self.clauses.append(clause)
        self.parameters += parameters
    }

    /// `column = ?` for each filter that is set.
    mutating func equal(_ columns: [(String, String?)]) {
        for case (let column, let value?) in columns { self.add("\(column) = ?", .text(value)) }
    }

    var sql: String { self.clauses.joined(separator: " AND ") }

    /// Binds the parameters, then `trailing` (a limit, an offset) after them.
    func bind(to statement: SQLiteStatement, trailing: [Int64]) {
        var index: Int32 = 0
        for parameter in self.parameters {
            switch parameter {
            case .text(let text): statement.bind(index, text)
            case .integer(let value): statement.bind(index, value)
            case .textBytes(let bytes): statement.bindTextBytes(index, bytes)
            }
            index += 1
        }
        for value in trailing {
            statement.bind(index, value)
            index += 1
        }
    }
}
