/// A property value as Jira stores it: the validated JSON text of the request body, kept verbatim so
/// it is returned byte for byte as it was sent.
public struct PropertyValue: Sendable, Hashable {
    public let jsonText: String

    /// Why a request body cannot be a property value.
    public enum Problem: Error, Sendable, Equatable {
        /// Empty or only whitespace.
        case empty
        /// Not exactly one RFC 8259 JSON text in UTF-8.
        case invalidJSON(JSONParser.SyntaxError)
    }

    /// Validates a request body as a property value.
    public init<Bytes: Collection<UInt8>>(validating body: Bytes) throws(Problem) {
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            throw .empty
        }
        do {
            _ = try JSONParser.parse(body)
        } catch {
            throw .invalidJSON(error)
        }
        // The parser has checked that every byte is part of valid UTF-8.
        self.jsonText = String(decoding: body, as: UTF8.self)
    }

    /// A value from a parsed JSON tree, written compactly (site files).
    public init(_ value: JSONValue) {
        self.jsonText = value.jsonText
    }

    /// A value already validated earlier, such as one read back from a store.
    public init(storedJSONText: String) {
        self.jsonText = storedJSONText
    }
}

/// Whether a `PUT` created a property or replaced an existing one (`201` or `200`).
public enum WriteOutcome: Sendable, Equatable {
    case created
    case updated
}
