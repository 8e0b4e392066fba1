import Foundation
import GRPCCore
import StatehouseCore
import StatehouseProto
import SwiftProtobuf

/// Values of the original API (`google.protobuf.Struct`) to the JSON text the engine stores, and back.
///
/// A Struct is a JSON object whose numbers are doubles. Written, it becomes compact JSON text with sorted keys (a
/// Struct is a map: it has no key order to keep) and every integral number within ±2^53 written as an integer, so
/// that `{"count": 3}` sent by an original client is stored as `{"count":3}`, exactly what a statehouse.v2 client
/// writing the same object stores. Read back, stored JSON is parsed into a Struct; what a Struct cannot carry (a
/// value that is not an object, a number outside the double range) is reported, never altered silently.
enum V1Values {
    /// The largest integer a double holds exactly; integral doubles within ±this are written without a fraction.
    static let maxExactInteger = 9_007_199_254_740_992.0

    /// Nesting allowed when parsing stored JSON into a Struct: a JSON level is two protobuf messages (a Value and
    /// a Struct or ListValue), and the engine accepts JSON nested up to ``StatehouseModel/EngineLimits/maxJSONDepth``
    /// levels.
    static func decodingOptions(limits: EngineLimits) -> JSONDecodingOptions {
        var options = JSONDecodingOptions()
        options.messageDepthLimit = 2 * limits.maxJSONDepth + 4
        return options
    }

    // ---- Struct -> JSON text ----

    /// The JSON text of a Struct sent by an original client, validated as the engine validates every value.
    ///
    /// - Throws: ``StatehouseModel/StatehouseError/invalidArgument(_:)`` for a number that is NaN or infinite, a
    ///   `Value` with no kind set, or a result over the value size or nesting limits; nothing is staged then.
    static func json(_ value: Google_Protobuf_Struct, key: String, limits: EngineLimits) throws -> JSONValue {
        var text = ""
        try self.write(value, to: &text, path: "value")
        guard text.utf8.count <= limits.maxValueBytes else {
            throw StatehouseError.invalidArgument(
                "value of key '\(key)' is \(text.utf8.count) bytes as JSON; the limit is \(limits.maxValueBytes) bytes"
            )
        }
        return try JSONValue(validating: text, maxDepth: limits.maxJSONDepth)
    }

    private static func write(_ object: Google_Protobuf_Struct, to text: inout String, path: String) throws {
        text += "{"
        for (index, name) in object.fields.keys.sorted().enumerated() {
            if index > 0 { text += "," }
            JSONString.append(name, to: &text)
            text += ":"
            try self.write(object.fields[name]!, to: &text, path: path + "." + name)
        }
        text += "}"
    }

    private static func write(_ value: Google_Protobuf_Value, to text: inout String, path: String) throws {
        switch value.kind {
        case .nullValue:
            text += "null"
        case .boolValue(let flag):
            text += flag ? "true" : "false"
        case .stringValue(let string):
            JSONString.append(string, to: &text)
        case .numberValue(let number):
            text += try self.number(number, path: path)
        case .structValue(let object):
            try self.write(object, to: &text, path: path)
        case .listValue(let list):
            text += "["
            for (index, item) in list.values.enumerated() {
                if index > 0 { text += "," }
                try self.write(item, to: &text, path: "\(path)[\(index)]")
            }
            text += "]"
        case nil:
            throw StatehouseError.invalidArgument("\(path) is a google.protobuf.Value with no kind set")
        }
    }

    /// A double as a JSON number: integral values within ±2^53 as integers, others in their shortest form.
    static func number(_ number: Double, path: String) throws -> String {
        guard number.isFinite else {
            throw StatehouseError.invalidArgument("\(path) is \(number), which JSON cannot represent")
        }
        if number.rounded(.towardZero) == number && abs(number) <= self.maxExactInteger {
            return String(Int64(number))
        }
        // The shortest text that reads back as the same double ("0.1", "1e+300", "9500000000000000.0"), as a Python
        // client writing the same number stores it.
        return JSONNumber.pythonRepr(number)
    }

    // ---- JSON text -> Struct ----

    /// The Struct of a stored value, for a reply to an original client.
    ///
    /// - Throws: `RPCError` FAILED_PRECONDITION when the value is not a JSON object (an array, string,
    ///   number, boolean or null written through statehouse.v2) or holds a number beyond the double range: a Struct
    ///   cannot carry it, and the caller is told to read it through statehouse.v2.
    static func structValue(
        _ json: JSONValue,
        agentID: String,
        key: String,
        version: StatehouseCore.Version,
        limits: EngineLimits
    ) throws -> Google_Protobuf_Struct {
        let where_ = "the value of agent '\(agentID)' key '\(key)' (version \(version))"
        guard json.utf8.first(where: { !Self.isWhitespace($0) }) == UInt8(ascii: "{") else {
            throw RPCError(
                code: .failedPrecondition,
                message: "\(where_) is a JSON \(Self.kind(of: json)), and the original API carries only JSON objects "
                    + "(google.protobuf.Struct); read it through statehouse.v2"
            )
        }
        do {
            return try Google_Protobuf_Struct(jsonUTF8Bytes: json.utf8, options: self.decodingOptions(limits: limits))
        } catch {
            throw RPCError(
                code: .failedPrecondition,
                message:
                    "\(where_) cannot be carried by a google.protobuf.Struct (\(error)); read it through statehouse.v2"
            )
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func kind(of json: JSONValue) -> String {
        switch json.utf8.first(where: { !Self.isWhitespace($0) }) {
        case UInt8(ascii: "["): "array"
        case UInt8(ascii: "\""): "string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "boolean"
        case UInt8(ascii: "n"): "null"
        default: "number"
        }
    }
}
