import Foundation
import Synchronization
import UnderstudyCore

/// The embedded default store: one SQLite file in WAL mode. Writes go through one connection on a
/// thread of its own with group commit (`SQLiteWriter`); reads run on the caller's thread on one of
/// a few reader connections with prepared statements (`ReaderPool`): a point read in WAL mode never
/// waits behind a write and takes microseconds, less than handing it to another thread would.
///
/// SQLite comes from sqlite-nio, chosen over GRDB because, measured on the target machine, Basic auth
/// plus a point read reached 0.53 of Hummingbird's no-op ceiling with it against 0.29 with GRDB's
/// pooled reads, and because it bundles its own SQLite, so a fresh machine needs no system library.
/// Understudy now calls that bundled SQLite's C API directly: reusing prepared statements and
/// skipping the hop to a thread pool per statement took PUT from 0.11 to 0.37 of the ceiling
/// (BENCHMARKS.md).
public final class SQLiteSiteStore: SiteStore {
    let writer: SQLiteWriter
    let readers: ReaderPool
    public let path: String

    /// Why a database cannot be opened, in one line for the command line.
    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens (creating if needed, readable by its owner only) and migrates the database at `path`.
    public static func open(path: String, readerCount: Int = 4) async throws -> SQLiteSiteStore {
        try createPrivately(path: path)
        let writer: SQLiteWriter
        do {
            writer = try SQLiteWriter(path: path) { connection in
                try connection.execute("PRAGMA journal_mode = WAL")
                // NORMAL in WAL mode: a committed write survives a crash of this process (the WAL
                // is written before the commit returns); only a power loss may lose the last commits.
                try connection.execute("PRAGMA synchronous = NORMAL")
                try connection.execute("PRAGMA foreign_keys = ON")
                try connection.execute("PRAGMA busy_timeout = 5000")
                try migrate(connection)
            }
        } catch {
            throw OpenError(description: "cannot use the database \(path): \(error)")
        }
        do {
            return SQLiteSiteStore(path: path, writer: writer, readers: try ReaderPool(path: path, count: readerCount))
        } catch {
            await writer.close()
            throw OpenError(description: "cannot open the database \(path): \(error)")
        }
    }

    private init(path: String, writer: SQLiteWriter, readers: ReaderPool) {
        self.path = path
        self.writer = writer
        self.readers = readers
    }

