/// Whether an account belongs to a person or to an installed app, as Jira's `accountType` says.
public enum AccountType: String, Sendable, Hashable, Codable {
    case atlassian
    case app
}

/// A Jira Cloud account: a person who signs in with e-mail and API token, or an app's user.
///
/// A value type whose fields live in one shared, immutable box: every request reads its caller
/// from the cache, and copying a user is then one reference instead of a dozen strings and arrays.
/// Changing a field (rare: loading a site, tests) puts the changed fields in a new box.
public struct User: Sendable, Hashable {
    /// The longest `accountId` Jira accepts.
    public static let maximumAccountIdLength = 128

    private struct Fields: Sendable, Hashable {
        var accountId: String
        var accountType: AccountType
        var emailAddress: String?
        var displayName: String
        var active: Bool
        var timeZone: String
        var locale: String
        var groups: [String]
        var permissions: GlobalPermissions
        var apiTokenHashes: [String]
        var scopedAPITokens: [ScopedAPIToken]
        var legacyProperties: [String: String]
    }

    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    private var fields: Fields {
        get { box.fields }
        set { box = Box(newValue) }
    }

    public var accountId: String {
        get { fields.accountId }
        set { fields.accountId = newValue }
    }
    public var accountType: AccountType {
        get { fields.accountType }
        set { fields.accountType = newValue }
    }
    /// `nil` for app users, which have no e-mail address.
    public var emailAddress: String? {
        get { fields.emailAddress }
        set { fields.emailAddress = newValue }
    }
    public var displayName: String {
        get { fields.displayName }
        set { fields.displayName = newValue }
    }
    public var active: Bool {
        get { fields.active }
        set { fields.active = newValue }
    }
    public var timeZone: String {
        get { fields.timeZone }
        set { fields.timeZone = newValue }
    }
    public var locale: String {
        get { fields.locale }
        set { fields.locale = newValue }
    }
    /// Group names, in the order they were given; they decide the global permissions.
    public var groups: [String] {
        get { fields.groups }
        set {
            var changed = fields
            changed.groups = newValue
            changed.permissions = GlobalPermissions(groups: newValue)
            fields = changed
        }
    }
    /// The global permissions the user's groups grant, worked out when the groups are set rather
    /// than on every permission check.
    public var permissions: GlobalPermissions { fields.permissions }
    /// Hashes of the user's API tokens (see `APITokenHasher`); tokens are never kept in clear.
    public var apiTokenHashes: [String] {
        get { fields.apiTokenHashes }
        set { fields.apiTokenHashes = newValue }
    }
    /// The user's scoped API tokens (spec 10): accepted only through the API gateway, with their scopes.
    public var scopedAPITokens: [ScopedAPIToken] {
        get { fields.scopedAPITokens }
        set { fields.scopedAPITokens = newValue }
    }
    /// The admin-UI ("Edit Jira properties") string properties: a store of their own that no REST
    /// endpoint returns.
    public var legacyProperties: [String: String] {
        get { fields.legacyProperties }
        set { fields.legacyProperties = newValue }
    }

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
        scopedAPITokens: [ScopedAPIToken] = [],
        legacyProperties: [String: String] = [:]
    ) {
        box = Box(
            Fields(
                accountId: accountId, accountType: accountType, emailAddress: emailAddress,
                displayName: displayName, active: active, timeZone: timeZone, locale: locale, groups: groups,
                permissions: GlobalPermissions(groups: groups), apiTokenHashes: apiTokenHashes,
                scopedAPITokens: scopedAPITokens, legacyProperties: legacyProperties))
    }

    public static func == (lhs: User, rhs: User) -> Bool {
        lhs.box === rhs.box || lhs.fields == rhs.fields
    }

    public func hash(into hasher: inout Hasher) {
        fields.hash(into: &hasher)
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
        merged.scopedAPITokens = previous.scopedAPITokens
        for token in scopedAPITokens where !merged.scopedAPITokens.contains(where: { $0.hash == token.hash }) {
            merged.scopedAPITokens.append(token)
        }
        return merged
    }
}

extension User {
    /// This user with one more API token: classic without scopes, scoped with them.
    public func adding(tokenHash: String, scopes: [String]) -> User {
        var user = self
        if scopes.isEmpty {
            user.apiTokenHashes.append(tokenHash)
        } else {
            user.scopedAPITokens.append(ScopedAPIToken(hash: tokenHash, scopes: scopes))
        }
        return user
    }
}

/// An API token that carries scopes (spec 10), kept as its hash like every token.
public struct ScopedAPIToken: Sendable, Hashable {
    public var hash: String
    /// The scopes chosen when the token was created, in that order.
    public var scopes: [String]

    public init(hash: String, scopes: [String]) {
        self.hash = hash
        self.scopes = scopes
    }
}
