/// Whether an account belongs to a person or to an installed app, as Jira's `accountType` says.
public enum AccountType: String, Sendable, Hashable, Codable {
    case atlassian
    case app
}

/// A Jira Cloud account: a person who signs in with e-mail and API token, or an app's user.
public struct User: Sendable, Hashable {
    /// The longest `accountId` Jira accepts.
    public static let maximumAccountIdLength = 128

    public var accountId: String
    public var accountType: AccountType
    /// `nil` for app users, which have no e-mail address.
    public var emailAddress: String?
    public var displayName: String
    public var active: Bool
    public var timeZone: String
    public var locale: String
    /// Group names, in the order they were given; they decide the global permissions.
    public var groups: [String] {
        didSet { permissions = GlobalPermissions(groups: groups) }
    }
    /// The global permissions the user's groups grant, worked out when the groups are set rather
    /// than on every permission check.
    public private(set) var permissions: GlobalPermissions
    /// Hashes of the user's API tokens (see `APITokenHasher`); tokens are never kept in clear.
    public var apiTokenHashes: [String]
    /// The admin-UI ("Edit Jira properties") string properties: a store of their own that no REST
    /// endpoint returns.
    public var legacyProperties: [String: String]

    public init(
        accountId: String,
        accountType: AccountType = .atlassian,
        emailAddress: String?,
        displayName: String,
        active: Bool = true,
        timeZone: String = "UTC",
        locale: String = "en_US",
        groups: [String] = [],
        apiTokenHashes: [String] = [],
        legacyProperties: [String: String] = [:]
    ) {
        self.accountId = accountId
        self.accountType = accountType
        self.emailAddress = emailAddress
        self.displayName = displayName
        self.active = active
        self.timeZone = timeZone
        self.locale = locale
        self.groups = groups
        self.permissions = GlobalPermissions(groups: groups)
        self.apiTokenHashes = apiTokenHashes
        self.legacyProperties = legacyProperties
    }
}

extension User {
    /// This user loaded over `previous` (a seed or site file over a stored record): the stored
    /// API tokens stay valid, and the file's tokens are added to them.
    public func keepingAPITokens(of previous: User) -> User {
        var merged = self
        merged.apiTokenHashes = previous.apiTokenHashes
        for hash in apiTokenHashes where !merged.apiTokenHashes.contains(hash) {
            merged.apiTokenHashes.append(hash)
        }
        return merged
    }
}