    private static func createPrivately(path: String) throws {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: path) else { return }
        guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw OpenError(
                description: "cannot create the database file \(path): the directory is missing or not writable")
        }
    }

    /// Runs the migrations not yet applied, in one immediate transaction, so that two processes
    /// starting on one file at once do not both migrate.
    private static func migrate(_ connection: RawConnection) throws {
        try connection.execute("BEGIN IMMEDIATE")
        do {
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY NOT NULL, applied_at TEXT NOT NULL)"
            )
            let applied =
                try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first?
                .first?.integer ?? 0
            for (index, statements) in Migrations.all.enumerated() where index + 1 > applied {
                for statement in statements { try connection.execute(statement) }
                try connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?, datetime('now'))",
                    [.integer(Int64(index + 1))])
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    private func read(_ sql: String, _ binds: [SQLValue]) throws -> [[SQLValue]] {
        try readers.query(sql, binds)
    }

    // MARK: Users and apps

    public func isEmpty() async throws -> Bool {
        try read("SELECT 1 FROM users LIMIT 1", []).isEmpty
    }

    public func user(accountId: String) async throws -> User? {
        try read(Rows.userByAccountId, [.text(accountId)]).first.map(Rows.user)
    }

    public func user(emailAddress: String) async throws -> User? {
        try read(Rows.userByEmail, [.text(emailAddress)]).first.map(Rows.user)
    }

    public func app(key: String) async throws -> ConnectApp? {
        try read(Rows.appByKey, [.text(key)]).first.map(Rows.app)
    }

    public func app(clientKey: String) async throws -> ConnectApp? {
        try read(Rows.appByClientKey, [.text(clientKey)]).first.map(Rows.app)
    }

    public func siteIdentity() async throws -> SiteIdentity? {
        try read(OAuthRows.identity, []).first.map { SiteIdentity(cloudId: $0[0].text ?? "", name: $0[1].text ?? "") }
    }

    public func addUser(_ user: User) async throws {
        try await writer.write { connection in
            if try !connection.query(Rows.userByAccountId, [.text(user.accountId)]).isEmpty {
                throw SiteStoreError.duplicateAccountId(user.accountId)
            }
            if let email = user.emailAddress, try !connection.query(Rows.userByEmail, [.text(email)]).isEmpty {
                throw SiteStoreError.duplicateEmailAddress(email)
            }
            try Rows.upsert(user, on: connection)
        }
    }

    public func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) async throws -> User {
        try await writer.write { connection in
            guard let found = try connection.query(Rows.userByEmail, [.text(emailAddress)]).first.map(Rows.user) else {
                throw SiteStoreError.unknownEmailAddress(emailAddress)
            }
            let user = found.adding(tokenHash: hash, scopes: scopes)
            try Rows.upsert(user, on: connection)
            return user
        }
    }

    public func load(_ site: Site) async throws {
        try await writer.write { try Self.load(site, on: $0) }
    }

    public func replace(with site: Site) async throws {
        try await writer.write { connection in
            // Consents, codes and tokens go with their users and OAuth apps (ON DELETE CASCADE).
            for table in ["app_properties", "user_properties", "apps", "oauth_apps", "forge_apps", "users"] {
                try connection.execute("DELETE FROM \(table)")
            }
            try Self.load(site, on: connection)
        }
    }

    /// Every table of the site, parents before children.
    private static let tables = [
        "site_identity", "users", "apps", "user_properties", "app_properties", "oauth_apps", "oauth_consents",
        "oauth_codes", "oauth_token_families", "oauth_refresh_tokens", "oauth_access_tokens", "forge_apps",
        "forge_tokens",
    ]

    /// Copies every table into a temporary table of the writer's connection: nothing in the file,
    /// no site in process memory, and a restore is one `INSERT … SELECT` per table.
    public func saveState() async throws {
        try await writer.write { connection in
            for table in Self.tables {
                try connection.execute("DROP TABLE IF EXISTS temp.saved_\(table)")
                try connection.execute("CREATE TEMP TABLE saved_\(table) AS SELECT * FROM main.\(table)")
            }
        }
    }

    public func restoreSavedState() async throws {
        try await writer.write { connection in
            for table in Self.tables.reversed() { try connection.execute("DELETE FROM main.\(table)") }
            let saved =
                try connection.query(
                    "SELECT count(*) FROM temp.sqlite_master WHERE name = 'saved_users'"
                ).first?.first?.integer == 1
            guard saved else { return }
            for table in Self.tables {
                try connection.execute("INSERT INTO main.\(table) SELECT * FROM temp.saved_\(table)")
            }
        }
    }

    /// Read on the writer's connection, between two writes, so the snapshot is consistent.
    public func snapshot() async throws -> Site {
        try await writer.write { connection in
            let users = try connection.query(Rows.allUsers).map(Rows.user)
            return Site(
                identity: try connection.query(OAuthRows.identity).first.map {
                    SiteIdentity(cloudId: $0[0].text ?? "", name: $0[1].text ?? "")
                },
                users: users.filter { $0.accountType == .atlassian },
                apps: try connection.query(Rows.allApps).map(Rows.app),
                appUsers: users.filter { $0.accountType == .app },
                userProperties: try connection.query(PropertyTable.user.everythingSQL).map {
                    UserPropertyRecord(
                        accountId: $0[0].text ?? "", key: $0[1].text ?? "",
                        value: PropertyValue(storedJSONText: $0[2].text ?? "null"))
                },
                appProperties: try connection.query(PropertyTable.app.everythingSQL).map {
                    AppPropertyRecord(
                        appKey: $0[0].text ?? "", key: $0[1].text ?? "",
                        value: PropertyValue(storedJSONText: $0[2].text ?? "null"))
                },
                oauthApps: try connection.query(OAuthRows.allApps).map(OAuthRows.app),
                oauthConsents: try connection.query(OAuthRows.allConsents).map(OAuthRows.consent),
                forgeApps: try connection.query(ForgeRows.allApps).map(ForgeRows.app))
        }
    }

    /// Upserts a site on the writer's connection, inside the caller's transaction.
    private static func load(_ site: Site, on connection: RawConnection) throws {
        for user in site.users + site.appUsers {
            var merged = user
            if let previous = try connection.query(Rows.userByAccountId, [.text(user.accountId)]).first.map(
                Rows.user)
            {
                guard previous.accountType == user.accountType else {
                    throw SiteStoreError.duplicateAccountId(user.accountId)
                }
                merged = user.keepingAPITokens(of: previous)
            }
            if let email = user.emailAddress,
                try !connection.query(
                    "SELECT 1 FROM users WHERE email_address = ? AND account_id <> ?",
                    [.text(email), .text(user.accountId)]
                ).isEmpty
            {
                throw SiteStoreError.duplicateEmailAddress(email)
            }
            try Rows.upsert(merged, on: connection)
        }
        for app in site.apps {
            if try !connection.query(
                "SELECT 1 FROM apps WHERE client_key = ? AND app_key <> ?", [.text(app.clientKey), .text(app.key)]
            ).isEmpty {
                throw SiteStoreError.duplicateClientKey(app.clientKey)
            }
            try Rows.upsert(app, on: connection)
        }
        for property in site.userProperties {
            _ = try PropertyTable.user.upsert(
                owner: property.accountId, key: property.key, value: property.value, on: connection)
        }
        for property in site.appProperties {
            _ = try PropertyTable.app.upsert(
                owner: property.appKey, key: property.key, value: property.value, on: connection)
        }
        if let identity = site.identity { try OAuthRows.upsert(identity, on: connection) }
        for app in site.oauthApps { try OAuthRows.upsert(app, on: connection) }
        for consent in site.oauthConsents {
            guard try !connection.query(OAuthRows.appByClientId, [.text(consent.clientId)]).isEmpty else {
                throw SiteStoreError.unknownClientId(consent.clientId)
            }
            guard try !connection.query(Rows.userByAccountId, [.text(consent.accountId)]).isEmpty else {
                throw SiteStoreError.unknownAccountId(consent.accountId)
            }
            try OAuthRows.upsert(consent, on: connection)
        }
        for app in site.forgeApps { try ForgeRows.install(app, on: connection) }
    }

    // MARK: User and app properties

    public func userPropertyKeys(accountId: String) async throws -> [String] {
        try await keys(in: .user, owner: accountId)
    }

    public func userProperty(accountId: String, key: String) async throws -> PropertyValue? {
        try await value(in: .user, owner: accountId, key: key)
    }

    public func userProperties(accountId: String, atMost limit: Int) async throws -> [String: PropertyValue]? {
        let rows = try read(
            PropertyTable.user.allSQL, [.text(accountId), .integer(Int64(min(limit, Int(Int32.max)) + 1))])
        guard rows.count <= limit else { return nil }
        var properties: [String: PropertyValue] = [:]
        for row in rows {
            guard let key = row[0].text, let value = row[1].text else { continue }
            properties[key] = PropertyValue(storedJSONText: value)
        }
        return properties
    }

    public func setUserProperty(accountId: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try await set(in: .user, owner: accountId, key: key, value: value, unknownOwner: .unknownAccountId(accountId))
    }

    public func deleteUserProperty(accountId: String, key: String) async throws -> Bool {
        try await delete(in: .user, owner: accountId, key: key)
    }

    public func appPropertyKeys(appKey: String) async throws -> [String] {
        try await keys(in: .app, owner: appKey)
    }

    public func appProperty(appKey: String, key: String) async throws -> PropertyValue? {
        try await value(in: .app, owner: appKey, key: key)
    }

    public func setAppProperty(appKey: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try await set(in: .app, owner: appKey, key: key, value: value, unknownOwner: .unknownAppKey(appKey))
    }

    public func deleteAppProperty(appKey: String, key: String) async throws -> Bool {
        try await delete(in: .app, owner: appKey, key: key)
    }

    private func keys(in table: PropertyTable, owner: String) async throws -> [String] {
        try read(table.keysSQL, [.text(owner)]).compactMap { $0.first?.text }
    }

    private func value(in table: PropertyTable, owner: String, key: String) async throws -> PropertyValue? {
        try read(table.valueSQL, [.text(owner), .text(key)]).first?.first?.text.map(
            PropertyValue.init(storedJSONText:))
    }

    private func set(
        in table: PropertyTable, owner: String, key: String, value: PropertyValue, unknownOwner: SiteStoreError
    ) async throws -> WriteOutcome {
        do {
            return try await writer.write { try table.upsert(owner: owner, key: key, value: value, on: $0) }
        } catch let failure as SQLiteFailure where failure.isConstraint {
            throw unknownOwner
        }
    }

    private func delete(in table: PropertyTable, owner: String, key: String) async throws -> Bool {
        try await writer.write { try !$0.query(table.deleteSQL, [.text(owner), .text(key)]).isEmpty }
    }

    /// SQLite's `data_version` on the writer connection: it changes only when another connection,
    /// such as another process, commits to the file.
    public func changeCounter() async throws -> Int? {
        try await writer.write { connection in
            try connection.query("PRAGMA data_version").first?.first?.integer.map(Int.init)
        }
    }

    public func close() async throws {
        readers.close()
        await writer.close()
    }
}
