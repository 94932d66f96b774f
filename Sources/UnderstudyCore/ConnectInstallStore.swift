import Foundation

/// One of the site's RSA key pairs that sign Connect lifecycle calls (spec 13.2), as PEM text.
///
/// The pair belongs to the database, not to the site's data: snapshots, site files, `replace` and
/// reset leave it alone, so the private key never travels. A database restored from a snapshot signs
/// with its own pair (a new database makes one when it first serves); apps fetch the public key by
/// `kid`, so they follow without being told.
public struct ConnectInstallKey: Sendable, Hashable {
    /// The key id a lifecycle JWT names in its header; the key is served at
    /// `/connect-install-keys/{kid}`.
    public var kid: String
    /// `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo).
    public var publicKeyPEM: String
    public var privateKeyPEM: String
    public var createdAt: Date

    public init(kid: String, publicKeyPEM: String, privateKeyPEM: String, createdAt: Date) {
        self.kid = kid
        self.publicKeyPEM = publicKeyPEM
        self.privateKeyPEM = privateKeyPEM
        self.createdAt = createdAt
    }
}

/// The Connect-install side of a store: the site's signing keys and the apps installed from
/// their descriptors. An installation itself is stored with its app (`ConnectApp.installation`,
/// written by `SiteStore.load`), so it travels with snapshots and site files like the app.
public protocol ConnectInstallStore: Sendable {
    /// The key pair with this kid, if this database made it.
    func installKey(kid: String) async throws -> ConnectInstallKey?
    /// The key pair that signs now: the newest.
    func currentInstallKey() async throws -> ConnectInstallKey?
    /// Keeps `key` unless the database has a key pair already, and returns the pair that signs, so
    /// that servers starting at once on one database agree on one key.
    func addInstallKeyIfNone(_ key: ConnectInstallKey) async throws -> ConnectInstallKey
    /// The Connect apps that were installed from a descriptor (those with an installation), by key.
    func installedApps() async throws -> [ConnectApp]
}
