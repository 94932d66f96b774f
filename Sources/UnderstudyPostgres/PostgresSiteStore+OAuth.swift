import Foundation
import Logging
import PostgresNIO
import UnderstudyCore

/// The OAuth side of the PostgreSQL store. A code exchange or a refresh locks its row
/// (`SELECT … FOR UPDATE`) in one transaction, so two servers racing with the same code or refresh
/// token cannot both succeed.
extension PostgresSiteStore: OAuthStore {
    public var oauth: any OAuthStore { self }

    static let allOAuthApps: PostgresQuery =
        "SELECT client_id, name, client_secret_hash, callback_urls_json, scopes_json FROM oauth_apps ORDER BY client_id COLLATE \"C\""
    static let allConsents: PostgresQuery =
        "SELECT client_id, account_id, scopes_json FROM oauth_consents ORDER BY client_id COLLATE \"C\", account_id COLLATE \"C\""

    static func oauthApps(_ rows: PostgresRowSequence) async throws -> [OAuthApp] {
        var apps: [OAuthApp] = []
        for try await row in rows.decode((String, String, String, String, String).self) {
            apps.append(
                OAuthApp(
                    clientId: row.0, name: row.1, clientSecretHash: row.2, callbackUrls: StoredJSON.strings(row.3),
                    scopes: StoredJSON.strings(row.4)))
        }
        return apps
    }

    static func oauthConsents(_ rows: PostgresRowSequence) async throws -> [OAuthConsent] {
        var consents: [OAuthConsent] = []
        for try await row in rows.decode((String, String, String).self) {
            consents.append(OAuthConsent(clientId: row.0, accountId: row.1, scopes: StoredJSON.strings(row.2)))
        }
        return consents
    }

    static func identity(on connection: PostgresConnection, logger: Logger) async throws -> SiteIdentity? {
        for try await row in try await connection.query(
            "SELECT cloud_id, name FROM site_identity WHERE singleton = 1", logger: logger
        ).decode((String, String).self) {
            return SiteIdentity(cloudId: row.0, name: row.1)
        }
        return nil
    }

