/// A Connect scope an app declares in its descriptor. Higher scopes imply the lower ones
/// (ADMIN ⊃ PROJECT_ADMIN ⊃ DELETE ⊃ WRITE ⊃ READ).
public enum ConnectScope: String, Sendable, Hashable, CaseIterable, Comparable {
    case read = "READ"
    case write = "WRITE"
    case delete = "DELETE"
    case projectAdmin = "PROJECT_ADMIN"
    case admin = "ADMIN"

    private var rank: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .delete: 2
        case .projectAdmin: 3
        case .admin: 4
        }
    }

    public static func < (lhs: ConnectScope, rhs: ConnectScope) -> Bool { lhs.rank < rhs.rank }

    /// Whether an app that declared this scope may make a request that needs `required`.
    public func covers(_ required: ConnectScope) -> Bool { self >= required }
}

/// An Atlassian Connect app installed on the site.
public struct ConnectApp: Sendable, Hashable {
    /// The groups an app user belongs to unless the site file says otherwise (spec 5.4).
    public static let defaultGroups = ["atlassian-addons-admin", "jira-software-users"]

    /// The descriptor key; the app signs its JWTs with `iss` = this key.
    public var key: String
    public var name: String
    /// This site's identifier for the installation.
    public var clientKey: String
    public var sharedSecret: String
    public var scopes: [ConnectScope]
    /// The accountId of the app's user (`accountType: "app"`).
    public var accountId: String
    /// How the app was installed from its descriptor (spec 13); `nil` for an app added by hand.
    public var installation: ConnectInstallation?

    public init(
        key: String, name: String, clientKey: String, sharedSecret: String, scopes: [ConnectScope],
        accountId: String, installation: ConnectInstallation? = nil
    ) {
        self.installation = installation
        self.key = key
        self.name = name
        self.clientKey = clientKey
        self.sharedSecret = sharedSecret
        self.scopes = scopes
        self.accountId = accountId
    }

    /// Whether any declared scope covers `required`.
    public func isCovered(_ required: ConnectScope) -> Bool {
        scopes.contains { $0.covers(required) }
    }
}
