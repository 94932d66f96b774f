import Foundation
import Synchronization

/// Serves reads of a site from memory and writes through to another store.
///
/// Users, apps and (unless told not to) each user's properties are cached as they are first read;
/// a write goes to the backing store first and then drops what it changed from the cache, so the
/// cache never holds a value the backing store does not. A read that fills the cache installs its
/// result only if no write happened meanwhile (a global generation counter), so a slow read cannot
/// bring back a value that a write has just replaced.
///
/// Changes made by another process are noticed one of two ways (`ExternalChanges`): by polling
/// `SiteStore.changeCounter()` (SQLite: a `seed` while serving), or by being told — PostgreSQL's
/// `LISTEN/NOTIFY` — in which case the cache serves nothing until the first notification
/// connection is up, and nothing while it is down.
public final class CachingSiteStore: SiteStore {
    private let backing: any SiteStore
    private let state = Mutex(State())
    private let checking = Atomic<Bool>(false)
    private let externalChangeInterval: Duration
    private let externalChanges: ExternalChanges
    /// Whether user properties are cached too; off for a database other servers write to.
    public let cachesUserProperties: Bool

    /// How changes made by another process reach the cache.
    public enum ExternalChanges: Sendable {
        /// `SiteStore.changeCounter()` is polled, at most once per interval, in the background.
        case polled(every: Duration)
        /// The owner calls `externalChange()`, `notificationsLost()` and `notificationsResumed()`.
        case notified
    }

    private struct State {
        var generation: UInt64 = 0
        var usersById: [String: User] = [:]
        var accountIdByEmail: [String: String] = [:]
        var appsByKey: [String: ConnectApp] = [:]
        var appKeyByClientKey: [String: String] = [:]
        var userProperties: [String: CachedEntry] = [:]
        /// Access-token grants by token hash: a Bearer caller's token is checked on every request.
        var accessTokens: [String: AccessTokenGrant] = [:]
        var cachedPropertyCount = 0
        var lastExternalCheck = ContinuousClock.now
        var lastChangeCounter: Int?
        /// Whether cached entries may be served: always when polling; with notifications, only
        /// while the notification connection is up.
        var trusted = true
    }

    /// One user's properties, with the keys already in the order the key list returns them.
    private struct CachedProperties {
        let values: [String: PropertyValue]
        let sortedKeys: [String]

        init(_ values: [String: PropertyValue]) {
            self.values = values
            self.sortedKeys = values.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
    }

    /// What the cache knows of one user's properties.
    private enum CachedEntry {
        case properties(CachedProperties)
        /// The user has more than `maximumPropertiesPerUser`: served from the backing store.
        case large
    }

    /// At most this many property values are kept in memory; beyond it the cache starts afresh.
    public let maximumCachedProperties: Int
    /// Users with more properties than this are not cached: the cache is for small, hot data.
    public let maximumPropertiesPerUser: Int

    /// Wraps `backing`, taking note of its change counter so that from now on any change by
    /// another process is noticed.
    /// Wraps `backing`. With `.polled`, takes note of its change counter so that from now on any
    /// change by another process is noticed; with `.notified`, serves nothing from memory until
    /// `notificationsResumed()`.
    public init(
        backing: any SiteStore, maximumCachedProperties: Int = 2_000_000, maximumPropertiesPerUser: Int = 256,
        externalChanges: ExternalChanges = .polled(every: .milliseconds(250)), cachesUserProperties: Bool = true
    ) async throws {
        self.backing = backing
        self.maximumCachedProperties = maximumCachedProperties
        self.maximumPropertiesPerUser = maximumPropertiesPerUser
        self.externalChanges = externalChanges
        self.cachesUserProperties = cachesUserProperties
        switch externalChanges {
        case .polled(let interval):
            self.externalChangeInterval = interval
            let counter = try await backing.changeCounter()
            state.withLock { $0.lastChangeCounter = counter }
        case .notified:
            self.externalChangeInterval = .seconds(3600)
            state.withLock { $0.trusted = false }
        }
    }

