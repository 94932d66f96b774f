import Foundation
import UnderstudyCore

/// The Connect-install side of the SQLite store: the site's signing keys, and the apps installed
/// from descriptors.
extension SQLiteSiteStore: ConnectInstallStore {
    public var connect: any ConnectInstallStore { self }

    private static let keyColumns = "kid, public_key_pem, private_key_pem, created_at"

    public func installKey(kid: String) async throws -> ConnectInstallKey? {
        try readers.query("SELECT \(Self.keyColumns) FROM connect_install_keys WHERE kid = ?", [.text(kid)]).first
            .map(Self.installKey)
    }

    public func currentInstallKey() async throws -> ConnectInstallKey? {
        try readers.query(
            "SELECT \(Self.keyColumns) FROM connect_install_keys ORDER BY created_at DESC, kid LIMIT 1", []
        )
        .first.map(Self.installKey)
    }

    public func addInstallKeyIfNone(_ key: ConnectInstallKey) async throws -> ConnectInstallKey {
        try await writer.write { connection in
            let current = "SELECT \(Self.keyColumns) FROM connect_install_keys ORDER BY created_at DESC, kid LIMIT 1"
            if let existing = try connection.query(current).first { return Self.installKey(existing) }
            try connection.query(
                "INSERT INTO connect_install_keys (\(Self.keyColumns)) VALUES (?, ?, ?, ?)",
                [.text(key.kid), .text(key.publicKeyPEM), .text(key.privateKeyPEM), OAuthRows.time(key.createdAt)])
            return key
        }
    }

    public func installedApps() async throws -> [ConnectApp] {
        try readers.query(Rows.allApps, []).map(Rows.app).filter { $0.installation != nil }
    }

    private static func installKey(_ row: [SQLValue]) -> ConnectInstallKey {
        ConnectInstallKey(
            kid: row[0].text ?? "", publicKeyPEM: row[1].text ?? "", privateKeyPEM: row[2].text ?? "",
            createdAt: OAuthRows.date(row[3]) ?? .distantPast)
    }
}
