/// How stores keep a user's or app's list-valued fields: as JSON text in one column. Shared by every
/// database store so that a file written by one reads the same in another.
public enum StoredJSON {
    /// `["a","b"]` for a list of strings.
    public static func text(of strings: [String]) -> String {
        JSONValue.array(strings.map(JSONValue.string)).jsonText
    }

    /// `{"name":"value",…}`, sorted by name, for admin-UI (legacy) properties.
    public static func text(of legacyProperties: [String: String]) -> String {
        JSONValue.object(legacyProperties.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })
            .jsonText
    }

    /// A Connect app's installation, stored as its JSON form; `nil` for none or anything unreadable.
    public static func installation(_ text: String?) -> ConnectInstallation? {
        guard let text, let value = try? JSONParser.parse(text) else { return nil }
        return ConnectInstallation(json: value)
    }

    /// Any stored JSON text; `nil` for none or anything unreadable.
    public static func value(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONParser.parse($0) }
    }

    /// The strings of a stored JSON array; anything else reads as none.
    public static func strings(_ text: String?) -> [String] {
        guard case .array(let elements)? = try? JSONParser.parse(text ?? "[]") else { return [] }
        return elements.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    /// The string members of a stored JSON object; anything else reads as none.
    public static func legacyProperties(_ text: String?) -> [String: String] {
        var properties: [String: String] = [:]
        if case .object(let members)? = try? JSONParser.parse(text ?? "{}") {
            for member in members {
                if case .string(let value) = member.value { properties[member.name] = value }
            }
        }
        return properties
    }

    /// `[{"hash":"…","scopes":["…"]},…]` for a user's scoped API tokens.
    public static func text(of scopedTokens: [ScopedAPIToken]) -> String {
        JSONValue.array(
            scopedTokens.map {
                .object([
                    JSONMember("hash", .string($0.hash)),
                    JSONMember("scopes", .array($0.scopes.map(JSONValue.string))),
                ])
            }
        ).jsonText
    }

    /// The scoped API tokens of a stored JSON array; malformed entries read as none.
    public static func scopedAPITokens(_ text: String?) -> [ScopedAPIToken] {
        guard case .array(let elements)? = try? JSONParser.parse(text ?? "[]") else { return [] }
        return elements.compactMap { element in
            guard case .object(let members) = element,
                case .string(let hash)? = members.first(where: { $0.name == "hash" })?.value,
                case .array(let scopes)? = members.first(where: { $0.name == "scopes" })?.value
            else { return nil }
            return ScopedAPIToken(
                hash: hash, scopes: scopes.compactMap { if case .string(let text) = $0 { text } else { nil } })
        }
    }
}
