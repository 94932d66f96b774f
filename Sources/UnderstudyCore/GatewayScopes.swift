/// An operation of Jira's REST API as the API gateway sees it: the unit its scope table is
/// written in (spec 8.2).
public enum JiraOperation: String, Sendable, CaseIterable {
    case getUserPropertyKeys
    case getUserProperty
    case setUserProperty
    case deleteUserProperty
    case getCurrentUser
    case getUser
    case getServerInfo
    /// Any of the four operations on Connect app properties.
    case appProperties

    /// Method and path template, as Jira's REST reference names the operation, for explanations.
    public func signature(version: String) -> String {
        switch self {
        case .getUserPropertyKeys: "GET /rest/api/\(version)/user/properties"
        case .getUserProperty: "GET /rest/api/\(version)/user/properties/{propertyKey}"
        case .setUserProperty: "PUT /rest/api/\(version)/user/properties/{propertyKey}"
        case .deleteUserProperty: "DELETE /rest/api/\(version)/user/properties/{propertyKey}"
        case .getCurrentUser: "GET /rest/api/\(version)/myself"
        case .getUser: "GET /rest/api/\(version)/user"
        case .getServerInfo: "GET /rest/api/\(version)/serverInfo"
        case .appProperties: "/rest/atlassian-connect/1/addons/{addonKey}/properties"
        }
    }
}

/// The scopes an OAuth 2.0 token, a scoped API token or a Forge app needs for each operation, as
/// data: one row per operation, each a list of alternative sets (classic first, then granular).
/// A token passes when it holds every scope of one set; an empty list of sets means any valid token.
public enum GatewayScopes {
    /// One way of satisfying an operation.
    public struct ScopeSet: Sendable, Equatable {
        public enum Kind: String, Sendable { case classic, granular }
        public let kind: Kind
        public let scopes: [String]
    }

    public static let table: [JiraOperation: [ScopeSet]] = [
        .getUserPropertyKeys: [classic("read:jira-user"), granular("read:user.property:jira")],
        .getUserProperty: [classic("read:jira-user"), granular("read:user.property:jira")],
        .setUserProperty: [classic("write:jira-work"), granular("write:user.property:jira")],
        .deleteUserProperty: [classic("write:jira-work"), granular("delete:user.property:jira")],
        .getCurrentUser: [classic("read:jira-user"), granular(userReadScopes)],
        .getUser: [classic("read:jira-user"), granular(userReadScopes)],
        .getServerInfo: [],
        .appProperties: [],
    ]

    private static let userReadScopes = [
        "read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira",
    ]

    /// Scopes an app may hold that are not Jira's: they never satisfy an operation.
    public static let identityScopes = ["offline_access", "read:me"]

    private static func classic(_ scope: String) -> ScopeSet { ScopeSet(kind: .classic, scopes: [scope]) }
    private static func granular(_ scopes: String...) -> ScopeSet { granular(scopes) }
    private static func granular(_ scopes: [String]) -> ScopeSet { ScopeSet(kind: .granular, scopes: scopes) }

    /// Whether `held` holds every scope of one of the operation's sets (or it needs none).
    public static func satisfies(_ operation: JiraOperation, held: [String]) -> Bool {
        let sets = table[operation] ?? []
        return sets.isEmpty || sets.contains { $0.scopes.allSatisfy(held.contains) }
    }

    /// Why `held` does not satisfy the operation: every set that would, and the scopes held.
    public static func mismatch(_ operation: JiraOperation, version: String, held: [String]) -> String {
        let alternatives = (table[operation] ?? []).map {
            "\($0.scopes.joined(separator: " + ")) (\($0.kind.rawValue))"
        }
        .joined(separator: " or ")
        let holding = held.isEmpty ? "no scopes" : held.sorted().joined(separator: ", ")
        return "\(operation.signature(version: version)) needs \(alternatives); the token has \(holding)."
    }

    /// What a Forge app whose scopes fall short adds to its manifest (spec 11.1, 8.2).
    public static func manifestAdvice(_ operation: JiraOperation, app: ForgeApp) -> String {
        let options = (table[operation] ?? []).map { $0.scopes.joined(separator: ", ") }.joined(separator: " or ")
        return
            "Forge app \(app.name) gets only the scopes its manifest lists: add \(options) to permissions.scopes in manifest.yml, then forge deploy and forge install --upgrade (here: the app's scopes in the site file)."
    }

    /// Plain words for a scope, for the consent page; `nil` for a scope Understudy does not know.
    public static func meaning(of scope: String) -> String? { meanings[scope] }

    private static let meanings: [String: String] = [
        "read:jira-user":
            "View user information in Jira that you have access to, including usernames, email addresses, and avatars.",
        "write:jira-work":
            "Create and edit issues in Jira, post comments, create worklogs, and delete issues (this includes setting user properties).",
        "read:jira-work": "Read Jira project and issue data, search for issues and objects associated with issues.",
        "manage:jira-configuration":
            "Take Jira administration actions (create projects and custom fields, view workflows, manage issue link types).",
        "manage:jira-project": "Create and edit project settings and create new project-level objects.",
        "manage:jira-webhook": "Fetch, register, refresh, and delete dynamically declared Jira webhooks.",
        "read:user.property:jira": "View user properties.",
        "write:user.property:jira": "Create and update user properties.",
        "delete:user.property:jira": "Delete user properties.",
        "read:application-role:jira": "View application roles.",
        "read:group:jira": "View user groups.",
        "read:user:jira": "View user details.",
        "read:avatar:jira": "View avatars.",
        "offline_access": "Keep access when you are not using the app (the app receives a refresh token).",
        "read:me": "View your profile: name, e-mail address and picture (the user identity API).",
    ]
}
