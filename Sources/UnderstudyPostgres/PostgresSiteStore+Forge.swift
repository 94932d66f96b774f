import Foundation
import Logging
import PostgresNIO
import UnderstudyCore

/// The Forge side of the PostgreSQL store: apps with their app users, and minted tokens. A token is
/// read from the database on every use, so one minted through any server works on all of them.
extension PostgresSiteStore: ForgeStore {
    public var forge: any ForgeStore { self }

    private static let forgeAppColumns =
        "app_id, name, scopes_json, installation_id, connect_key, account_id, ui_json"
    static let allForgeApps: PostgresQuery =
        "SELECT \(unescaped: forgeAppColumns) FROM forge_apps ORDER BY app_id COLLATE \"C\""

    static func forgeApps(_ rows: PostgresRowSequence) async throws -> [ForgeApp] {
        var apps: [ForgeApp] = []
        for try await row in rows.decode((String, String, String, String, String?, String, String?).self) {
            var app = ForgeApp(
                appId: row.0, name: row.1, scopes: StoredJSON.strings(row.2), installationId: row.3,
                connectKey: row.4, accountId: row.5)
            app.setCustomUI(json: StoredJSON.value(row.6))
            apps.append(app)
        }
        return apps
    }

    /// Upserts the app and its app user (derived from the app), inside the caller's transaction;
    /// without `replacing`, an app with the same appId is refused by the primary key instead.
    static func install(
        _ app: ForgeApp, on connection: PostgresConnection, logger: Logger, replacing: Bool = true
    ) async throws {
        for try await _ in try await connection.query(
            "SELECT 1 FROM forge_apps WHERE installation_id = \(app.installationId) AND app_id <> \(app.appId)",
            logger: logger)
        {
            throw SiteStoreError.duplicateInstallationId(app.installationId)
        }
        if try await userByAccountId(app.accountId, on: connection, logger: logger)?.accountType == .atlassian {
            throw SiteStoreError.duplicateAccountId(app.accountId)
        }
        try await insert(app.appUser, on: connection, logger: logger, replacing: true)
        try await connection.query(
            """
            INSERT INTO forge_apps (\(unescaped: forgeAppColumns))
            VALUES (\(app.appId), \(app.name), \(StoredJSON.text(of: app.scopes)), \(app.installationId),
                \(app.connectKey), \(app.accountId), \(app.customUIJSON?.jsonText))
            \(unescaped: replacing ? replaceForgeApp : "")
            """, logger: logger)
    }

    private static let replaceForgeApp = """
        ON CONFLICT (app_id) DO UPDATE SET name = excluded.name, scopes_json = excluded.scopes_json,
            installation_id = excluded.installation_id, connect_key = excluded.connect_key,
            account_id = excluded.account_id, ui_json = excluded.ui_json
        """

    public func forgeApps() async throws -> [ForgeApp] {
        try await run { client, logger in try await Self.forgeApps(client.query(Self.allForgeApps, logger: logger)) }
    }

    public func forgeApp(appId: String) async throws -> ForgeApp? {
        try await run { client, logger in
            try await Self.forgeApps(
                client.query(
                    "SELECT \(unescaped: Self.forgeAppColumns) FROM forge_apps WHERE app_id = \(appId)", logger: logger)
            ).first
        }
    }

    public func forgeApp(installationId: String) async throws -> ForgeApp? {
        try await run { client, logger in
            try await Self.forgeApps(
                client.query(
                    "SELECT \(unescaped: Self.forgeAppColumns) FROM forge_apps WHERE installation_id = \(installationId)",
                    logger: logger)
            ).first
        }
    }

    public func addForgeApp(_ app: ForgeApp) async throws {
        do {
            try await run { client, logger in
                try await client.withTransaction(logger: logger) { connection in
                    for try await _ in try await connection.query(
                        "SELECT 1 FROM forge_apps WHERE app_id = \(app.appId)", logger: logger)
                    {
                        throw SiteStoreError.duplicateAppId(app.appId)
                    }
                    if try await Self.userByAccountId(app.accountId, on: connection, logger: logger) != nil {
                        throw SiteStoreError.duplicateAccountId(app.accountId)
                    }
                    try await Self.install(app, on: connection, logger: logger, replacing: false)
                }
            }
        } catch let error where Self.sqlState(of: error)?.state == "23505" {
            // Another server added the same app, installation or app user between the checks above
            // and the inserts: the constraints decide, and say which.
            switch Self.sqlState(of: error)?.constraint {
            case "forge_apps_pkey": throw SiteStoreError.duplicateAppId(app.appId)
            case "forge_apps_installation_id_key": throw SiteStoreError.duplicateInstallationId(app.installationId)
            default: throw SiteStoreError.duplicateAccountId(app.accountId)
            }
        }
    }

    public func recordForgeToken(_ token: ForgeToken) async throws {
        do {
            _ = try await run { client, logger in
                try await client.query(
                    """
                    INSERT INTO forge_tokens (token_hash, app_id, account_id, expires_at)
                    VALUES (\(token.tokenHash), \(token.appId), \(token.accountId), \(Self.milliseconds(token.expiresAt)))
                    """, logger: logger)
            }
        } catch let error where Self.sqlState(of: error)?.state == "23503" {
            if Self.sqlState(of: error)?.constraint?.contains("account") == true {
                throw SiteStoreError.unknownAccountId(token.accountId)
            }
            throw SiteStoreError.unknownAppId(token.appId)
        }
    }

    public func forgeToken(hash: String) async throws -> ForgeToken? {
        try await run { client, logger in
            for try await row in try await client.query(
                "SELECT app_id, account_id, expires_at FROM forge_tokens WHERE token_hash = \(hash)", logger: logger
            ).decode((String, String, Int64).self) {
                return ForgeToken(tokenHash: hash, appId: row.0, accountId: row.1, expiresAt: Self.date(row.2))
            }
            return nil
        }
    }

    public func purgeExpiredForgeTokens(now: Date) async throws -> Int {
        let horizon = Self.milliseconds(now.addingTimeInterval(-OAuthTokenRules.retention))
        return try await run { client, logger in
            var count = 0
            for try await _ in try await client.query(
                "DELETE FROM forge_tokens WHERE expires_at < \(horizon) RETURNING 1", logger: logger)
            {
                count += 1
            }
            return count
        }
    }
}
