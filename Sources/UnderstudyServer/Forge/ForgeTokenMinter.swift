import Foundation
import UnderstudyAuth
import UnderstudyCore

/// Mints the tokens Forge hands a remote or a container (spec 11.1): an app system token acts as
/// the app user, an app user token as a person of the site; both carry the app's scopes and live
/// four hours. Used by `POST /_understudy/forge/tokens`, `understudy forge token` and the test
/// helpers.
public struct ForgeTokenMinter: Sendable {
    public struct Minted: Sendable, Equatable {
        public let token: String
        public let expiresIn: Int
        /// Whom the token acts as.
        public let accountId: String
        public let app: ForgeApp
    }

    /// Why no token could be minted: the app or the user is not on the site (`404`).
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    let store: any SiteStore
    let now: @Sendable () -> Date

    public init(store: any SiteStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    /// - Parameter accountId: the person an app user token acts for; `nil` (or the app user's own
    ///   accountId) for an app system token.
    public func mint(appId: String, accountId: String?) async throws -> Minted {
        guard let app = try await store.forge.forgeApp(appId: appId) else {
            throw Refusal(description: "No Forge app of this site has appId '\(appId)'.")
        }
        let actingAs = accountId ?? app.accountId
        if actingAs != app.accountId {
            guard let user = try await store.user(accountId: actingAs), user.accountType == .atlassian,
                user.active
            else {
                throw Refusal(description: "No active person of this site has accountId '\(actingAs)'.")
            }
        }
        let token = AuthorizationServer.newSecret()
        try await store.forge.recordForgeToken(
            ForgeToken(
                tokenHash: APITokens.hash(token), appId: app.appId, accountId: actingAs,
                expiresAt: now().addingTimeInterval(ForgeToken.lifetime)))
        return Minted(token: token, expiresIn: Int(ForgeToken.lifetime), accountId: actingAs, app: app)
    }
}