    /// Whether cached entries are served now (with `.notified`: while the notifications flow).
    public var servesFromMemory: Bool { state.withLock { $0.trusted } }

    /// Another process changed the site: forget everything cached.
    public func externalChange() { forgetEverything() }

    /// The notifications stopped: serve nothing from memory until they resume.
    public func notificationsLost() {
        state.withLock { $0.trusted = false }
        forgetEverything()
    }

    /// The notifications flow (again): what changed meanwhile is unknown, so start afresh.
    public func notificationsResumed() {
        forgetEverything()
        state.withLock { $0.trusted = true }
    }

    // MARK: Reads

    public func isEmpty() async throws -> Bool { try await backing.isEmpty() }

    public func siteIdentity() async throws -> SiteIdentity? { try await backing.siteIdentity() }

    /// The OAuth side with access-token grants cached (a Bearer token is read on every request);
    /// codes, refreshes and consents go to the backing store.
    public var oauth: any OAuthStore { CachedOAuthStore(cache: self, backing: backing.oauth) }

    /// Forge apps and tokens are read from the backing store; an app user is a user like any other,
    /// cached with the users once read.
    public var forge: any ForgeStore { backing.forge }

    /// Keys and installed apps are read rarely (installs, the key URL): from the backing store.
    public var connect: any ConnectInstallStore { backing.connect }

    /// At most this many access-token grants are kept; beyond it the cache of grants starts afresh.
    static let maximumCachedAccessTokens = 100_000

    func cachedAccessToken(hash: String, orRead read: () async throws -> AccessTokenGrant?) async throws
        -> AccessTokenGrant?
    {
        let (cached, generation) = lookUp { ($0.trusted ? $0.accessTokens[hash] : nil, $0.generation) }
        if let cached { return cached }
        guard let grant = try await read() else { return nil }
        state.withLock { state in
            guard state.generation == generation, state.trusted else { return }
            if state.accessTokens.count >= Self.maximumCachedAccessTokens { state.accessTokens.removeAll() }
            state.accessTokens[hash] = grant
        }
        return grant
    }

    /// A consent was revoked: its access tokens must stop working at once.
    func forgetAccessTokens() {
        state.withLock { state in
            state.generation &+= 1
            state.accessTokens.removeAll()
        }
    }

    public func user(accountId: String) async throws -> User? {
        let (cached, generation) = lookUp { ($0.trusted ? $0.usersById[accountId] : nil, $0.generation) }
        if let cached { return cached }
        let user = try await backing.user(accountId: accountId)
        if let user { install(user, ifStill: generation) }
        return user
    }

    public func user(emailAddress: String) async throws -> User? {
        let email = emailAddress.lowercased()
        let (cached, generation) = lookUp { state in
            (state.trusted ? state.accountIdByEmail[email].flatMap { state.usersById[$0] } : nil, state.generation)
        }
        if let cached { return cached }
        let user = try await backing.user(emailAddress: emailAddress)
        if let user { install(user, ifStill: generation) }
        return user
    }

    public func app(key: String) async throws -> ConnectApp? {
        let (cached, generation) = lookUp { ($0.trusted ? $0.appsByKey[key] : nil, $0.generation) }
        if let cached { return cached }
        let app = try await backing.app(key: key)
        if let app { install(app, ifStill: generation) }
        return app
    }

    public func app(clientKey: String) async throws -> ConnectApp? {
        let (cached, generation) = state.withLock { state in
            (state.trusted ? state.appKeyByClientKey[clientKey].flatMap { state.appsByKey[$0] } : nil, state.generation)
        }
        if let cached { return cached }
        let app = try await backing.app(clientKey: clientKey)
        if let app { install(app, ifStill: generation) }
        return app
    }

    public func userPropertyKeys(accountId: String) async throws -> [String] {
        guard let cached = try await properties(of: accountId) else {
            return try await backing.userPropertyKeys(accountId: accountId)
        }
        return cached.sortedKeys
    }

