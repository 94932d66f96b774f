import HTTPTypes
import UnderstudyCore

/// The resources of Jira's REST API that Understudy serves, matched on the path exactly as sent.
///
/// | method | path | auth | Connect scope |
/// |---|---|---|---|
/// | GET | `/status` | none | outside the gate |
/// | GET | `/rest/api/{2,3}/serverInfo` | optional | READ |
/// | GET | `/rest/api/{2,3}/myself` | required | READ |
/// | GET | `/rest/api/{2,3}/user?accountId=` | required | READ |
/// | GET | `/rest/api/{2,3}/user/properties[/]?accountId=` | required; Jira access | READ |
/// | GET, PUT, DELETE | `/rest/api/{2,3}/user/properties/{propertyKey}?accountId=` | required; Jira access | READ, WRITE, DELETE |
/// | GET | `/rest/atlassian-connect/1/addons/{addonKey}/properties[/]` | the app itself | none needed |
/// | GET, PUT, DELETE | `/rest/atlassian-connect/1/addons/{addonKey}/properties/{propertyKey}` | the app itself | none needed |
enum Route: Equatable {
    case status
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
        if path == "/status" {
            self = .status
            return
        }
        let appPrefix = "/rest/atlassian-connect/1/addons/"
        if path.hasPrefix(appPrefix) {
            self = Self.appRoute(path.dropFirst(appPrefix.count))
            return
        }
        let version: String
        let rest: Substring
        if path.hasPrefix("/rest/api/2/") {
            version = "2"
        } else if path.hasPrefix("/rest/api/3/") {
            version = "3"
        } else {
            self = .unknown
            return
        }
        rest = path.dropFirst("/rest/api/2/".count)
        switch rest {
        case "serverInfo": self = .serverInfo(version: version)
        case "myself": self = .myself(version: version)
        case "user": self = .user(version: version)
        case "user/properties", "user/properties/": self = .userPropertyKeys(version: version)
        default:
            let propertyPrefix = "user/properties/"
            if rest.hasPrefix(propertyPrefix) {
                let key = rest.dropFirst(propertyPrefix.count)
                self = key.contains("/") ? .unknown : .userProperty(version: version, encodedKey: key)
            } else if rest.hasPrefix("userProperties") {
                self = .guessedUserProperties
            } else {
                self = .unknown
            }
        }
    }

    /// `{addonKey}/properties[/{propertyKey}]`
    private static func appRoute(_ rest: Substring) -> Route {
        guard let slash = rest.firstIndex(of: "/") else { return .unknown }
        let appKey = rest[..<slash]
        let tail = rest[rest.index(after: slash)...]
        guard !appKey.isEmpty else { return .unknown }
        if tail == "properties" || tail == "properties/" { return .appPropertyKeys(encodedAppKey: appKey) }
        guard tail.hasPrefix("properties/") else { return .unknown }
        let key = tail.dropFirst("properties/".count)
        return key.contains("/") ? .unknown : .appProperty(encodedAppKey: appKey, encodedKey: key)
    }

    /// The methods the resource supports, in the order `Allow` lists them.
    var allowedMethods: [HTTPRequest.Method] {
        switch self {
        case .status, .serverInfo, .myself, .user, .userPropertyKeys, .appPropertyKeys: [.get]
        case .userProperty, .appProperty: [.get, .put, .delete]
        case .guessedUserProperties, .unknown: []
        }
    }

    /// Whether the caller must be authenticated (otherwise credentials are optional).
    var requiresAuthentication: Bool {
        switch self {
        case .status, .serverInfo, .guessedUserProperties, .unknown: false
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
        case .status: return .outsideGate
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
