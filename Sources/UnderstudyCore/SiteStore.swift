/// Where a site's users, apps and properties live. Every store (in memory, SQLite, later
/// PostgreSQL) passes the same conformance suite, so the HTTP layer cannot tell them apart.
///
/// Writes are atomic: a method that throws has changed nothing.
public protocol SiteStore: Sendable {
    /// Whether the store holds no users at all (a new database, before any seed).
    func isEmpty() async throws -> Bool

    func user(accountId: String) async throws -> User?
    /// Looks a user up by e-mail address, ignoring ASCII case as Jira does.
    func user(emailAddress: String) async throws -> User?
    func app(key: String) async throws -> ConnectApp?
    /// The app whose installation has this clientKey, if any.
    func app(clientKey: String) async throws -> ConnectApp?

    /// Adds a person. Throws `SiteStoreError.duplicateAccountId` or `.duplicateEmailAddress`.
    func addUser(_ user: User) async throws
    /// Adds an API-token hash to the user with this e-mail, a scoped token (spec 10) when `scopes`
    /// is not empty; throws `.unknownEmailAddress`.
    func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) async throws -> User
    /// The site's cloudId and name, `nil` until a site with an identity is loaded.
    func siteIdentity() async throws -> SiteIdentity?
    /// Upserts a whole site file in one transaction (by accountId, app key, property key, clientId, appId;
    /// the identity when the file has one).
    func load(_ site: Site) async throws
    /// The whole site as it is now, sorted by accountId, app key and property key (tokens as hashes).
    func snapshot() async throws -> Site
    /// Replaces everything with `site` in one transaction: afterwards the store holds exactly
    /// `site`. If it throws, nothing changed.
    func replace(with site: Site) async throws
    /// Remembers the site as it is now: what `restoreSavedState()` goes back to (the control API's
    /// reset). Stores keep it where it is cheapest: SQLite in temporary tables of its own.
    func saveState() async throws
    /// Puts back the site remembered by `saveState()` (an empty site if nothing was saved), in one
    /// transaction.
    func restoreSavedState() async throws

    /// The keys of a user's properties, sorted by key.
    func userPropertyKeys(accountId: String) async throws -> [String]
    func userProperty(accountId: String, key: String) async throws -> PropertyValue?
    /// All of a user's properties at once, or `nil` if the user has more than `limit`.
    func userProperties(accountId: String, atMost limit: Int) async throws -> [String: PropertyValue]?
    func setUserProperty(accountId: String, key: String, value: PropertyValue) async throws -> WriteOutcome
    /// Removes a property; `false` when it was not set.
    func deleteUserProperty(accountId: String, key: String) async throws -> Bool

    /// The keys of an app's properties, sorted by key.
    func appPropertyKeys(appKey: String) async throws -> [String]
    func appProperty(appKey: String, key: String) async throws -> PropertyValue?
    func setAppProperty(appKey: String, key: String, value: PropertyValue) async throws -> WriteOutcome
    func deleteAppProperty(appKey: String, key: String) async throws -> Bool

    /// A number that changes when another process changes the store, or `nil` when no other
    /// process can (memory). Caches use it to notice a `seed` run while the server serves.
    func changeCounter() async throws -> Int?

    /// The OAuth side of the same database (spec 9): apps, consents, codes and tokens, carried by
    /// `snapshot()`, `replace(with:)` and the saved state like everything else.
    var oauth: any OAuthStore { get }

    /// The Forge side (spec 11): Forge apps, whose app users are users of this store, and the
    /// tokens minted for them; apps are carried by snapshots and the saved state, tokens by the
    /// saved state only.
    var forge: any ForgeStore { get }

    /// The Connect-install side (spec 13): the site's lifecycle signing keys, kept apart from the
    /// site's data, and the apps installed from descriptors.
    var connect: any ConnectInstallStore { get }

    /// Releases the store's resources (closes the database cleanly).
    func close() async throws
}

extension SiteStore {
    /// Adds a classic API token (without scopes).
    public func addAPITokenHash(_ hash: String, emailAddress: String) async throws -> User {
        try await addAPITokenHash(hash, scopes: [], emailAddress: emailAddress)
    }
}

/// A write the store refused because it would break an invariant.
public enum SiteStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateAccountId(String)
    case duplicateEmailAddress(String)
    case duplicateClientKey(String)
    case unknownEmailAddress(String)
    case unknownAccountId(String)
    case unknownAppKey(String)
    case duplicateClientId(String)
    case unknownClientId(String)
    case duplicateAppId(String)
    case duplicateInstallationId(String)
    case unknownAppId(String)
    /// Another installed Connect app has this descriptor baseUrl.
    case duplicateBaseUrl(String, appKey: String)
    /// The database cannot be reached or did not answer in time; the operation may be retried.
    case unavailable(String)

    public var description: String {
        switch self {
        case .duplicateAccountId(let id): "a user with accountId \"\(id)\" already exists"
        case .duplicateEmailAddress(let email): "a user with e-mail address \"\(email)\" already exists"
        case .duplicateClientKey(let key): "another app already has clientKey \"\(key)\""
        case .unknownEmailAddress(let email): "no user has the e-mail address \"\(email)\""
        case .unknownAccountId(let id): "no user has accountId \"\(id)\""
        case .unknownAppKey(let key): "no app has key \"\(key)\""
        case .duplicateClientId(let id): "an OAuth app with clientId \"\(id)\" already exists"
        case .unknownClientId(let id): "no OAuth app has clientId \"\(id)\""
        case .duplicateAppId(let id): "a Forge app with appId \"\(id)\" is already installed"
        case .duplicateInstallationId(let id): "another Forge app already has installationId \"\(id)\""
        case .unknownAppId(let id): "no Forge app has appId \"\(id)\""
        case .duplicateBaseUrl(let baseUrl, let appKey):
            "app \(appKey) is already installed with baseUrl \(baseUrl); each app needs its own baseUrl"
        case .unavailable(let reason): "the database is unavailable: \(reason)"
        }
    }
}
