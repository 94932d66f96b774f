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
        // Matching compares UTF-8 bytes: the path is matched exactly as sent, and byte comparison
        // keeps routing off the profile.
        let bytes = path.utf8
        if bytes.elementsEqual("/status".utf8) {
            self = .status
            return
        }
        if bytes.elementsEqual("/_understudy/openapi.json".utf8) {
            self = .openAPIDocument
            return
        }
        let appPrefix = "/rest/atlassian-connect/1/addons/".utf8
        if bytes.starts(with: appPrefix) {
            self = Self.appRoute(path.droppingUTF8(appPrefix.count))
            return
        }
        let version: String
        if bytes.starts(with: "/rest/api/2/".utf8) {
            version = "2"
        } else if bytes.starts(with: "/rest/api/3/".utf8) {
            version = "3"
        } else {
            self = .unknown
            return
        }
        let rest = path.droppingUTF8("/rest/api/2/".utf8.count)
        let propertyPrefix = "user/properties/".utf8
        if rest.utf8.starts(with: propertyPrefix) {
            let key = rest.droppingUTF8(propertyPrefix.count)
            if key.isEmpty {
                self = .userPropertyKeys(version: version)
            } else {
                self =
                    key.utf8.contains(UInt8(ascii: "/")) ? .unknown : .userProperty(version: version, encodedKey: key)
            }
        } else if rest.utf8.elementsEqual("user/properties".utf8) {
            self = .userPropertyKeys(version: version)
        } else if rest.utf8.elementsEqual("user".utf8) {
            self = .user(version: version)
        } else if rest.utf8.elementsEqual("myself".utf8) {
            self = .myself(version: version)
        } else if rest.utf8.elementsEqual("serverInfo".utf8) {
            self = .serverInfo(version: version)
        } else if rest.utf8.starts(with: "userProperties".utf8) {
            self = .guessedUserProperties
        } else {
            self = .unknown
        }
    }

    /// `{addonKey}/properties[/{propertyKey}]`
    private static func appRoute(_ rest: Substring) -> Route {
        guard let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) else { return .unknown }
        let appKey = rest[..<slash]
        let tail = rest[rest.utf8.index(after: slash)...]
        guard !appKey.isEmpty else { return .unknown }
        if tail.utf8.elementsEqual("properties".utf8) || tail.utf8.elementsEqual("properties/".utf8) {
            return .appPropertyKeys(encodedAppKey: appKey)
        }
        let prefix = "properties/".utf8
        guard tail.utf8.starts(with: prefix) else { return .unknown }
        let key = tail.droppingUTF8(prefix.count)
        return key.utf8.contains(UInt8(ascii: "/")) ? .unknown : .appProperty(encodedAppKey: appKey, encodedKey: key)
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

extension Substring {
    /// The rest after the first `count` UTF-8 bytes (an ASCII prefix already matched as bytes).
    /// Counting characters instead would swallow a combining mark that follows the prefix.
    func droppingUTF8(_ count: Int) -> Substring {
        self[utf8.index(startIndex, offsetBy: count)...]
    }
}
