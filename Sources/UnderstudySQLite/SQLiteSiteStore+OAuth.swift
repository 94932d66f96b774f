import Foundation
import UnderstudyCore

/// The OAuth side of the SQLite store: every change runs on the writer's connection in one
/// transaction, so a code is exchanged once and a refresh token rotates once however many requests
/// race.
extension SQLiteSiteStore: OAuthStore {
    public var oauth: any OAuthStore { self }

    public func oauthApp(clientId: String) async throws -> OAuthApp? {
        try readers.query(OAuthRows.appByClientId, [.text(clientId)]).first.map(OAuthRows.app)
    }

    public func oauthApps() async throws -> [OAuthApp] {
        try readers.query(OAuthRows.allApps, []).map(OAuthRows.app)
    }

    public func addOAuthApp(_ app: OAuthApp) async throws {
        try await writer.write { connection in
            if try !connection.query(OAuthRows.appByClientId, [.text(app.clientId)]).isEmpty {
                throw SiteStoreError.duplicateClientId(app.clientId)
            }
            try OAuthRows.upsert(app, on: connection)
        }
    }

    public func oauthConsents() async throws -> [OAuthConsent] {
        try readers.query(OAuthRows.allConsents, []).map(OAuthRows.consent)
    }

    public func recordConsent(_ code: AuthorizationCode) async throws {
        try await writer.write { connection in
            guard try !connection.query(OAuthRows.appByClientId, [.text(code.clientId)]).isEmpty else {
                throw SiteStoreError.unknownClientId(code.clientId)
            }
            guard try !connection.query(Rows.userByAccountId, [.text(code.accountId)]).isEmpty else {
                throw SiteStoreError.unknownAccountId(code.accountId)
            }
            let earlier = try connection.query(
                "SELECT scopes_json FROM oauth_consents WHERE client_id = ? AND account_id = ?",
                [.text(code.clientId), .text(code.accountId)]
            ).first.map { StoredJSON.strings($0[0].text) }
            let consent = OAuthConsent(
                clientId: code.clientId, accountId: code.accountId,
                scopes: OAuthConsent.widened(earlier ?? [], with: code.scopes))
            try OAuthRows.upsert(consent, on: connection)
            try connection.query(
                """
                INSERT INTO oauth_codes (code_hash, client_id, account_id, redirect_uri, scopes_json, expires_at, used)
                VALUES (?, ?, ?, ?, ?, ?, 0)
                """,
                [
                    .text(code.codeHash), .text(code.clientId), .text(code.accountId), .text(code.redirectUri),
                    .text(StoredJSON.text(of: code.scopes)), OAuthRows.time(code.expiresAt),
                ])
        }
    }

