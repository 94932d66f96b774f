/// Why a user-property operation was refused (spec 4.3 and 4.4). Each case carries Jira's message
/// and Understudy's explanation; the HTTP layer maps the case to a status code.
public enum UserPropertyError: Error, Sendable, Equatable {
    case accountIdMissing
    /// `username` or `userKey` was sent instead of `accountId`.
    case unsupportedParameter(String)
    case accountIdTooLong(Int)
    /// `reportedBytes` is the request's `Content-Length`, or 32769 when the body had none.
    case valueTooLong(reportedBytes: Int)
    case unknownUser(accountId: String)
    case noJiraAccess(caller: String)
    case notAdministrator(caller: String, owner: String)
    case emptyValue
    case invalidJSON(JSONParser.SyntaxError)
    case keyTooLong(Int)
    /// The key contains U+0000.
    case keyNotStorable
    case propertyNotSet(key: String, accountId: String)

    /// Jira's `errorMessages[0]`.
    public var message: String {
        switch self {
        case .accountIdMissing: "The accountId query parameter needs to be provided."
        case .unsupportedParameter(let name): "The query parameter '\(name)' is not supported in GDPR strict mode."
        case .accountIdTooLong: "The accountId must not be longer than 128 characters."
        case .valueTooLong(let bytes):
            "The property value is too long: \(bytes) bytes, the maximum is \(PropertyLimits.maximumValueBytes)."
        case .unknownUser(let accountId): "The user with accountId '\(accountId)' does not exist."
        case .noJiraAccess, .notAdministrator: "You do not have permission to access the properties of this user."
        case .emptyValue: "The property value cannot be empty."
        case .invalidJSON: "The property value must be valid JSON."
        case .keyTooLong(let length):
            "The property key is too long: \(length) characters, the maximum is \(PropertyLimits.maximumUserPropertyKeyLength)."
        case .keyNotStorable: "The property key cannot contain the character U+0000."
        case .propertyNotSet(let key, _): "The property with key '\(key)' does not exist."
        }
    }

    /// One sentence naming the cause and the fix.
    public var explanation: String {
        switch self {
        case .accountIdMissing:
            "User properties are addressed by the accountId query parameter, e.g. ?accountId=5b10ac8d82e05b22cc7d4ef5; look yours up with GET /rest/api/3/myself."
        case .unsupportedParameter(let name):
            "Jira Cloud removed the '\(name)' parameter for privacy (GDPR strict mode); send accountId instead, which you can look up with GET /rest/api/3/myself or GET /rest/api/3/user/search."
        case .accountIdTooLong(let length):
            "The accountId is \(length) characters long; Jira accountIds are at most \(User.maximumAccountIdLength)."
        case .valueTooLong(let bytes):
            "The request body is \(bytes) bytes; a property value is at most \(PropertyLimits.maximumValueBytes) bytes of JSON, so store large data elsewhere or split it across keys."
        case .unknownUser(let accountId):
            "No account on this site has accountId '\(accountId)'; check for a typo or a user from another site."
        case .noJiraAccess(let caller):
            "Caller \(caller) has no access to Jira (no product-access or administrator group), so it cannot use user properties at all."
        case .notAdministrator(let caller, let owner):
            "Caller \(caller) is not an administrator and the property belongs to \(owner); using another user's properties (reading, setting or deleting) needs the Administer Jira global permission."
        case .emptyValue:
            "The request body is the property value itself and must be a JSON text, e.g. {\"step\":2} or \"text\" (quoted)."
        case .invalidJSON(let problem):
            "The request body is not valid JSON (\(problem.reason) at byte \(problem.offset)); send the value itself as RFC 8259 JSON, with strings in double quotes."
        case .keyTooLong(let length):
            "The property key is \(length) characters (UTF-16 code units); Jira allows at most \(PropertyLimits.maximumUserPropertyKeyLength)."
        case .keyNotStorable:
            "The key contains a NUL character (%00 in the URL), which a database cannot keep in a key; check how the client builds and encodes the key."
        case .propertyNotSet(let key, let accountId):
            "User \(accountId) has no property '\(key)'; list the keys with GET /rest/api/3/user/properties?accountId=\(accountId)."
        }
    }
}
