/// An `application/x-www-form-urlencoded` text as name → value (the first of a repeated name),
/// noting the names that were repeated (OAuth 2.0 forbids repeating its own parameters).
public struct FormFields: Sendable, Equatable {
    public private(set) var fields: [String: String] = [:]
    public private(set) var repeatedNames: [String] = []

    public init(_ text: Substring) throws(PercentEncoding.DecodingError) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try PercentEncoding.decode(parts[0], plusIsSpace: true)
            let value = parts.count > 1 ? try PercentEncoding.decode(parts[1], plusIsSpace: true) : ""
            if fields[name] == nil {
                fields[name] = value
            } else {
                repeatedNames.append(name)
            }
        }
    }
}

/// The body of a token request (spec 9.3): JSON, which Atlassian documents, or a form, which most
/// OAuth libraries send. Only the token endpoint's own parameters are kept; other names are ignored,
/// as RFC 6749 asks.
public enum OAuthTokenRequest {
    public static let parameterNames: Set<String> = [
        "grant_type", "client_id", "client_secret", "code", "redirect_uri", "refresh_token",
    ]

    /// Why a body is not a token request: the `error_description` and the explanation.
    public struct Refusal: Error, Sendable, Equatable {
        public let description: String
        public let explanation: String
    }

    /// The parameters of `body`, read as JSON when `contentType` says so (or, without a form
    /// content type, when the body starts with `{`), otherwise as a form.
    public static func parameters(contentType: String?, body: [UInt8]) throws(Refusal) -> [String: String] {
        let type = contentType?.lowercased() ?? ""
        let firstByte = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        let isJSON =
            type.hasPrefix("application/json")
            || (!type.hasPrefix("application/x-www-form-urlencoded") && firstByte == UInt8(ascii: "{"))
        return isJSON ? try json(body) : try form(body)
    }

    private static func json(_ body: [UInt8]) throws(Refusal) -> [String: String] {
        guard case .object(let members)? = try? JSONParser.parse(body) else {
            throw Refusal(
                description: "The request body is not a JSON object",
                explanation:
                    "The body was sent as JSON but is not a JSON object of strings; send {\"grant_type\": …, …} or a form."
            )
        }
        var parameters: [String: String] = [:]
        for member in members where parameterNames.contains(member.name) {
            guard case .string(let value) = member.value else {
                throw Refusal(
                    description: "The parameter \(member.name) must be a string",
                    explanation:
                        "Every token-request parameter is a string; \(member.name) is \(member.value.kindName).")
            }
            guard parameters.updateValue(value, forKey: member.name) == nil else {
                throw repeated(member.name)
            }
        }
        return parameters
    }

    private static func form(_ body: [UInt8]) throws(Refusal) -> [String: String] {
        guard let text = String(validating: body, as: UTF8.self) else {
            throw Refusal(
                description: "The request body is not UTF-8",
                explanation: "A form body is UTF-8 text, its reserved and non-ASCII bytes percent-encoded.")
        }
        let form: FormFields
        do {
            form = try FormFields(Substring(text))
        } catch {
            throw Refusal(
                description: "The request body is not a valid form",
                explanation:
                    "The form body has a malformed percent-escape (\(error.text.prefix(80))); encode it as application/x-www-form-urlencoded or send JSON."
            )
        }
        if let name = form.repeatedNames.first(where: parameterNames.contains) { throw repeated(name) }
        return form.fields.filter { parameterNames.contains($0.key) }
    }

    private static func repeated(_ name: String) -> Refusal {
        Refusal(
            description: "The parameter \(name) is repeated",
            explanation: "RFC 6749 forbids sending a token-request parameter twice; \(name) appears more than once.")
    }
}