    public func redeemCode(
        codeHash: String, clientId: String, redirectUri: String, now: Date, familyId: String, tokens: IssuedTokens
    ) async throws -> CodeRedemption {
        try await writer.write { connection in
            guard
                let row = try connection.query(
                    "SELECT client_id, account_id, redirect_uri, scopes_json, expires_at, used FROM oauth_codes WHERE code_hash = ?",
                    [.text(codeHash)]
                ).first
            else { return .refused(OAuthCodeRules.unknown) }
            let code = AuthorizationCode(
                codeHash: codeHash, clientId: row[0].text ?? "", accountId: row[1].text ?? "",
                redirectUri: row[2].text ?? "", scopes: StoredJSON.strings(row[3].text),
                expiresAt: OAuthRows.date(row[4]) ?? .distantPast)
            if let refusal = OAuthCodeRules.refusal(
                code, used: row[5].integer == 1, clientId: clientId, redirectUri: redirectUri, now: now)
            {
                return .refused(refusal)
            }
            try connection.query("UPDATE oauth_codes SET used = 1 WHERE code_hash = ?", [.text(codeHash)])
            try connection.query(
                """
                INSERT INTO oauth_token_families (family_id, client_id, account_id, scopes_json, started_at, last_refreshed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(familyId), .text(code.clientId), .text(code.accountId),
                    .text(StoredJSON.text(of: code.scopes)), OAuthRows.time(now), OAuthRows.time(now),
                ])
            try OAuthRows.insert(OAuthTokenRules.kept(tokens, for: code.scopes), familyId: familyId, on: connection)
            return .redeemed(code)
        }
    }

    public func refresh(refreshTokenHash: String, clientId: String, now: Date, tokens: IssuedTokens) async throws
        -> RefreshOutcome
    {
        try await writer.write { connection in
            guard
                let row = try connection.query(
                    """
                    SELECT r.first_used_at, \(OAuthRows.familyColumns) FROM oauth_refresh_tokens r
                    JOIN oauth_token_families f ON f.family_id = r.family_id WHERE r.token_hash = ?
                    """,
                    [.text(refreshTokenHash)]
                ).first
            else { return .refused(OAuthTokenRules.unknownRefreshToken) }
            var family = OAuthRows.family(Array(row.dropFirst()))
            let token = RefreshTokenState(familyId: family.familyId, firstUsedAt: OAuthRows.date(row[0]))
            switch OAuthTokenRules.refresh(token, of: family, clientId: clientId, now: now) {
            case .refuse(let reason):
                return .refused(reason)
            case .revokeFamily(let reason):
                try connection.query(
                    "UPDATE oauth_token_families SET revoked_at = ? WHERE family_id = ?",
                    [OAuthRows.time(now), .text(family.familyId)])
                return .refused(reason)
            case .rotate:
                try connection.query(
                    "UPDATE oauth_refresh_tokens SET first_used_at = coalesce(first_used_at, ?) WHERE token_hash = ?",
                    [OAuthRows.time(now), .text(refreshTokenHash)])
                try connection.query(
                    "UPDATE oauth_token_families SET last_refreshed_at = ? WHERE family_id = ?",
                    [OAuthRows.time(now), .text(family.familyId)])
                try OAuthRows.insert(
                    OAuthTokenRules.kept(tokens, for: family.scopes), familyId: family.familyId, on: connection)
                family.lastRefreshedAt = now
                return .rotated(family)
            }
        }
    }

    public func accessToken(hash: String) async throws -> AccessTokenGrant? {
        try readers.query(
            """
            SELECT f.client_id, f.account_id, f.scopes_json, a.expires_at FROM oauth_access_tokens a
            JOIN oauth_token_families f ON f.family_id = a.family_id WHERE a.token_hash = ?
            """,
            [.text(hash)]
        ).first.map {
            AccessTokenGrant(
                clientId: $0[0].text ?? "", accountId: $0[1].text ?? "", scopes: StoredJSON.strings($0[2].text),
                expiresAt: OAuthRows.date($0[3]) ?? .distantPast)
        }
    }

    public func purgeExpired(now: Date) async throws -> Int {
        let horizon = now.addingTimeInterval(-OAuthTokenRules.retention)
        return try await writer.write { connection in
            // A family's tokens go with it (ON DELETE CASCADE); they are not counted apart.
            let families = try connection.query(
                """
                DELETE FROM oauth_token_families WHERE revoked_at < ?1 OR last_refreshed_at + ?2 < ?1
                    OR started_at + ?3 < ?1 RETURNING 1
                """,
                [
                    OAuthRows.time(horizon), .integer(Int64(OAuthTokenRules.idleLifetime * 1000)),
                    .integer(Int64(OAuthTokenRules.absoluteLifetime * 1000)),
                ]
            ).count
            let codes = try connection.query(
                "DELETE FROM oauth_codes WHERE expires_at < ? RETURNING 1", [OAuthRows.time(horizon)]
            ).count
            let tokens = try connection.query(
                "DELETE FROM oauth_access_tokens WHERE expires_at < ? RETURNING 1", [OAuthRows.time(horizon)]
            ).count
            return families + codes + tokens
        }
    }

    public func revokeConsent(clientId: String, accountId: String) async throws -> Bool {
        // Codes, families and their tokens go with the consent (ON DELETE CASCADE).
        try await writer.write { connection in
            try !connection.query(
                "DELETE FROM oauth_consents WHERE client_id = ? AND account_id = ? RETURNING 1",
                [.text(clientId), .text(accountId)]
            ).isEmpty
        }
    }
}

/// The SQL of the OAuth tables and the conversion between their rows and the domain types. Times
/// are integer milliseconds since 1970.
enum OAuthRows {
    private static let appColumns = "client_id, name, client_secret_hash, callback_urls_json, scopes_json"
    static let appByClientId = "SELECT \(appColumns) FROM oauth_apps WHERE client_id = ?"
    static let allApps = "SELECT \(appColumns) FROM oauth_apps ORDER BY client_id"
    static let allConsents =
        "SELECT client_id, account_id, scopes_json FROM oauth_consents ORDER BY client_id, account_id"
    static let familyColumns =
        "f.family_id, f.client_id, f.account_id, f.scopes_json, f.started_at, f.last_refreshed_at, f.revoked_at"
    static let identity = "SELECT cloud_id, name FROM site_identity WHERE singleton = 1"

    static func app(_ row: [SQLValue]) -> OAuthApp {
        OAuthApp(
            clientId: row[0].text ?? "", name: row[1].text ?? "", clientSecretHash: row[2].text ?? "",
            callbackUrls: StoredJSON.strings(row[3].text), scopes: StoredJSON.strings(row[4].text))
    }

    static func consent(_ row: [SQLValue]) -> OAuthConsent {
        OAuthConsent(clientId: row[0].text ?? "", accountId: row[1].text ?? "", scopes: StoredJSON.strings(row[2].text))
    }

    static func family(_ row: [SQLValue]) -> TokenFamily {
        TokenFamily(
            familyId: row[0].text ?? "", clientId: row[1].text ?? "", accountId: row[2].text ?? "",
            scopes: StoredJSON.strings(row[3].text), startedAt: date(row[4]) ?? .distantPast,
            lastRefreshedAt: date(row[5]) ?? .distantPast, revokedAt: date(row[6]))
    }

    static func time(_ date: Date) -> SQLValue { .integer(Int64((date.timeIntervalSince1970 * 1000).rounded())) }

    static func date(_ value: SQLValue) -> Date? {
        value.integer.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    static func upsert(_ app: OAuthApp, on connection: RawConnection) throws {
        try connection.query(
            """
            INSERT INTO oauth_apps (\(appColumns)) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (client_id) DO UPDATE SET name = excluded.name,
                client_secret_hash = excluded.client_secret_hash, callback_urls_json = excluded.callback_urls_json,
                scopes_json = excluded.scopes_json
            """,
            [
                .text(app.clientId), .text(app.name), .text(app.clientSecretHash),
                .text(StoredJSON.text(of: app.callbackUrls)), .text(StoredJSON.text(of: app.scopes)),
            ])
    }

    static func upsert(_ consent: OAuthConsent, on connection: RawConnection) throws {
        try connection.query(
            """
            INSERT INTO oauth_consents (client_id, account_id, scopes_json) VALUES (?, ?, ?)
            ON CONFLICT (client_id, account_id) DO UPDATE SET scopes_json = excluded.scopes_json
            """,
            [.text(consent.clientId), .text(consent.accountId), .text(StoredJSON.text(of: consent.scopes))])
    }

    static func upsert(_ identity: SiteIdentity, on connection: RawConnection) throws {
        try connection.query(
            """
            INSERT INTO site_identity (singleton, cloud_id, name) VALUES (1, ?, ?)
            ON CONFLICT (singleton) DO UPDATE SET cloud_id = excluded.cloud_id, name = excluded.name
            """,
            [.text(identity.cloudId), .text(identity.name)])
    }

    static func insert(_ tokens: IssuedTokens, familyId: String, on connection: RawConnection) throws {
        try connection.query(
            "INSERT INTO oauth_access_tokens (token_hash, family_id, expires_at) VALUES (?, ?, ?)",
            [.text(tokens.accessTokenHash), .text(familyId), time(tokens.accessTokenExpiresAt)])
        if let refresh = tokens.refreshTokenHash {
            try connection.query(
                "INSERT INTO oauth_refresh_tokens (token_hash, family_id, first_used_at) VALUES (?, ?, NULL)",
                [.text(refresh), .text(familyId)])
        }
    }
}
