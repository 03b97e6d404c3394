// The report's "Settings" line: a run's config.json `config` object as short "key = value" items.
// Nested objects of settings are flattened into dotted keys ("experiment.steps = 6000"); an object
// whose members are themselves objects (per-model or per-arm records, repeated settings) is named
// with its member count and first names instead of being printed whole; long values are cut.
import Foundation

/// Flattens a decoded config object into sorted "key = value" items (see the file header).
public enum SettingsSummary {
    /// Values longer than this many characters are cut, with "..." appended.
    public static let maximumValueLength = 80

    /// The items of `config`, keys sorted at every level.
    /// - Parameters:
    ///   - config: a JSON object as `JSONSerialization` decodes it.
    ///   - prefix: the dotted path of `config` inside the top-level object ("" at the top).
    public static func items(_ config: [String: Any], prefix: String = "") -> [String] {
        config.sorted { $0.key < $1.key }.flatMap { key, value -> [String] in
            let name = prefix.isEmpty ? key : prefix + "." + key
            if let object = value as? [String: Any] {
                let records = object.values.filter { $0 is [String: Any] }.count
                if !object.isEmpty && records * 2 > object.count {
                    let names = object.keys.sorted()
                    let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? ", ..." : "")
                    return ["\(name) = \(object.count) records (\(shown); in config.json)"]
                }
                return items(object, prefix: name)
            }
            return ["\(name) = \(cut(text(value)))"]
        }
    }

    /// A scalar or array as text: arrays comma-separated, nested values in JSON-like brackets.
    static func text(_ value: Any) -> String {
        switch value {
        case let array as [Any]: return array.map(text).joined(separator: ", ")
        case let object as [String: Any]: return "{" + items(object).joined(separator: ", ") + "}"
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumbers of type "c" (integers are "i"/"q",
            // decimals "d"); print them as words.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        case is NSNull: return "null"
        default: return "\(value)"
        }
    }

    static func cut(_ s: String) -> String {
        s.count > maximumValueLength ? String(s.prefix(maximumValueLength - 3)) + "..." : s
    }
}
