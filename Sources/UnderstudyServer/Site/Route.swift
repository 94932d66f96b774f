import HTTPTypes
import UnderstudyCore

/// The resources of Jira's REST API that Understudy serves, matched on the path exactly as sent.
///
/// | method | path | auth | Connect scope |
/// |---|---|---|---|
/// | GET | `/status` | none | outside the gate |
/// | GET | `/_understudy/openapi.json` | none | outside the gate |
/// | GET | `/rest/api/{2,3}/serverInfo` | optional | READ |
/// | GET | `/rest/api/{2,3}/myself` | required | READ |
/// | GET | `/rest/api/{2,3}/user?accountId=` | required | READ |
/// | GET | `/rest/api/{2,3}/user/properties[/]?accountId=` | required; Jira access | READ |
/// | GET, PUT, DELETE | `/rest/api/{2,3}/user/properties/{propertyKey}?accountId=` | required; Jira access | READ, WRITE, DELETE |
/// | GET | `/rest/atlassian-connect/1/addons/{addonKey}/properties[/]` | the app itself | none needed |
/// | GET, PUT, DELETE | `/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}` | the app itself | none needed |
enum Route: Equatable {
    case status
    /// Understudy's OpenAPI description of this surface.
    case openAPIDocument
    case serverInfo(version: String)
    case myself(version: String)
    case user(version: String)
    case userPropertyKeys(version: String)
    /// `encodedKey` is still percent-encoded, as sent.
    case userProperty(version: String, encodedKey: Substring)
    /// `/rest/api/{v}/userProperties…`: a guess at a resource that the public API does not have.
    case guessedUserProperties
    case appPropertyKeys(encodedAppKey: Substring)
    case appProperty(encodedAppKey: Substring, encodedKey: Substring)
    case unknown

    init(path: Substring) {
        // Matching compares UTF-8 bytes: the path is matched exactly as sent (counting characters
        // would swallow a combining mark that follows a prefix), and byte loops keep routing off
        // the profile.
        self = ASCIIBytes.with(path) { Self.match(path, bytes: $0) }
    }

    private static func match(_ path: Substring, bytes: ASCIIBytes) -> Route {
        if bytes.equals("/status") { return .status }
        if bytes.equals("/_understudy/openapi.json") { return .openAPIDocument }
        let appPrefix: StaticString = "/rest/atlassian-connect/1/addons/"
        if bytes.hasPrefix(appPrefix) { return appRoute(path, bytes: bytes, from: appPrefix.utf8CodeUnitCount) }
        let version: String
        if bytes.hasPrefix("/rest/api/2/") {
            version = "2"
        } else if bytes.hasPrefix("/rest/api/3/") {
            version = "3"
        } else {
            return .unknown
        }
        let rest = StaticString("/rest/api/2/").utf8CodeUnitCount
        let propertyPrefix: StaticString = "user/properties/"
        if bytes.hasPrefix(propertyPrefix, at: rest) {
            let key = rest + propertyPrefix.utf8CodeUnitCount
            if key == bytes.count { return .userPropertyKeys(version: version) }
            if bytes.contains(UInt8(ascii: "/"), from: key) { return .unknown }
            return .userProperty(version: version, encodedKey: path.utf8Suffix(from: key))
        }
        if bytes.equals("user/properties", at: rest) { return .userPropertyKeys(version: version) }
        if bytes.equals("user", at: rest) { return .user(version: version) }
        if bytes.equals("myself", at: rest) { return .myself(version: version) }
        if bytes.equals("serverInfo", at: rest) { return .serverInfo(version: version) }
        if bytes.hasPrefix("userProperties", at: rest) { return .guessedUserProperties }
        return .unknown
    }

    /// `{addonKey}/properties[/{propertyKey}]`, from byte `offset` of the path.
    private static func appRoute(_ path: Substring, bytes: ASCIIBytes, from offset: Int) -> Route {
        guard let slash = bytes.firstIndex(of: UInt8(ascii: "/"), from: offset), slash > offset else { return .unknown }
        let appKey = path.utf8Slice(offset..<slash)
        let tail = slash + 1
        if bytes.equals("properties", at: tail) || bytes.equals("properties/", at: tail) {
            return .appPropertyKeys(encodedAppKey: appKey)
        }
        let prefix: StaticString = "properties/"
        guard bytes.hasPrefix(prefix, at: tail) else { return .unknown }
        let key = tail + prefix.utf8CodeUnitCount
        if bytes.contains(UInt8(ascii: "/"), from: key) { return .unknown }
        return .appProperty(encodedAppKey: appKey, encodedKey: path.utf8Suffix(from: key))
    }

    /// The methods the resource supports, in the order `Allow` lists them.
    var allowedMethods: [HTTPRequest.Method] {
        switch self {
        case .status, .openAPIDocument, .serverInfo, .myself, .user, .userPropertyKeys, .appPropertyKeys:
            Self.readOnly
        case .userProperty, .appProperty: Self.readWriteDelete
        case .guessedUserProperties, .unknown: []
        }
    }

    // Built once: every request asks for its route's methods.
    private static let readOnly: [HTTPRequest.Method] = [.get]
    private static let readWriteDelete: [HTTPRequest.Method] = [.get, .put, .delete]

    /// Whether the caller must be authenticated (otherwise credentials are optional).
    var requiresAuthentication: Bool {
        switch self {
        case .status, .openAPIDocument, .serverInfo, .guessedUserProperties, .unknown: false
        case .myself, .user, .userPropertyKeys, .userProperty, .appPropertyKeys, .appProperty: true
        }
    }

    /// Property resources answer with "never cache" headers, errors included.
    var isPropertyResource: Bool {
        switch self {
        case .userPropertyKeys, .userProperty, .appPropertyKeys, .appProperty: true
        default: false
        }
    }

    /// App-property resources answer errors as `{"message", "statusCode"}` (spec 6).
    var isAppPropertyResource: Bool {
        switch self {
        case .appPropertyKeys, .appProperty: true
        default: false
        }
    }

    /// What the Connect scope gate requires of a JWT caller (spec 5.5).
    enum ScopeRequirement: Equatable {
        /// Outside the gate (not under `/rest/`).
        case outsideGate
        /// Covered for every app (app properties).
        case none
        case scope(ConnectScope)
        /// No scope covers this method on this path.
        case notCovered
    }

    func scopeRequirement(for method: HTTPRequest.Method) -> ScopeRequirement {
        switch self {
        case .status, .openAPIDocument: return .outsideGate
        case .unknown, .guessedUserProperties: return .notCovered
        default: break
        }
        guard allowedMethods.contains(method) else { return .notCovered }
        if isAppPropertyResource { return .none }
        switch method {
        case .put: return .scope(.write)
        case .delete: return .scope(.delete)
        default: return .scope(.read)
        }
    }
}
