import Foundation
import UnderstudyAuth
import UnderstudyCore

/// The credentials the API gateway accepts (spec 8, 11.1): OAuth 2.0 access tokens, Forge app
/// system and app user tokens, and scoped API tokens, each becoming a `Principal` with its scopes. Everything else is refused with the reason, and
/// credentials that belong on the site URL say so.
struct GatewayAuthenticator: Sendable {
    let store: any SiteStore
    let now: @Sendable () -> Date
    /// Each Bearer token's hash, so a token sent again (as apps do until it expires) is not hashed
    /// again. Only the computation is remembered: the grant is looked up every time (memory only).
    let tokenHashes = BoundedCache<String, String>()

    enum Outcome {
        case principal(Principal)
        /// Refused: `401 {"code":401,"message":"Unauthorized"}` with this explanation.
        case refused(String)
    }

    /// - Parameters:
    ///   - carriesJWTParameter: whether the query has a `jwt` parameter (a Connect JWT).
    ///   - siteURL: the same request on the site URL, for explanations (made only for them).
    func authenticate(authorization: String?, carriesJWTParameter: Bool, siteURL: () -> String) async throws
        -> Outcome
    {
        if carriesJWTParameter {
            return .refused(
                "Connect JWTs (here the jwt query parameter) are accepted only on the site URL, not through the API gateway: call \(siteURL())."
            )
        }
        guard let authorization else {
            return .refused(
                "The request has no credentials; the gateway takes Authorization: Bearer <OAuth 2.0 access token>, or Basic e-mail:token with a scoped API token."
            )
        }
        guard let (scheme, credentials) = Authenticator.schemeAndCredentials(Substring(authorization)) else {
            return .refused(
                "The Authorization header is malformed; send 'Bearer <access token>' or 'Basic base64(email:scopedApiToken)'."
            )
        }
        switch scheme {
        case .bearer: return try await bearer(String(credentials.trimmingWhitespace()))
        case .basic: return try await basic(credentials.trimmingWhitespace(), siteURL: siteURL)
        case .jwt:
            return .refused(
                "Connect JWTs are accepted only on the site URL, not through the API gateway: call \(siteURL()).")
        case .other(let name):
            return .refused(
                "The Authorization scheme '\(name)' is not one the gateway accepts; use Bearer <access token> or Basic with a scoped API token."
            )
        }
    }

    /// An OAuth 2.0 access token (the user who consented, with the granted scopes) or a Forge token
    /// (the app user or a user, with the app's scopes).
    func bearer(_ token: String) async throws -> Outcome {
        let hash: String
        if let known = tokenHashes[token] {
            hash = known
        } else {
            hash = APITokens.hash(token)
            tokenHashes.remember(hash, for: token)
        }
        guard let grant = try await store.oauth.accessToken(hash: hash) else {
            if let forgeToken = try await store.forge.forgeToken(hash: hash) {
                return try await forge(forgeToken)
            }
            return .refused(
                "The Bearer token is not an access token or Forge token of this site: it was never issued here, was cut short, or its consent was revoked or the site reset. (A refresh token is not an access token.)"
            )
        }
        let current = now()
        guard current <= grant.expiresAt else {
            return .refused(
                "The access token expired at \(OAuthTokenRules.timestamp(grant.expiresAt)) (access tokens live 3600 s); POST /oauth/token with grant_type=refresh_token gives a new one."
            )
        }
        guard let user = try await store.user(accountId: grant.accountId), user.active else {
            return .refused("The access token's user \(grant.accountId) is deactivated or no longer on the site.")
        }
        return .principal(
            Principal(user: user, credential: .oauth(clientId: grant.clientId), scopes: grant.scopes))
    }

    private func forge(_ token: ForgeToken) async throws -> Outcome {
        guard now() <= token.expiresAt else {
            return .refused(
                "The Forge token expired at \(OAuthTokenRules.timestamp(token.expiresAt)) (Forge tokens live 4 hours and Forge hands out fresh ones with each invocation); mint another with understudy forge token or POST /_understudy/forge/tokens."
            )
        }
        guard let app = try await store.forge.forgeApp(appId: token.appId) else {
            return .refused("The Forge token's app \(token.appId) is no longer installed on this site.")
        }
        guard let user = try await store.user(accountId: token.accountId), user.active else {
            return .refused("The Forge token's user \(token.accountId) is deactivated or no longer on the site.")
        }
        return .principal(Principal(user: user, credential: .forge(app), scopes: app.scopes))
    }

    private func basic(_ encoded: Substring, siteURL: () -> String) async throws -> Outcome {
        guard let (email, token) = Authenticator.emailAndToken(encoded) else {
            return .refused("The Basic credentials are not base64 of 'email:apiToken'.")
        }
        guard let user = try await store.user(emailAddress: email) else {
            return .refused(
                "No account on this site has the e-mail address '\(email)'; Basic auth takes the e-mail of the account that owns the API token."
            )
        }
        let tokenHash = APITokens.hash(token)
        var matched: ScopedAPIToken?
        for scoped in user.scopedAPITokens where APITokens.constantTimeEqual(scoped.hash, tokenHash) {
            matched = scoped
        }
        guard let matched else {
            if APITokens.matches(tokenHash: tokenHash, hashes: user.apiTokenHashes) {
                return .refused(
                    "This is a classic API token (without scopes), which the gateway does not accept: call the site URL \(siteURL()) with it, or create a scoped API token for the gateway."
                )
            }
            return .refused(
                "The API token is not one of \(email)'s tokens; check that the token belongs to this e-mail.")
        }
        guard user.active else {
            return .refused("The account \(email) is deactivated, and deactivated users cannot sign in.")
        }
        return .principal(Principal(user: user, credential: .scopedAPIToken, scopes: matched.scopes))
    }
}
