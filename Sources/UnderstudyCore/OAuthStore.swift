import Foundation

/// An authorization code as issued by the consent (spec 9.2), kept by the hash of its value.
public struct AuthorizationCode: Sendable, Hashable {
    public var codeHash: String
    public var clientId: String
    public var accountId: String
    public var redirectUri: String
    /// The scopes granted: those requested.
    public var scopes: [String]
    public var expiresAt: Date

    public init(
        codeHash: String, clientId: String, accountId: String, redirectUri: String, scopes: [String], expiresAt: Date
    ) {
        self.codeHash = codeHash
        self.clientId = clientId
        self.accountId = accountId
        self.redirectUri = redirectUri
        self.scopes = scopes
        self.expiresAt = expiresAt
    }
}

/// Tokens made for one exchange, given to the store as hashes: the token values themselves are
/// handed to the app once and never kept.
public struct IssuedTokens: Sendable, Hashable {
    public var accessTokenHash: String
    public var accessTokenExpiresAt: Date
    /// Kept only when the grant includes `offline_access` (`OAuthTokenRules.issuesRefreshToken`).
    public var refreshTokenHash: String?

    public init(accessTokenHash: String, accessTokenExpiresAt: Date, refreshTokenHash: String?) {
        self.accessTokenHash = accessTokenHash
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshTokenHash = refreshTokenHash
    }
}

/// What a valid access token stands for.
public struct AccessTokenGrant: Sendable, Hashable {
    public var clientId: String
    public var accountId: String
    public var scopes: [String]
    public var expiresAt: Date

    public init(clientId: String, accountId: String, scopes: [String], expiresAt: Date) {
        self.clientId = clientId
        self.accountId = accountId
        self.scopes = scopes
        self.expiresAt = expiresAt
    }
}

/// A family of refresh tokens: every token descended from one authorization-code exchange.
public struct TokenFamily: Sendable, Hashable {
    public var familyId: String
    public var clientId: String
    public var accountId: String
    public var scopes: [String]
    /// When the code exchange that started it happened (the 365-day limit counts from here).
    public var startedAt: Date
    /// The last successful refresh, or `startedAt` (the 90-day idle limit counts from here).
    public var lastRefreshedAt: Date
    /// Set when a refresh token was reused after the leeway.
    public var revokedAt: Date?

    public init(
        familyId: String, clientId: String, accountId: String, scopes: [String], startedAt: Date,
        lastRefreshedAt: Date, revokedAt: Date? = nil
    ) {
        self.familyId = familyId
        self.clientId = clientId
        self.accountId = accountId
        self.scopes = scopes
        self.startedAt = startedAt
        self.lastRefreshedAt = lastRefreshedAt
        self.revokedAt = revokedAt
    }
}

/// One refresh token of a family: `firstUsedAt` is set when it is first exchanged, which disables it
/// (apart from the reuse leeway).
public struct RefreshTokenState: Sendable, Hashable {
    public var familyId: String
    public var firstUsedAt: Date?

    public init(familyId: String, firstUsedAt: Date?) {
        self.familyId = familyId
        self.firstUsedAt = firstUsedAt
    }
}

/// How a code exchange went.
public enum CodeRedemption: Sendable, Equatable {
    case redeemed(AuthorizationCode)
    case refused(String)
}

/// How a refresh went.
public enum RefreshOutcome: Sendable, Equatable {
    /// New tokens were stored for this family, with the family's scopes.
    case rotated(TokenFamily)
    /// Refused; the explanation says why (and whether the family was revoked by it).
    case refused(String)
}

/// Where the authorization server keeps its state (spec 9): OAuth apps, consents, authorization
/// codes and token families. Every value a caller could present is kept as a hash. Each method is
/// atomic; the decisions about time (expiry, leeway, rotation) are `OAuthTokenRules`', so every
/// store decides alike.
public protocol OAuthStore: Sendable {
    func oauthApp(clientId: String) async throws -> OAuthApp?
    /// Every OAuth app, sorted by clientId.
    func oauthApps() async throws -> [OAuthApp]
    /// Registers an app; throws `SiteStoreError.duplicateClientId` if the clientId is taken.
    func addOAuthApp(_ app: OAuthApp) async throws
    /// Every consent, sorted by clientId and accountId.
    func oauthConsents() async throws -> [OAuthConsent]
    /// Records a user's consent (widening an earlier one of the same user to the same app) and the
    /// code it produced, together.
    func recordConsent(_ code: AuthorizationCode) async throws
    /// Exchanges a code: succeeds once, before it expires, for the same client and redirect URI; it
    /// starts a token family `familyId` holding `tokens`.
    func redeemCode(
        codeHash: String, clientId: String, redirectUri: String, now: Date, familyId: String, tokens: IssuedTokens
    ) async throws -> CodeRedemption
    /// Exchanges a refresh token by `OAuthTokenRules.refresh`, storing `tokens` when it allows.
    func refresh(refreshTokenHash: String, clientId: String, now: Date, tokens: IssuedTokens) async throws
        -> RefreshOutcome
    /// The grant behind an access token, expired or not (the caller compares `expiresAt`).
    func accessToken(hash: String) async throws -> AccessTokenGrant?
    /// Removes a consent and every code and token issued under it; `false` when there was none.
    func revokeConsent(clientId: String, accountId: String) async throws -> Bool
    /// Removes what stopped working more than `OAuthTokenRules.retention` before `now` — codes and
    /// access tokens past their expiry, families revoked or past their 90-day or 365-day end, with
    /// their tokens — so a long-lived database does not grow with every refresh. Returns how many
    /// codes, access tokens and families went.
    func purgeExpired(now: Date) async throws -> Int
}

