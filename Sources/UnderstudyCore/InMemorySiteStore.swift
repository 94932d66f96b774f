/// A store that keeps everything in process memory: `--database :memory:` and fast tests.
public actor InMemorySiteStore: SiteStore {
    private var usersById: [String: User] = [:]
    private var accountIdByEmail: [String: String] = [:]
    private var appsByKey: [String: ConnectApp] = [:]
    private var userProperties: [String: [String: PropertyValue]] = [:]
    private var appProperties: [String: [String: PropertyValue]] = [:]
    private var identity: SiteIdentity?
    /// OAuth apps, consents, codes and tokens (the `OAuthStore` side).
    var oauthRecords = InMemoryOAuthRecords()
    /// Forge apps and their tokens (the `ForgeStore` side).
    var forgeRecords = InMemoryForgeRecords()
    /// The site's lifecycle signing keys, oldest first; not part of the site (`ConnectInstallKey`).
    var installKeys: [ConnectInstallKey] = []

    /// The state `saveState()` remembered; dictionaries copy on write, so this costs nothing
    /// until the site changes.
    private var saved: (site: Site, oauth: InMemoryOAuthRecords, forge: InMemoryForgeRecords)?

    public init() {}

    public func isEmpty() -> Bool { usersById.isEmpty }

    public func user(accountId: String) -> User? { usersById[accountId] }

    public func user(emailAddress: String) -> User? {
        accountIdByEmail[emailAddress.lowercased()].flatMap { usersById[$0] }
    }

    public func app(key: String) -> ConnectApp? { appsByKey[key] }

    public func siteIdentity() -> SiteIdentity? { identity }

    public nonisolated var oauth: any OAuthStore { self }

    public func app(clientKey: String) -> ConnectApp? {
        appsByKey.values.first { $0.clientKey == clientKey }
    }

    public func addUser(_ user: User) throws {
        guard usersById[user.accountId] == nil else { throw SiteStoreError.duplicateAccountId(user.accountId) }
        if let email = user.emailAddress, accountIdByEmail[email.lowercased()] != nil {
            throw SiteStoreError.duplicateEmailAddress(email)
        }
        insert(user)
    }

    public func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) throws -> User {
        guard let found = user(emailAddress: emailAddress) else {
            throw SiteStoreError.unknownEmailAddress(emailAddress)
        }
        let user = found.adding(tokenHash: hash, scopes: scopes)
        usersById[user.accountId] = user
        return user
    }

    public func load(_ site: Site) throws {
        // Check every invariant before changing anything, so a failed load changes nothing.
        var emails = accountIdByEmail
        for user in site.users + site.appUsers {
            if let previous = usersById[user.accountId], let email = previous.emailAddress {
                emails[email.lowercased()] = nil
            }
        }
        for user in site.users + site.appUsers {
            guard let email = user.emailAddress?.lowercased() else { continue }
            if let owner = emails[email], owner != user.accountId {
                throw SiteStoreError.duplicateEmailAddress(user.emailAddress!)
            }
            emails[email] = user.accountId
        }
        for app in site.apps {
            if appsByKey.values.contains(where: { $0.clientKey == app.clientKey && $0.key != app.key }) {
                throw SiteStoreError.duplicateClientKey(app.clientKey)
            }
            if let existing = usersById[app.accountId], existing.accountType != .app {
                throw SiteStoreError.duplicateAccountId(app.accountId)
            }
        }
        for user in site.users {
            if let existing = usersById[user.accountId], existing.accountType == .app {
                throw SiteStoreError.duplicateAccountId(user.accountId)
            }
        }
        for consent in site.oauthConsents {
            if oauthRecords.apps[consent.clientId] == nil,
                !site.oauthApps.contains(where: { $0.clientId == consent.clientId })
            {
                throw SiteStoreError.unknownClientId(consent.clientId)
            }
            if usersById[consent.accountId] == nil, !site.users.contains(where: { $0.accountId == consent.accountId }) {
                throw SiteStoreError.unknownAccountId(consent.accountId)
            }
        }
        var forge = forgeRecords
        for app in site.forgeApps {
            if let conflict = forge.conflict(app) { throw conflict }
            let owner = usersById[app.accountId]?.accountType ?? .app
            if owner != .app || site.users.contains(where: { $0.accountId == app.accountId }) {
                throw SiteStoreError.duplicateAccountId(app.accountId)
            }
            forge.apps[app.appId] = app
        }
        if let identity = site.identity { self.identity = identity }
        for app in site.oauthApps { oauthRecords.apps[app.clientId] = app }
        for consent in site.oauthConsents { oauthRecords.consents[[consent.clientId, consent.accountId]] = consent }

        for user in site.users + site.appUsers {
            var merged = user
            if let previous = usersById[user.accountId] {
                if let email = previous.emailAddress { accountIdByEmail[email.lowercased()] = nil }
                merged = user.keepingAPITokens(of: previous)
            }
            insert(merged)
        }
        for app in site.apps { appsByKey[app.key] = app }
        for app in site.forgeApps { insert(app.appUser) }
        forgeRecords = forge
        for property in site.userProperties {
            userProperties[property.accountId, default: [:]][property.key] = property.value
        }
        for property in site.appProperties {
            appProperties[property.appKey, default: [:]][property.key] = property.value
        }
    }

    public func snapshot() -> Site {
        let users = usersById.values.sorted { Self.byteOrder($0.accountId, $1.accountId) }
        return Site(
            identity: identity,
            users: users.filter { $0.accountType == .atlassian },
            apps: appsByKey.values.sorted { Self.byteOrder($0.key, $1.key) },
            appUsers: users.filter { $0.accountType == .app },
            userProperties: userProperties.keys.sorted(by: Self.byteOrder).flatMap { accountId in
                userPropertyKeys(accountId: accountId).map {
                    UserPropertyRecord(accountId: accountId, key: $0, value: userProperties[accountId]![$0]!)
                }
            },
            appProperties: appProperties.keys.sorted(by: Self.byteOrder).flatMap { appKey in
                appPropertyKeys(appKey: appKey).map {
                    AppPropertyRecord(appKey: appKey, key: $0, value: appProperties[appKey]![$0]!)
                }
            },
            oauthApps: oauthApps(), oauthConsents: oauthConsents(), forgeApps: forgeApps())
    }

    public func replace(with site: Site) throws {
        let saved = (usersById, accountIdByEmail, appsByKey, userProperties, appProperties, oauthRecords, forgeRecords)
        (usersById, accountIdByEmail, appsByKey, userProperties, appProperties) = ([:], [:], [:], [:], [:])
        oauthRecords = InMemoryOAuthRecords()
        forgeRecords = InMemoryForgeRecords()
        do {
            try load(site)
        } catch {
            (usersById, accountIdByEmail, appsByKey, userProperties, appProperties, oauthRecords, forgeRecords) = saved
            throw error
        }
    }

    public func saveState() { saved = (snapshot(), oauthRecords, forgeRecords) }

    public func restoreSavedState() throws {
        try replace(with: saved?.site ?? Site())
        oauthRecords = saved?.oauth ?? InMemoryOAuthRecords()
        forgeRecords = saved?.forge ?? InMemoryForgeRecords()
    }

    private func insert(_ user: User) {
        usersById[user.accountId] = user
        if let email = user.emailAddress { accountIdByEmail[email.lowercased()] = user.accountId }
    }

    public func userPropertyKeys(accountId: String) -> [String] {
        (userProperties[accountId]?.keys).map { $0.sorted(by: Self.byteOrder) } ?? []
    }

    public func userProperty(accountId: String, key: String) -> PropertyValue? {
        userProperties[accountId]?[key]
    }

    public func userProperties(accountId: String, atMost limit: Int) -> [String: PropertyValue]? {
        let properties = userProperties[accountId] ?? [:]
        return properties.count <= limit ? properties : nil
    }

    public func setUserProperty(accountId: String, key: String, value: PropertyValue) throws -> WriteOutcome {
        guard usersById[accountId] != nil else { throw SiteStoreError.unknownAccountId(accountId) }
        return userProperties[accountId, default: [:]].updateValue(value, forKey: key) == nil ? .created : .updated
    }

    public func deleteUserProperty(accountId: String, key: String) -> Bool {
        userProperties[accountId]?.removeValue(forKey: key) != nil
    }

    public func appPropertyKeys(appKey: String) -> [String] {
        (appProperties[appKey]?.keys).map { $0.sorted(by: Self.byteOrder) } ?? []
    }

    public func appProperty(appKey: String, key: String) -> PropertyValue? {
        appProperties[appKey]?[key]
    }

    public func setAppProperty(appKey: String, key: String, value: PropertyValue) throws -> WriteOutcome {
        guard appsByKey[appKey] != nil else { throw SiteStoreError.unknownAppKey(appKey) }
        return appProperties[appKey, default: [:]].updateValue(value, forKey: key) == nil ? .created : .updated
    }

    public func deleteAppProperty(appKey: String, key: String) -> Bool {
        appProperties[appKey]?.removeValue(forKey: key) != nil
    }

    public func changeCounter() -> Int? { nil }

    public func close() {}

    /// Keys sort by their UTF-8 bytes, as SQLite's BINARY collation does, so every store agrees.
    static func byteOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
