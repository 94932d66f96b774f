import Foundation

/// The Forge side of the in-memory store, as plain values the actor keeps (and `saveState()`
/// copies).
struct InMemoryForgeRecords: Sendable {
    var apps: [String: ForgeApp] = [:]
    var tokens: [String: ForgeToken] = [:]

    /// Why `app` cannot join these apps, if it cannot: its installation is another app's.
    func conflict(_ app: ForgeApp) -> SiteStoreError? {
        apps.values.contains { $0.installationId == app.installationId && $0.appId != app.appId }
            ? .duplicateInstallationId(app.installationId) : nil
    }
}

extension InMemorySiteStore: ForgeStore {
    public nonisolated var forge: any ForgeStore { self }

    public func forgeApps() -> [ForgeApp] {
        forgeRecords.apps.values.sorted { Self.byteOrder($0.appId, $1.appId) }
    }

    public func forgeApp(appId: String) -> ForgeApp? { forgeRecords.apps[appId] }

    public func forgeApp(installationId: String) -> ForgeApp? {
        forgeRecords.apps.values.first { $0.installationId == installationId }
    }

    public func addForgeApp(_ app: ForgeApp) throws {
        guard forgeRecords.apps[app.appId] == nil else { throw SiteStoreError.duplicateAppId(app.appId) }
        if let conflict = forgeRecords.conflict(app) { throw conflict }
        try addUser(app.appUser)
        forgeRecords.apps[app.appId] = app
    }

    public func recordForgeToken(_ token: ForgeToken) throws {
        guard forgeRecords.apps[token.appId] != nil else { throw SiteStoreError.unknownAppId(token.appId) }
        guard user(accountId: token.accountId) != nil else { throw SiteStoreError.unknownAccountId(token.accountId) }
        forgeRecords.tokens[token.tokenHash] = token
    }

    public func forgeToken(hash: String) -> ForgeToken? { forgeRecords.tokens[hash] }

    public func purgeExpiredForgeTokens(now: Date) -> Int {
        let horizon = now.addingTimeInterval(-OAuthTokenRules.retention)
        let expired = forgeRecords.tokens.values.filter { $0.expiresAt < horizon }
        for token in expired { forgeRecords.tokens[token.tokenHash] = nil }
        return expired.count
    }
}