    public func userProperty(accountId: String, key: String) async throws -> PropertyValue? {
        guard let cached = try await properties(of: accountId) else {
            return try await backing.userProperty(accountId: accountId, key: key)
        }
        return cached.values[key]
    }

    public func userProperties(accountId: String, atMost limit: Int) async throws -> [String: PropertyValue]? {
        guard let cached = try await properties(of: accountId), cached.values.count <= limit else {
            return try await backing.userProperties(accountId: accountId, atMost: limit)
        }
        return cached.values
    }

    /// A user's properties from memory, loaded whole from the backing store on first use; `nil`
    /// for a user with too many to cache.
    private func properties(of accountId: String) async throws -> CachedProperties? {
        guard cachesUserProperties else { return nil }
        let (cached, generation) = lookUp { ($0.trusted ? $0.userProperties[accountId] : nil, $0.generation) }
        switch cached {
        case .properties(let properties): return properties
        case .large: return nil
        case nil: break
        }
        let loaded = try await backing.userProperties(accountId: accountId, atMost: maximumPropertiesPerUser)
        let properties = loaded.map(CachedProperties.init)
        state.withLock { state in
            guard state.generation == generation, state.trusted else { return }
            guard let properties else {
                state.userProperties[accountId] = .large
                return
            }
            if state.cachedPropertyCount + properties.values.count > maximumCachedProperties {
                state.userProperties.removeAll(keepingCapacity: true)
                state.cachedPropertyCount = 0
            }
            state.userProperties[accountId] = .properties(properties)
            state.cachedPropertyCount += properties.values.count
        }
        return properties
    }

    public func appPropertyKeys(appKey: String) async throws -> [String] {
        try await backing.appPropertyKeys(appKey: appKey)
    }

    public func appProperty(appKey: String, key: String) async throws -> PropertyValue? {
        try await backing.appProperty(appKey: appKey, key: key)
    }

    // MARK: Writes: backing store first, then forget what changed

    public func addUser(_ user: User) async throws {
        defer { forgetSiteData() }
        try await backing.addUser(user)
    }

    public func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) async throws -> User {
        defer { forgetSiteData() }
        return try await backing.addAPITokenHash(hash, scopes: scopes, emailAddress: emailAddress)
    }

    public func load(_ site: Site) async throws {
        defer { forgetEverything() }
        try await backing.load(site)
    }

    public func snapshot() async throws -> Site { try await backing.snapshot() }

    public func replace(with site: Site) async throws {
        defer { forgetEverything() }
        try await backing.replace(with: site)
    }

    public func saveState() async throws { try await backing.saveState() }

    public func restoreSavedState() async throws {
        defer { forgetEverything() }
        try await backing.restoreSavedState()
    }

    public func setUserProperty(accountId: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        defer { forgetProperties(of: accountId) }
        return try await backing.setUserProperty(accountId: accountId, key: key, value: value)
    }

    public func deleteUserProperty(accountId: String, key: String) async throws -> Bool {
        defer { forgetProperties(of: accountId) }
        return try await backing.deleteUserProperty(accountId: accountId, key: key)
    }

    public func setAppProperty(appKey: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try await backing.setAppProperty(appKey: appKey, key: key, value: value)
    }

    public func deleteAppProperty(appKey: String, key: String) async throws -> Bool {
        try await backing.deleteAppProperty(appKey: appKey, key: key)
    }

    public func changeCounter() async throws -> Int? { try await backing.changeCounter() }

    public func close() async throws { try await backing.close() }

    // MARK: Cache maintenance