    static func upsert(_ app: OAuthApp, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO oauth_apps (client_id, name, client_secret_hash, callback_urls_json, scopes_json)
            VALUES (\(app.clientId), \(app.name), \(app.clientSecretHash), \(StoredJSON.text(of: app.callbackUrls)),
                \(StoredJSON.text(of: app.scopes)))
            ON CONFLICT (client_id) DO UPDATE SET name = excluded.name,
                client_secret_hash = excluded.client_secret_hash, callback_urls_json = excluded.callback_urls_json,
                scopes_json = excluded.scopes_json
            """, logger: logger)
    }

    static func upsert(_ consent: OAuthConsent, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO oauth_consents (client_id, account_id, scopes_json)
            VALUES (\(consent.clientId), \(consent.accountId), \(StoredJSON.text(of: consent.scopes)))
            ON CONFLICT (client_id, account_id) DO UPDATE SET scopes_json = excluded.scopes_json
            """, logger: logger)
    }

    public func oauthApp(clientId: String) async throws -> OAuthApp? {
        try await run { client, logger in
            try await Self.oauthApps(
                client.query(
                    """
                    SELECT client_id, name, client_secret_hash, callback_urls_json, scopes_json FROM oauth_apps
                    WHERE client_id = \(clientId)
                    """, logger: logger)
            ).first
        }
    }

    public func oauthApps() async throws -> [OAuthApp] {
        try await run { client, logger in try await Self.oauthApps(client.query(Self.allOAuthApps, logger: logger)) }
    }

    public func addOAuthApp(_ app: OAuthApp) async throws {
        do {
            _ = try await run { client, logger in
                try await client.query(
                    """
                    INSERT INTO oauth_apps (client_id, name, client_secret_hash, callback_urls_json, scopes_json)
                    VALUES (\(app.clientId), \(app.name), \(app.clientSecretHash),
                        \(StoredJSON.text(of: app.callbackUrls)), \(StoredJSON.text(of: app.scopes)))
                    """, logger: logger)
            }
        } catch let error where Self.sqlState(of: error)?.state == "23505" {
            throw SiteStoreError.duplicateClientId(app.clientId)
        }
    }

    public func oauthConsents() async throws -> [OAuthConsent] {
        try await run { client, logger in try await Self.oauthConsents(client.query(Self.allConsents, logger: logger)) }
    }

    public func recordConsent(_ code: AuthorizationCode) async throws {
        do {
            try await run { client, logger in
                try await client.withTransaction(logger: logger) { connection in
                    var earlier: [String] = []
                    for try await text in try await connection.query(
                        """
                        SELECT scopes_json FROM oauth_consents
                        WHERE client_id = \(code.clientId) AND account_id = \(code.accountId) FOR UPDATE
                        """, logger: logger
                    ).decode(String.self) {
                        earlier = StoredJSON.strings(text)
                    }
                    let consent = OAuthConsent(
                        clientId: code.clientId, accountId: code.accountId,
                        scopes: OAuthConsent.widened(earlier, with: code.scopes))
                    try await Self.upsert(consent, on: connection, logger: logger)
                    try await connection.query(
                        """
                        INSERT INTO oauth_codes (code_hash, client_id, account_id, redirect_uri, scopes_json, expires_at, used)
                        VALUES (\(code.codeHash), \(code.clientId), \(code.accountId), \(code.redirectUri),
                            \(StoredJSON.text(of: code.scopes)), \(Self.milliseconds(code.expiresAt)), FALSE)
                        """, logger: logger)
                }
            }
        } catch let error where Self.sqlState(of: error)?.state == "23503" {
            let constraint = Self.sqlState(of: error)?.constraint ?? ""
            if constraint.contains("account") { throw SiteStoreError.unknownAccountId(code.accountId) }
            throw SiteStoreError.unknownClientId(code.clientId)
        }
    }

    public func redeemCode(
        codeHash: String, clientId: String, redirectUri: String, now: Date, familyId: String, tokens: IssuedTokens
    ) async throws -> CodeRedemption {
        try await run { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                var found: (AuthorizationCode, Bool)?
                for try await row in try await connection.query(
                    """
                    SELECT client_id, account_id, redirect_uri, scopes_json, expires_at, used FROM oauth_codes
                    WHERE code_hash = \(codeHash) FOR UPDATE
                    """, logger: logger
                ).decode((String, String, String, String, Int64, Bool).self) {
                    found = (
                        AuthorizationCode(
                            codeHash: codeHash, clientId: row.0, accountId: row.1, redirectUri: row.2,
                            scopes: StoredJSON.strings(row.3), expiresAt: Self.date(row.4)),
                        row.5
                    )
                }
                guard let (code, used) = found else { return .refused(OAuthCodeRules.unknown) }
                if let refusal = OAuthCodeRules.refusal(
                    code, used: used, clientId: clientId, redirectUri: redirectUri, now: now)
                {
                    return .refused(refusal)
                }
                try await connection.query(
                    "UPDATE oauth_codes SET used = TRUE WHERE code_hash = \(codeHash)", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO oauth_token_families (family_id, client_id, account_id, scopes_json, started_at, last_refreshed_at)
                    VALUES (\(familyId), \(code.clientId), \(code.accountId), \(StoredJSON.text(of: code.scopes)),
                        \(Self.milliseconds(now)), \(Self.milliseconds(now)))
                    """, logger: logger)
                try await Self.insert(
                    OAuthTokenRules.kept(tokens, for: code.scopes), familyId: familyId, on: connection, logger: logger)
                return .redeemed(code)
            }
        }
    }

    public func refresh(refreshTokenHash: String, clientId: String, now: Date, tokens: IssuedTokens) async throws
        -> RefreshOutcome
    {
        try await run { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                var found: (RefreshTokenState, TokenFamily)?
                for try await row in try await connection.query(
                    """
                    SELECT r.first_used_at, f.family_id, f.client_id, f.account_id, f.scopes_json, f.started_at,
                        f.last_refreshed_at, f.revoked_at
                    FROM oauth_refresh_tokens r JOIN oauth_token_families f ON f.family_id = r.family_id
                    WHERE r.token_hash = \(refreshTokenHash) FOR UPDATE
                    """, logger: logger
                ).decode((Int64?, String, String, String, String, Int64, Int64, Int64?).self) {
                    found = (
                        RefreshTokenState(familyId: row.1, firstUsedAt: row.0.map(Self.date)),
                        TokenFamily(
                            familyId: row.1, clientId: row.2, accountId: row.3, scopes: StoredJSON.strings(row.4),
                            startedAt: Self.date(row.5), lastRefreshedAt: Self.date(row.6),
                            revokedAt: row.7.map(Self.date))
                    )
                }
                guard var (token, family) = found else { return .refused(OAuthTokenRules.unknownRefreshToken) }
                switch OAuthTokenRules.refresh(token, of: family, clientId: clientId, now: now) {
                case .refuse(let reason):
                    return .refused(reason)
                case .revokeFamily(let reason):
                    try await connection.query(
                        """
                        UPDATE oauth_token_families SET revoked_at = \(Self.milliseconds(now))
                        WHERE family_id = \(family.familyId)
                        """, logger: logger)
                    return .refused(reason)
                case .rotate:
                    if token.firstUsedAt == nil { token.firstUsedAt = now }
                    try await connection.query(
                        """
                        UPDATE oauth_refresh_tokens SET first_used_at = \(token.firstUsedAt.map(Self.milliseconds))
                        WHERE token_hash = \(refreshTokenHash)
                        """, logger: logger)
                    try await connection.query(
                        """
                        UPDATE oauth_token_families SET last_refreshed_at = \(Self.milliseconds(now))
                        WHERE family_id = \(family.familyId)
                        """, logger: logger)
                    try await Self.insert(
                        OAuthTokenRules.kept(tokens, for: family.scopes), familyId: family.familyId,
                        on: connection, logger: logger)
                    family.lastRefreshedAt = now
                    return .rotated(family)
                }
            }
        }
    }

    public func accessToken(hash: String) async throws -> AccessTokenGrant? {
        try await run { client, logger in
            for try await row in try await client.query(
                """
                SELECT f.client_id, f.account_id, f.scopes_json, a.expires_at FROM oauth_access_tokens a
                JOIN oauth_token_families f ON f.family_id = a.family_id WHERE a.token_hash = \(hash)
                """, logger: logger
            ).decode((String, String, String, Int64).self) {
                return AccessTokenGrant(
                    clientId: row.0, accountId: row.1, scopes: StoredJSON.strings(row.2), expiresAt: Self.date(row.3))
            }
            return nil
        }
    }

    public func purgeExpired(now: Date) async throws -> Int {
        let horizon = Self.milliseconds(now.addingTimeInterval(-OAuthTokenRules.retention))
        let idle = Int64(OAuthTokenRules.idleLifetime * 1000)
        let absolute = Int64(OAuthTokenRules.absoluteLifetime * 1000)
        return try await run(timeout: Self.bulkTimeout) { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                var removed = 0
                // A family's tokens go with it (ON DELETE CASCADE); they are not counted apart.
                for query: PostgresQuery in [
                    """
                    DELETE FROM oauth_token_families WHERE revoked_at < \(horizon)
                        OR last_refreshed_at + \(idle) < \(horizon) OR started_at + \(absolute) < \(horizon) RETURNING 1
                    """,
                    "DELETE FROM oauth_codes WHERE expires_at < \(horizon) RETURNING 1",
                    "DELETE FROM oauth_access_tokens WHERE expires_at < \(horizon) RETURNING 1",
                ] {
                    for try await _ in try await connection.query(query, logger: logger) { removed += 1 }
                }
                return removed
            }
        }
    }

    public func revokeConsent(clientId: String, accountId: String) async throws -> Bool {
        try await run { client, logger in
            for try await _ in try await client.query(
                """
                DELETE FROM oauth_consents WHERE client_id = \(clientId) AND account_id = \(accountId) RETURNING 1
                """, logger: logger)
            {
                return true
            }
            return false
        }
    }

    private static func insert(
        _ tokens: IssuedTokens, familyId: String, on connection: PostgresConnection, logger: Logger
    )
        async throws
    {
        try await connection.query(
            """
            INSERT INTO oauth_access_tokens (token_hash, family_id, expires_at)
            VALUES (\(tokens.accessTokenHash), \(familyId), \(milliseconds(tokens.accessTokenExpiresAt)))
            """, logger: logger)
        if let refresh = tokens.refreshTokenHash {
            try await connection.query(
                "INSERT INTO oauth_refresh_tokens (token_hash, family_id) VALUES (\(refresh), \(familyId))",
                logger: logger)
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
