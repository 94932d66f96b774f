/// Why an app-property operation was refused (spec 6). The HTTP layer answers these with the
/// `{"message", "statusCode"}` body that Connect's app-property resource uses.
public enum AppPropertyError: Error, Sendable, Equatable {
    /// The path names another app's key: Jira answers as if the property did not exist.
    case otherApp(callerAppKey: String, addonKey: String)
    case keyTooLong(Int)
    /// The key contains U+0000.
    case keyNotStorable
    case valueTooLong(reportedBytes: Int)
    case emptyValue
    case invalidJSON(JSONParser.SyntaxError)
    case propertyNotSet(key: String, appKey: String)

    public var message: String {
        switch self {
        case .otherApp, .propertyNotSet: "Property with key not found."
        case .keyTooLong:
            "The property key cannot be longer than \(PropertyLimits.maximumAppPropertyKeyLength) characters."
        case .keyNotStorable: "The property key cannot contain the character U+0000."
        case .valueTooLong(let bytes):
            "The property value is too long: \(bytes) bytes, the maximum is \(PropertyLimits.maximumValueBytes)."
        case .emptyValue: "The property value cannot be empty."
        case .invalidJSON: "The property value must be valid JSON."
        }
    }

    public var explanation: String {
        switch self {
        case .otherApp(let caller, let addonKey):
            "App properties are private to their app: the JWT is from app \(caller) but the path names app \(addonKey); use /rest/atlassian-connect/1/addons/\(caller)/properties."
        case .keyTooLong(let length):
            "The app property key is \(length) characters (UTF-16 code units); app property keys are at most \(PropertyLimits.maximumAppPropertyKeyLength)."
        case .keyNotStorable:
            "The key contains a NUL character (%00 in the URL), which a database cannot keep in a key; check how the app builds and encodes the key."
        case .valueTooLong(let bytes):
            "The request body is \(bytes) bytes; a property value is at most \(PropertyLimits.maximumValueBytes) bytes of JSON."
        case .emptyValue:
            "The request body is the property value itself and must be a JSON text, e.g. {\"enabled\":true}."
        case .invalidJSON(let problem):
            "The request body is not valid JSON (\(problem.reason) at byte \(problem.offset)); send the value itself as RFC 8259 JSON."
        case .propertyNotSet(let key, let appKey):
            "App \(appKey) has no property '\(key)'; list its keys with GET /rest/atlassian-connect/1/addons/\(appKey)/properties."
        }
    }
}

/// Connect app properties: a key/value store private to each app (spec 6).
public struct AppPropertyService: Sendable {
    public let store: any SiteStore

    public init(store: any SiteStore) { self.store = store }

    public func keys(caller: ConnectApp, addonKey: String) async throws -> [String] {
        try own(caller: caller, addonKey: addonKey)
        return try await store.appPropertyKeys(appKey: caller.key)
    }

    public func value(caller: ConnectApp, addonKey: String, key: String) async throws -> PropertyValue {
        try own(caller: caller, addonKey: addonKey)
        guard PropertyLimits.isStorable(key: key), let value = try await store.appProperty(appKey: caller.key, key: key)
        else {
            throw AppPropertyError.propertyNotSet(key: key, appKey: caller.key)
        }
        return value
    }

    public func set(caller: ConnectApp, addonKey: String, key: String, body: PropertyBody) async throws -> WriteOutcome
    {
        try own(caller: caller, addonKey: addonKey)
        let length = PropertyLimits.javaLength(of: key)
        guard length <= PropertyLimits.maximumAppPropertyKeyLength else { throw AppPropertyError.keyTooLong(length) }
        guard PropertyLimits.isStorable(key: key) else { throw AppPropertyError.keyNotStorable }
        let bytes: [UInt8]
        switch body {
        case .tooLong(let reportedBytes): throw AppPropertyError.valueTooLong(reportedBytes: reportedBytes)
        case .complete(let complete): bytes = complete
        }
        let value: PropertyValue
        do {
            value = try PropertyValue(validating: bytes)
        } catch .empty {
            throw AppPropertyError.emptyValue
        } catch .invalidJSON(let problem) {
            throw AppPropertyError.invalidJSON(problem)
        }
        return try await store.setAppProperty(appKey: caller.key, key: key, value: value)
    }

    public func delete(caller: ConnectApp, addonKey: String, key: String) async throws {
        try own(caller: caller, addonKey: addonKey)
        guard PropertyLimits.isStorable(key: key), try await store.deleteAppProperty(appKey: caller.key, key: key)
        else {
            throw AppPropertyError.propertyNotSet(key: key, appKey: caller.key)
        }
    }

    private func own(caller: ConnectApp, addonKey: String) throws(AppPropertyError) {
        guard caller.key == addonKey else { throw .otherApp(callerAppKey: caller.key, addonKey: addonKey) }
    }
}