    private func install(_ user: User, ifStill generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation, state.trusted else { return }
            state.usersById[user.accountId] = user
            if let email = user.emailAddress { state.accountIdByEmail[email.lowercased()] = user.accountId }
        }
    }

    private func install(_ app: ConnectApp, ifStill generation: UInt64) {
        state.withLock { state in
            guard state.generation == generation, state.trusted else { return }
            state.appsByKey[app.key] = app
            state.appKeyByClientKey[app.clientKey] = app.key
        }
    }

    private func forgetSiteData() {
        state.withLock { state in
            state.generation &+= 1
            state.usersById.removeAll()
            state.accountIdByEmail.removeAll()
            state.appsByKey.removeAll()
            state.appKeyByClientKey.removeAll()
        }
    }

    private func forgetProperties(of accountId: String) {
        state.withLock { state in
            state.generation &+= 1
            if case .properties(let removed)? = state.userProperties.removeValue(forKey: accountId) {
                state.cachedPropertyCount -= removed.values.count
            }
        }
    }

    private func forgetEverything() {
        forgetSiteData()
        state.withLock { state in
            state.userProperties.removeAll()
            state.cachedPropertyCount = 0
            state.accessTokens.removeAll()
        }
    }

    /// At most every `externalChangeInterval`, asks the backing store in the background whether
    /// another process changed it, and forgets everything if so. Never delays the caller.
    /// Reads the cache's state, taking the same lock to note whether it is time to look for
    /// changes made by another process (one lock per read, not two).
    private func lookUp<Result: Sendable>(_ read: (State) -> Result) -> Result {
        let (result, due) = state.withLock { state in
            guard case .polled = externalChanges else { return (read(state), false) }
            let now = ContinuousClock.now
            let due = now - state.lastExternalCheck >= externalChangeInterval
            if due { state.lastExternalCheck = now }
            return (read(state), due)
        }
        if due { checkForExternalChanges() }
        return result
    }

    private func checkForExternalChanges() {
        guard checking.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        Task { [self] in
            defer { checking.store(false, ordering: .releasing) }
            guard let counter = try? await backing.changeCounter() else { return }
            let changed = state.withLock { state in
                defer { state.lastChangeCounter = counter }
                return state.lastChangeCounter != counter
            }
            if changed { forgetEverything() }
        }
    }
}

/// The OAuth side of a `CachingSiteStore`: every call goes to the backing store, except that the
/// grant behind an access token is served from the cache once read. Revoking a consent empties the
/// cache of grants, as loading or replacing the site does; a change by another process is noticed
/// like any other (`SiteStore.changeCounter()`).
struct CachedOAuthStore: OAuthStore {
    let cache: CachingSiteStore
    let backing: any OAuthStore

    func oauthApp(clientId: String) async throws -> OAuthApp? { try await backing.oauthApp(clientId: clientId) }
    func oauthApps() async throws -> [OAuthApp] { try await backing.oauthApps() }
    func addOAuthApp(_ app: OAuthApp) async throws { try await backing.addOAuthApp(app) }
    func oauthConsents() async throws -> [OAuthConsent] { try await backing.oauthConsents() }
    func recordConsent(_ code: AuthorizationCode) async throws { try await backing.recordConsent(code) }

    func redeemCode(
        codeHash: String, clientId: String, redirectUri: String, now: Date, familyId: String, tokens: IssuedTokens
    ) async throws -> CodeRedemption {
        try await backing.redeemCode(
            codeHash: codeHash, clientId: clientId, redirectUri: redirectUri, now: now, familyId: familyId,
            tokens: tokens)
    }

    func refresh(refreshTokenHash: String, clientId: String, now: Date, tokens: IssuedTokens) async throws
        -> RefreshOutcome
    {
        try await backing.refresh(refreshTokenHash: refreshTokenHash, clientId: clientId, now: now, tokens: tokens)
    }

    func accessToken(hash: String) async throws -> AccessTokenGrant? {
        try await cache.cachedAccessToken(hash: hash) { try await backing.accessToken(hash: hash) }
    }

    func revokeConsent(clientId: String, accountId: String) async throws -> Bool {
        defer { cache.forgetAccessTokens() }
        return try await backing.revokeConsent(clientId: clientId, accountId: accountId)
    }

    func purgeExpired(now: Date) async throws -> Int {
        defer { cache.forgetAccessTokens() }
        return try await backing.purgeExpired(now: now)
    }
}
