import Foundation
import Logging
import PostgresNIO
import UnderstudyCore

/// The Connect-install side of the PostgreSQL store: the site's signing keys (one pair for every
/// server on the database) and the apps installed from descriptors.
extension PostgresSiteStore: ConnectInstallStore {
    public var connect: any ConnectInstallStore { self }

    private static let keyColumns = "kid, public_key_pem, private_key_pem, created_at"
    /// Serialises the first key's creation when several servers start at once.
    private static let installKeyLock: Int64 = 0x756E_6465_726B_6579  // "underkey"

    private static func installKeys(_ rows: PostgresRowSequence) async throws -> [ConnectInstallKey] {
        var keys: [ConnectInstallKey] = []
        for try await row in rows.decode((String, String, String, Int64).self) {
            keys.append(
                ConnectInstallKey(
                    kid: row.0, publicKeyPEM: row.1, privateKeyPEM: row.2,
                    createdAt: Date(timeIntervalSince1970: Double(row.3) / 1000)))
        }
        return keys
    }

    private static let currentKey: PostgresQuery =
        "SELECT \(unescaped: keyColumns) FROM connect_install_keys ORDER BY created_at DESC, kid COLLATE \"C\" LIMIT 1"

    public func installKey(kid: String) async throws -> ConnectInstallKey? {
        try await run { client, logger in
            try await Self.installKeys(
                client.query(
                    "SELECT \(unescaped: Self.keyColumns) FROM connect_install_keys WHERE kid = \(kid)", logger: logger)
            ).first
        }
    }

    public func currentInstallKey() async throws -> ConnectInstallKey? {
        try await run { client, logger in
            try await Self.installKeys(client.query(Self.currentKey, logger: logger)).first
        }
    }

    public func addInstallKeyIfNone(_ key: ConnectInstallKey) async throws -> ConnectInstallKey {
        try await run { client, logger in
            try await client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.installKeyLock))", logger: logger)
                if let existing = try await Self.installKeys(connection.query(Self.currentKey, logger: logger)).first {
                    return existing
                }
                let createdAt = Int64((key.createdAt.timeIntervalSince1970 * 1000).rounded())
                try await connection.query(
                    """
                    INSERT INTO connect_install_keys (\(unescaped: Self.keyColumns))
                    VALUES (\(key.kid), \(key.publicKeyPEM), \(key.privateKeyPEM), \(createdAt))
                    """, logger: logger)
                return key
            }
        }
    }

    public func installedApps() async throws -> [ConnectApp] {
        try await run { client, logger in
            try await Self.apps(
                client.query(
                    """
                    SELECT \(unescaped: Self.appColumns) FROM apps WHERE installation_json IS NOT NULL
                    ORDER BY app_key COLLATE "C"
                    """, logger: logger))
        }
    }
}
