import Foundation

/// The OAuth side of the in-memory store, as plain values the actor keeps (and `saveState()`
/// copies).
struct InMemoryOAuthRecords: Sendable {
    var apps: [String: OAuthApp] = [:]
    /// Keyed by `[clientId, accountId]`.
    var consents: [[String]: OAuthConsent] = [:]
    var codes: [String: (code: AuthorizationCode, used: Bool)] = [:]
    var families: [String: TokenFamily] = [:]
    var refreshTokens: [String: RefreshTokenState] = [:]
    var accessTokens: [String: (familyId: String, expiresAt: Date)] = [:]

    mutating func store(_ tokens: IssuedTokens, in familyId: String) {
        accessTokens[tokens.accessTokenHash] = (familyId, tokens.accessTokenExpiresAt)
        if let refresh = tokens.refreshTokenHash {
            refreshTokens[refresh] = RefreshTokenState(familyId: familyId, firstUsedAt: nil)
        }
    }
}

extension InMemorySiteStore: OAuthStore {
    public func oauthApp(clientId: String) -> OAuthApp? { oauthRecords.apps[clientId] }

    public func oauthApps() -> [OAuthApp] {
        oauthRecords.apps.values.sorted { Self.byteOrder($0.clientId, $1.clientId) }
    }

    public func addOAuthApp(_ app: OAuthApp) throws {
        guard oauthRecords.apps[app.clientId] == nil else { throw SiteStoreError.duplicateClientId(app.clientId) }
        oauthRecords.apps[app.clientId] = app
    }

    public func oauthConsents() -> [OAuthConsent] {
        oauthRecords.consents.values.sorted {
            ($0.clientId, $0.accountId) == ($1.clientId, $1.accountId)
                ? false
                : $0.clientId == $1.clientId
                    ? Self.byteOrder($0.accountId, $1.accountId) : Self.byteOrder($0.clientId, $1.clientId)
        }
    }

    public func recordConsent(_ code: AuthorizationCode) throws {
        guard oauthRecords.apps[code.clientId] != nil else { throw SiteStoreError.unknownClientId(code.clientId) }
        guard user(accountId: code.accountId) != nil else { throw SiteStoreError.unknownAccountId(code.accountId) }
        let key = [code.clientId, code.accountId]
        var consent =
            oauthRecords.consents[key] ?? OAuthConsent(clientId: code.clientId, accountId: code.accountId, scopes: [])
        consent.scopes = OAuthConsent.widened(consent.scopes, with: code.scopes)
        oauthRecords.consents[key] = consent
        oauthRecords.codes[code.codeHash] = (code, false)
    }

    public func redeemCode(
        codeHash: String, clientId: String, redirectUri: String, now: Date, familyId: String, tokens: IssuedTokens
    ) -> CodeRedemption {
        guard let (code, used) = oauthRecords.codes[codeHash] else {
            return .refused(OAuthCodeRules.unknown)
        }
        if let refusal = OAuthCodeRules.refusal(
            code, used: used, clientId: clientId, redirectUri: redirectUri, now: now)
        {
            return .refused(refusal)
        }
        oauthRecords.codes[codeHash] = (code, true)
        oauthRecords.families[familyId] = TokenFamily(
            familyId: familyId, clientId: code.clientId, accountId: code.accountId, scopes: code.scopes,
            startedAt: now, lastRefreshedAt: now)
        oauthRecords.store(OAuthTokenRules.kept(tokens, for: code.scopes), in: familyId)
        return .redeemed(code)
    }

    public func refresh(refreshTokenHash: String, clientId: String, now: Date, tokens: IssuedTokens) -> RefreshOutcome {
        guard var token = oauthRecords.refreshTokens[refreshTokenHash],
            var family = oauthRecords.families[token.familyId]
        else {
            return .refused(OAuthTokenRules.unknownRefreshToken)
        }
        switch OAuthTokenRules.refresh(token, of: family, clientId: clientId, now: now) {
        case .refuse(let reason):
            return .refused(reason)
        case .revokeFamily(let reason):
            family.revokedAt = now
            oauthRecords.families[family.familyId] = family
            return .refused(reason)
        case .rotate:
            if token.firstUsedAt == nil { token.firstUsedAt = now }
            oauthRecords.refreshTokens[refreshTokenHash] = token
            family.lastRefreshedAt = now
            oauthRecords.families[family.familyId] = family
            oauthRecords.store(OAuthTokenRules.kept(tokens, for: family.scopes), in: family.familyId)
            return .rotated(family)
        }
    }

    public func accessToken(hash: String) -> AccessTokenGrant? {
        guard let (familyId, expiresAt) = oauthRecords.accessTokens[hash], let family = oauthRecords.families[familyId]
        else {
            return nil
        }
        return AccessTokenGrant(
            clientId: family.clientId, accountId: family.accountId, scopes: family.scopes, expiresAt: expiresAt)
    }

    public func purgeExpired(now: Date) -> Int {
        let horizon = now.addingTimeInterval(-OAuthTokenRules.retention)
        let codes = oauthRecords.codes.count
        oauthRecords.codes = oauthRecords.codes.filter { $0.value.code.expiresAt >= horizon }
        // A family's tokens go with it and are not counted apart, as in the database stores.
        let dead = Set(
            oauthRecords.families.values.filter { OAuthTokenRules.isPurgeable($0, now: now) }.map(\.familyId))
        oauthRecords.families = oauthRecords.families.filter { !dead.contains($0.key) }
        oauthRecords.refreshTokens = oauthRecords.refreshTokens.filter { !dead.contains($0.value.familyId) }
        oauthRecords.accessTokens = oauthRecords.accessTokens.filter { !dead.contains($0.value.familyId) }
        let tokens = oauthRecords.accessTokens.count
        oauthRecords.accessTokens = oauthRecords.accessTokens.filter { $0.value.expiresAt >= horizon }
        return codes - oauthRecords.codes.count + dead.count + tokens - oauthRecords.accessTokens.count
    }

    public func revokeConsent(clientId: String, accountId: String) -> Bool {
        guard oauthRecords.consents.removeValue(forKey: [clientId, accountId]) != nil else { return false }
        let families = Set(
            oauthRecords.families.values.filter { $0.clientId == clientId && $0.accountId == accountId }.map(\.familyId)
        )
        oauthRecords.families = oauthRecords.families.filter { !families.contains($0.key) }
        oauthRecords.refreshTokens = oauthRecords.refreshTokens.filter { !families.contains($0.value.familyId) }
        oauthRecords.accessTokens = oauthRecords.accessTokens.filter { !families.contains($0.value.familyId) }
        oauthRecords.codes = oauthRecords.codes.filter {
            !($0.value.code.clientId == clientId && $0.value.code.accountId == accountId)
        }
        return true
    }
}
