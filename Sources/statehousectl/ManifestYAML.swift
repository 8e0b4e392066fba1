import Foundation
import Yams

/// A YAML manifest read into the objects `JSONSerialization` makes, so that one checker reads both forms
/// (docs/api.md, "Manifests"). Scalars resolve as Yams' default resolver does (`true`, `0x1F`, `1.5`, `~`); a
/// timestamp stays the text written; anchors and aliases are expanded. Refused, naming the line: a key given twice
/// (by Yams' parser), a key that is not a string, and a number that is not finite (`.inf`, `.nan`: JSON has none).
enum ManifestYAML {
    static func object(_ text: String, path: String) throws -> Any {
        let document: Node?
        do {
            document = try Yams.compose(yaml: text)
        } catch {
            throw UsageError("\(path): not YAML (\(error))")
        }
        guard let document else { throw UsageError("\(path): the manifest is empty") }
        return try self.convert(document, path: path)
    }

    private static func convert(_ node: Node, path: String) throws -> Any {
        let place = "\(path)\(node.mark.map { " line \($0.line)" } ?? "")"
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return NSNull()
            case .bool: return NSNumber(value: node.bool ?? false)
            case .int:
                guard let value = node.int else {
                    throw UsageError("\(place): \(scalar.string) is not a 64-bit integer")
                }
                return NSNumber(value: value)
            case .float:
                guard let value = node.float, value.isFinite else {
                    throw UsageError("\(place): \(scalar.string) is not a finite number (JSON has no infinities)")
                }
                return NSNumber(value: value)
            default:
                return scalar.string
            }
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping {
                guard case .scalar(let name) = key, Tag.Name(rawValue: key.tag.rawValue) == .str else {
                    throw UsageError("\(place): a key must be a string")
                }
                object[name.string] = try self.convert(value, path: path)
            }
            return object
        case .sequence(let sequence):
            return try sequence.map { try self.convert($0, path: path) }
        case .alias:
            throw UsageError("\(place): an alias that names no anchor")
        }
    }
}
