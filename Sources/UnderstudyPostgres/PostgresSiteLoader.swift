import Logging
import PostgresNIO
import UnderstudyCore

/// Upserts a whole site file inside one transaction, with the same rules as the SQLite store: a
/// user keeps the API tokens it had, an e-mail address or clientKey may not move to another owner.
struct PostgresSiteLoader {
    let connection: PostgresConnection
    let logger: Logger

    func load(_ site: Site) async throws {
        for user in site.users + site.appUsers {
            var merged = user
            if let previous = try await PostgresSiteStore.userByAccountId(
                user.accountId, on: connection, logger: logger)
            {
                guard previous.accountType == user.accountType else {
                    throw SiteStoreError.duplicateAccountId(user.accountId)
                }
                merged = user.keepingAPITokens(of: previous)
            }
            if let email = user.emailAddress,
                try await exists(
                    "SELECT 1 FROM users WHERE lower(email_address) = lower(\(email)) AND account_id <> \(user.accountId)"
                )
            {
                throw SiteStoreError.duplicateEmailAddress(email)
            }
            try await PostgresSiteStore.insert(merged, on: connection, logger: logger, replacing: true)
        }
        for app in site.apps {
            if try await exists("SELECT 1 FROM apps WHERE client_key = \(app.clientKey) AND app_key <> \(app.key)") {
                throw SiteStoreError.duplicateClientKey(app.clientKey)
            }
            try await PostgresSiteStore.upsert(app, on: connection, logger: logger)
        }
        // Properties are the bulk of a site: a thousand rows per statement, not one round trip each.
        for start in stride(from: 0, to: site.userProperties.count, by: Self.batchSize) {
            let batch = site.userProperties[start..<min(start + Self.batchSize, site.userProperties.count)]
            try await PostgresPropertyTable.user.upsert(
                owners: batch.map(\.accountId), keys: batch.map(\.key), values: batch.map(\.value.jsonText),
                on: connection, logger: logger)
        }
        for start in stride(from: 0, to: site.appProperties.count, by: Self.batchSize) {
            let batch = site.appProperties[start..<min(start + Self.batchSize, site.appProperties.count)]
            try await PostgresPropertyTable.app.upsert(
                owners: batch.map(\.appKey), keys: batch.map(\.key), values: batch.map(\.value.jsonText),
                on: connection, logger: logger)
        }
        try await loadOAuth(site)
    }

    /// The identity, OAuth apps, consents and Forge apps of a site file, after its users.
    private func loadOAuth(_ site: Site) async throws {
        if let identity = site.identity {
            try await connection.query(
                """
                INSERT INTO site_identity (singleton, cloud_id, name) VALUES (1, \(identity.cloudId), \(identity.name))
                ON CONFLICT (singleton) DO UPDATE SET cloud_id = excluded.cloud_id, name = excluded.name
                """, logger: logger)
        }
        for app in site.oauthApps { try await PostgresSiteStore.upsert(app, on: connection, logger: logger) }
        for consent in site.oauthConsents {
            guard try await exists("SELECT 1 FROM oauth_apps WHERE client_id = \(consent.clientId)") else {
                throw SiteStoreError.unknownClientId(consent.clientId)
            }
            guard try await exists("SELECT 1 FROM users WHERE account_id = \(consent.accountId)") else {
                throw SiteStoreError.unknownAccountId(consent.accountId)
            }
            try await PostgresSiteStore.upsert(consent, on: connection, logger: logger)
        }
        for app in site.forgeApps { try await PostgresSiteStore.install(app, on: connection, logger: logger) }
    }

    static let batchSize = 1000

    private func exists(_ query: PostgresQuery) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: logger) { return true }
        return false
    }
}
