import Foundation
import UnderstudyAuth
import UnderstudyCore

/// Tokens for tests that need a Bearer caller without driving the consent page: the user's consent
/// is recorded and a code issued and exchanged at once, under the same rules as `/authorize` and
/// `/oauth/token` (the scopes must be the app's, the user an active person). Used by
/// `POST /_understudy/oauth/tokens` and by `UnderstudyTestServer`.
public struct OAuthTokenMinter: Sendable {
    /// What the token endpoint would have answered.
    public struct Tokens: Sendable, Equatable {
        public let accessToken: String
        /// `nil` unless the scopes include `offline_access`.
        public let refreshToken: String?
        public let expiresIn: Int
        public let scopes: [String]
    }

    /// Why no tokens could be minted.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    let store: any SiteStore
    let now: @Sendable () -> Date

    public init(store: any SiteStore, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.now = now
    }

    public func mint(clientId: String, accountId: String, scopes: [String]) async throws -> Tokens {
        guard let app = try await store.oauth.oauthApp(clientId: clientId) else {
            throw Refusal(description: "No OAuth 2.0 app of this site has client_id '\(clientId)'.")
        }
        if let unknown = scopes.first(where: { !app.scopes.contains($0) }) {
            throw Refusal(
                description:
                    "The scope \(unknown) has not been added to the app \(app.name); it may request only \(app.scopes.joined(separator: " "))."
            )
        }
        guard let user = try await store.user(accountId: accountId), user.accountType == .atlassian, user.active else {
            throw Refusal(description: "No active person of this site has accountId '\(accountId)'.")
        }
        let code = AuthorizationServer.newSecret()
        let redirectUri = app.callbackUrls.first ?? ""
        let issuedAt = now()
        try await store.oauth.recordConsent(
            AuthorizationCode(
                codeHash: APITokens.hash(code), clientId: clientId, accountId: user.accountId, redirectUri: redirectUri,
                scopes: scopes, expiresAt: issuedAt.addingTimeInterval(OAuthTokenRules.codeLifetime)))
        let issued = AuthorizationServer.newTokens(now: issuedAt)
        let redemption = try await store.oauth.redeemCode(
            codeHash: APITokens.hash(code), clientId: clientId, redirectUri: redirectUri, now: issuedAt,
            familyId: UUID().uuidString.lowercased(), tokens: issued.hashed)
        guard case .redeemed = redemption else {
            throw Refusal(description: "The code minted for the tokens was refused: \(redemption)")
        }
        return Tokens(
            accessToken: issued.accessToken,
            refreshToken: OAuthTokenRules.issuesRefreshToken(for: scopes) ? issued.refreshToken : nil,
            expiresIn: Int(OAuthTokenRules.accessTokenLifetime), scopes: scopes)
    }
}
