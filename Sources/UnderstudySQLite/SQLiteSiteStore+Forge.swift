import Foundation
import UnderstudyCore

/// The Forge side of the SQLite store: apps with their app users, and minted tokens.
extension SQLiteSiteStore: ForgeStore {
    public var forge: any ForgeStore { self }

    public func forgeApps() async throws -> [ForgeApp] {
        try readers.query(ForgeRows.allApps, []).map(ForgeRows.app)
    }

    public func forgeApp(appId: String) async throws -> ForgeApp? {
        try readers.query(ForgeRows.appByAppId, [.text(appId)]).first.map(ForgeRows.app)
    }

    public func forgeApp(installationId: String) async throws -> ForgeApp? {
        try readers.query(ForgeRows.appByInstallationId, [.text(installationId)]).first.map(ForgeRows.app)
    }

    public func addForgeApp(_ app: ForgeApp) async throws {
        try await writer.write { connection in
            if try !connection.query(ForgeRows.appByAppId, [.text(app.appId)]).isEmpty {
                throw SiteStoreError.duplicateAppId(app.appId)
            }
            if try !connection.query(Rows.userByAccountId, [.text(app.accountId)]).isEmpty {
                throw SiteStoreError.duplicateAccountId(app.accountId)
            }
            try ForgeRows.install(app, on: connection)
        }
    }

    public func recordForgeToken(_ token: ForgeToken) async throws {
        try await writer.write { connection in
            guard try !connection.query(ForgeRows.appByAppId, [.text(token.appId)]).isEmpty else {
                throw SiteStoreError.unknownAppId(token.appId)
            }
            guard try !connection.query(Rows.userByAccountId, [.text(token.accountId)]).isEmpty else {
                throw SiteStoreError.unknownAccountId(token.accountId)
            }
            try connection.query(
                "INSERT INTO forge_tokens (token_hash, app_id, account_id, expires_at) VALUES (?, ?, ?, ?)",
                [.text(token.tokenHash), .text(token.appId), .text(token.accountId), OAuthRows.time(token.expiresAt)])
        }
    }

    public func forgeToken(hash: String) async throws -> ForgeToken? {
        try readers.query("SELECT app_id, account_id, expires_at FROM forge_tokens WHERE token_hash = ?", [.text(hash)])
            .first.map {
                ForgeToken(
                    tokenHash: hash, appId: $0[0].text ?? "", accountId: $0[1].text ?? "",
                    expiresAt: OAuthRows.date($0[2]) ?? .distantPast)
            }
    }

    public func purgeExpiredForgeTokens(now: Date) async throws -> Int {
        let horizon = now.addingTimeInterval(-OAuthTokenRules.retention)
        return try await writer.write { connection in
            try connection.query("DELETE FROM forge_tokens WHERE expires_at < ? RETURNING 1", [OAuthRows.time(horizon)])
                .count
        }
    }
}

/// The SQL for Forge apps, and the conversion between their rows and `ForgeApp`.
enum ForgeRows {
    private static let appColumns = "app_id, name, scopes_json, installation_id, connect_key, account_id, ui_json"
    static let appByAppId = "SELECT \(appColumns) FROM forge_apps WHERE app_id = ?"
    static let appByInstallationId = "SELECT \(appColumns) FROM forge_apps WHERE installation_id = ?"
    static let allApps = "SELECT \(appColumns) FROM forge_apps ORDER BY app_id"

    static func app(_ row: [SQLValue]) -> ForgeApp {
        var app = ForgeApp(
            appId: row[0].text ?? "", name: row[1].text ?? "", scopes: StoredJSON.strings(row[2].text),
            installationId: row[3].text ?? "", connectKey: row[4].text, accountId: row[5].text ?? "")
        app.setCustomUI(json: StoredJSON.value(row[6].text))
        return app
    }

    /// Upserts the app and its app user (derived from the app), inside the caller's transaction.
    static func install(_ app: ForgeApp, on connection: RawConnection) throws {
        if try !connection.query(
            "SELECT 1 FROM forge_apps WHERE installation_id = ? AND app_id <> ?",
            [.text(app.installationId), .text(app.appId)]
        ).isEmpty {
            throw SiteStoreError.duplicateInstallationId(app.installationId)
        }
        if try connection.query(Rows.userByAccountId, [.text(app.accountId)]).first.map(Rows.user)?.accountType
            == .atlassian
        {
            throw SiteStoreError.duplicateAccountId(app.accountId)
        }
        try Rows.upsert(app.appUser, on: connection)
        try connection.query(
            """
            INSERT INTO forge_apps (\(appColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (app_id) DO UPDATE SET name = excluded.name, scopes_json = excluded.scopes_json,
                installation_id = excluded.installation_id, connect_key = excluded.connect_key,
                account_id = excluded.account_id, ui_json = excluded.ui_json
            """,
            [
                .text(app.appId), .text(app.name), .text(StoredJSON.text(of: app.scopes)), .text(app.installationId),
                app.connectKey.map { .text($0) } ?? .null, .text(app.accountId),
                app.customUIJSON.map { .text($0.jsonText) } ?? .null,
            ])
    }
}
