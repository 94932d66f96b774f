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
                merged.apiTokenHashes = previous.apiTokenHashes
                for hash in user.apiTokenHashes where !merged.apiTokenHashes.contains(hash) {
                    merged.apiTokenHashes.append(hash)
                }
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
        for property in site.userProperties {
            _ = try await PostgresPropertyTable.user.upsert(
                owner: property.accountId, key: property.key, value: property.value, on: connection, logger: logger)
        }
        for property in site.appProperties {
            _ = try await PostgresPropertyTable.app.upsert(
                owner: property.appKey, key: property.key, value: property.value, on: connection, logger: logger)
        }
    }

    private func exists(_ query: PostgresQuery) async throws -> Bool {
        for try await _ in try await connection.query(query, logger: logger) { return true }
        return false
    }
}
