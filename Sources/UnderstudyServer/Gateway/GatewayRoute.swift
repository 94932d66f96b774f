import HTTPTypes
import UnderstudyCore

/// A request to the API gateway, `/ex/jira/{cloudId}/…` (spec 8): the cloudId it names and the
/// Jira path behind it. The gateway knows routes exactly: what `Route` would forgive (a trailing
/// slash) it does not.
struct GatewayTarget {
    static let prefix = "/ex/jira/"

    let cloudId: Substring
    /// The Jira path, from its first `/` (empty when the request named only the cloudId).
    let jiraPath: Substring

    init?(path: Substring) {
        guard path.utf8.starts(with: Self.prefix.utf8) else { return nil }
        let rest = path.utf8.dropFirst(Self.prefix.utf8.count)
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        cloudId = Substring(path.utf8[rest.startIndex..<slash])
        jiraPath = Substring(path.utf8[slash...])
    }

    /// The operation of the gateway's scope table, or why the gateway does not know the route.
    enum Resolution {
        case operation(JiraOperation, Route)
        case unknown(explanation: String)
    }

    /// Resolves a Jira path as the gateway (and the Forge egress behind it) knows routes.
    static func resolve(jiraPath: Substring, method: HTTPRequest.Method) -> Resolution {
        let route = Route(path: jiraPath)
        let signature = "\(method.rawValue) \(jiraPath)"
        if jiraPath.count > 1, jiraPath.hasSuffix("/") {
            return .unknown(
                explanation:
                    "The gateway matches paths exactly and knows no route \(signature): remove the trailing slash (Jira's gateway stopped forgiving it, CHANGE-1320)."
            )
        }
        guard route.allowedMethods.contains(method) else {
            switch route {
            case .userProperty where method == .post:
                return .unknown(
                    explanation:
                        "The gateway knows no route POST on a user property, so it answers as for a scope mismatch; to create or update a user property use PUT."
                )
            case .unknown, .guessedUserProperties, .status, .openAPIDocument:
                return .unknown(
                    explanation:
                        "The gateway knows no route \(signature) and answers as for a scope mismatch; Understudy serves /rest/api/{2,3}/serverInfo, /myself, /user, /user/properties[/{propertyKey}] and /rest/atlassian-connect/1/addons/{addonKey}/properties[/{propertyKey}] behind it."
                )
            default:
                let allowed = route.allowedMethods.map(\.rawValue).joined(separator: ", ")
                return .unknown(
                    explanation:
                        "The gateway knows no route \(signature) and answers as for a scope mismatch; this resource supports \(allowed)."
                )
            }
        }
        let operation: JiraOperation
        switch route {
        case .serverInfo: operation = .getServerInfo
        case .myself: operation = .getCurrentUser
        case .user: operation = .getUser
        case .userPropertyKeys: operation = .getUserPropertyKeys
        case .userProperty:
            operation =
                switch method {
                case .put: .setUserProperty
                case .delete: .deleteUserProperty
                default: .getUserProperty
                }
        case .appPropertyKeys, .appProperty: operation = .appProperties
        case .status, .openAPIDocument, .guessedUserProperties, .unknown:
            return .unknown(explanation: "The gateway knows no route \(signature).")
        }
        return .operation(operation, route)
    }

    /// The API version in a Jira path (`2` or `3`), for explanations.
    static func version(of jiraPath: Substring) -> String {
        switch Route(path: jiraPath) {
        case .serverInfo(let version), .myself(let version), .user(let version), .userPropertyKeys(let version),
            .userProperty(let version, _):
            version
        default: "3"
        }
    }
}
