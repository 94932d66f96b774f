import HTTPTypes

/// The resources of Jira's REST API that Understudy serves, matched on the path exactly as sent.
///
/// | method | path | auth |
/// |---|---|---|
/// | GET | `/status` | none |
/// | GET | `/rest/api/{2,3}/serverInfo` | optional |
/// | GET | `/rest/api/{2,3}/myself` | required |
/// | GET | `/rest/api/{2,3}/user?accountId=` | required |
/// | GET | `/rest/api/{2,3}/user/properties[/]?accountId=` | required; Jira access |
/// | GET, PUT, DELETE | `/rest/api/{2,3}/user/properties/{propertyKey}?accountId=` | required; Jira access |
enum Route: Equatable {
    case status
    case serverInfo(version: String)
    case myself(version: String)
    case user(version: String)
    case userPropertyKeys(version: String)
    /// `propertyKey` is still percent-encoded, as sent.
    case userProperty(version: String, encodedKey: Substring)
    /// `/rest/api/{v}/userProperties…`: a guess at a resource that the public API does not have.
    case guessedUserProperties
    case unknown

    init(path: Substring) {
        if path == "/status" {
            self = .status
            return
        }
        let prefix2 = "/rest/api/2/"
        let prefix3 = "/rest/api/3/"
        let version: String
        let rest: Substring
        if path.hasPrefix(prefix2) {
            version = "2"
            rest = path.dropFirst(prefix2.count)
        } else if path.hasPrefix(prefix3) {
            version = "3"
            rest = path.dropFirst(prefix3.count)
        } else {
            self = .unknown
            return
        }
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

    /// The methods the resource supports, in the order `Allow` lists them.
    var allowedMethods: [HTTPRequest.Method] {
        switch self {
        case .status, .serverInfo, .myself, .user, .userPropertyKeys: [.get]
        case .userProperty: [.get, .put, .delete]
        case .guessedUserProperties, .unknown: []
        }
    }

    /// Whether the caller must be authenticated (otherwise credentials are optional).
    var requiresAuthentication: Bool {
        switch self {
        case .status, .serverInfo, .guessedUserProperties, .unknown: false
        case .myself, .user, .userPropertyKeys, .userProperty: true
        }
    }

    /// Property resources answer with "never cache" headers, errors included.
    var isPropertyResource: Bool {
        switch self {
        case .userPropertyKeys, .userProperty: true
        default: false
        }
    }
}