/// The lifetimes and the rotation rule of spec 9.3, as pure functions of the stored state and the
/// site clock.
public enum OAuthTokenRules {
    public static let accessTokenLifetime: TimeInterval = 3600
    public static let codeLifetime: TimeInterval = 600
    /// A disabled refresh token is honoured again this long after its first use.
    public static let reuseLeeway: TimeInterval = 600
    public static let idleLifetime: TimeInterval = 90 * 86_400
    public static let absoluteLifetime: TimeInterval = 365 * 86_400
    /// How long dead codes, tokens and families are kept, so that a late request still gets the
    /// precise explanation ("expired at …", "the family was revoked") rather than "unknown".
    public static let retention: TimeInterval = 86_400

    /// Whether a family can no longer be refreshed and has been dead for longer than `retention`.
    public static func isPurgeable(_ family: TokenFamily, now: Date) -> Bool {
        let horizon = now.addingTimeInterval(-retention)
        if let revokedAt = family.revokedAt, revokedAt < horizon { return true }
        return family.lastRefreshedAt.addingTimeInterval(idleLifetime) < horizon
            || family.startedAt.addingTimeInterval(absoluteLifetime) < horizon
    }

    /// A refresh token is issued only when the grant includes `offline_access`.
    public static func issuesRefreshToken(for scopes: [String]) -> Bool { scopes.contains("offline_access") }

    /// The tokens to keep for a grant of `scopes`.
    public static func kept(_ tokens: IssuedTokens, for scopes: [String]) -> IssuedTokens {
        var kept = tokens
        if !issuesRefreshToken(for: scopes) { kept.refreshTokenHash = nil }
        return kept
    }

    public enum RefreshDecision: Sendable, Equatable {
        /// Issue a new pair; the sent token is disabled from now on (if it was not already).
        case rotate
        case refuse(String)
        /// Reuse after the leeway: revoke every token of the family and refuse.
        case revokeFamily(String)
    }

    public static func refresh(_ token: RefreshTokenState, of family: TokenFamily, clientId: String, now: Date)
        -> RefreshDecision
    {
        guard family.clientId == clientId else {
            return .refuse("The refresh token was issued to another client, not to \(clientId).")
        }
        if let revokedAt = family.revokedAt {
            return .refuse(
                "The refresh token's family was revoked at \(timestamp(revokedAt)) because a rotated refresh token was reused after the 10-minute leeway; the user must authorize the app again."
            )
        }
        let absoluteEnd = family.startedAt.addingTimeInterval(absoluteLifetime)
        if now > absoluteEnd {
            return .refuse(
                "The refresh token expired at \(timestamp(absoluteEnd)), 365 days after the authorization that started it, however often it was used; the user must authorize the app again."
            )
        }
        let idleEnd = family.lastRefreshedAt.addingTimeInterval(idleLifetime)
        if now > idleEnd {
            return .refuse(
                "The refresh token expired at \(timestamp(idleEnd)) after 90 days without a refresh; the user must authorize the app again."
            )
        }
        if let firstUsedAt = token.firstUsedAt {
            let leewayEnd = firstUsedAt.addingTimeInterval(reuseLeeway)
            if now > leewayEnd {
                return .revokeFamily(
                    "The refresh token was already exchanged at \(timestamp(firstUsedAt)) and was presented again after the 10-minute reuse leeway, so every refresh token of its family is now revoked; use the newest refresh token each time, and have the user authorize the app again."
                )
            }
        }
        return .rotate
    }

    /// A date as `2026-11-29T03:02:12Z` in explanations.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

extension OAuthTokenRules {
    public static let unknownRefreshToken =
        "No refresh token of this site has this value: it was never issued here, was cut short when copied, or its consent was revoked or the site was reset."
}

/// When an authorization code may be exchanged (spec 9.3), the same for every store.
public enum OAuthCodeRules {
    public static let unknown =
        "No authorization code of this site has this value: it was never issued here, was cut short when copied, or its consent was revoked."

    /// `nil` when `code` may be exchanged now by `clientId` with `redirectUri`.
    public static func refusal(_ code: AuthorizationCode, used: Bool, clientId: String, redirectUri: String, now: Date)
        -> String?
    {
        if used {
            return "The authorization code was already exchanged; a code is single-use. Start the authorization again."
        }
        if code.clientId != clientId {
            return "The authorization code was issued to client \(code.clientId), not to \(clientId)."
        }
        if now > code.expiresAt {
            return
                "The authorization code expired at \(OAuthTokenRules.timestamp(code.expiresAt)), 10 minutes after it was issued; exchange it at once."
        }
        if code.redirectUri != redirectUri {
            return
                "redirect_uri '\(redirectUri)' differs from '\(code.redirectUri)', the one the code was issued for; send exactly the same value."
        }
        return nil
    }
}

extension OAuthConsent {
    /// The scopes of a consent widened by a later one: the earlier ones first, then the new ones.
    public static func widened(_ scopes: [String], with more: [String]) -> [String] {
        var result = scopes
        for scope in more where !result.contains(scope) { result.append(scope) }
        return result
    }
}
