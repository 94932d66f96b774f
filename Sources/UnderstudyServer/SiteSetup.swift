import Foundation
import Logging
import UnderstudyAuth
import UnderstudyCore
import UnderstudyPostgres
import UnderstudySQLite

/// Opening a store and filling it: what `serve`, `seed`, `user add` and the tests share.
public enum SiteSetup {
    /// A problem to report in one line, with the process exit status it deserves.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        /// 2 for a bad site file, 1 for everything else.
        public let exitCode: Int32

        public init(description: String, exitCode: Int32) {
            self.description = description
            self.exitCode = exitCode
        }
    }

    /// Opens the store named by `--database`: `:memory:` or the path of an SQLite file.
    /// A database as messages may show it: the password of a PostgreSQL URL left out.
    public static func describe(database: String) -> String {
        database.contains("://") ? PostgresSiteStore.redacting(url: database) : database
    }

    public static func openStore(database: String, logger: Logger = Logger(label: "understudy.store")) async throws
        -> any SiteStore
    {
        if database == ":memory:" { return InMemorySiteStore() }
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            // Several servers share the database, and each must see the others' writes at once:
            // user properties are always read from the database; users, apps and OAuth grants are
            // cached, forgotten whenever PostgreSQL announces a change, and not served at all while
            // the announcements cannot be heard.
            do {
                return try await PostgresSiteStore.open(url: database, logger: logger).servingCache()
            } catch let error as PostgresSiteStore.OpenError {
                throw Failure(description: error.description, exitCode: 1)
            }
        }
        do {
            // Reads of the hot site data are served from memory; every write goes to the file first.
            return try await CachingSiteStore(backing: try await SQLiteSiteStore.open(path: database))
        } catch let error as SQLiteSiteStore.OpenError {
            throw Failure(description: error.description, exitCode: 1)
        }
    }

    /// The decoder every site file goes through, hashing tokens given in clear.
    public static let decoder = SiteFileDecoder(hashAPIToken: APITokens.hash)

    /// Reads and checks a site file; nothing is loaded from a file with errors.
    public static func readSiteFile(_ path: String) throws -> Site {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "\(path): cannot read the site file (missing or unreadable)", exitCode: 2)
        }
        var site: Site
        do {
            site = try decoder.decode(data, file: path)
        } catch {
            throw Failure(description: error.description, exitCode: 2)
        }
        // A Custom UI folder given relative to the site file is where the file says, wherever serve runs.
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        for index in site.forgeApps.indices {
            for resource in site.forgeApps[index].resources.indices
            where !site.forgeApps[index].resources[resource].path.hasPrefix("/") {
                let relative = site.forgeApps[index].resources[resource].path
                site.forgeApps[index].resources[resource].path =
                    folder.appendingPathComponent(relative).standardizedFileURL.path
            }
        }
        return site
    }

    /// Loads a site into a store in one transaction; a conflict with stored data changes nothing.
    public static func load(_ site: Site, into store: any SiteStore, file: String) async throws {
        do {
            try await store.load(site)
        } catch let error as SiteStoreError {
            throw Failure(description: "\(file): cannot load: \(error)", exitCode: 2)
        }
    }

    /// The site's identity, generated and stored if the store has none yet: a new database keeps
    /// the cloudId it was given first.
    public static func ensureIdentity(of store: any SiteStore) async throws -> SiteIdentity {
        if let identity = try await store.siteIdentity() { return identity }
        let generated = SiteIdentity.generated()
        try await store.load(Site(identity: generated))
        return generated
    }

    /// A new OAuth 2.0 app from the fields of a registration (`name`, `callbackUrls`, `scopes`, and
    /// optionally `clientId` and `clientSecret`), checked as a site file's `oauthApps` entry is. A
    /// missing clientId or secret is generated; the secret is returned in clear this once.
    public static func newOAuthApp(_ fields: [JSONMember]) throws(SiteFileError) -> (OAuthApp, secret: String) {
        var fields = fields
        if !fields.contains(where: { $0.name == "clientId" }) {
            fields.append(JSONMember("clientId", .string(APITokens.randomHex(byteCount: 16))))
        }
        var secret = APITokens.randomHex(byteCount: 32)
        if let given = fields.first(where: { $0.name == "clientSecret" }), case .string(let text) = given.value {
            secret = text
        } else {
            fields.removeAll { $0.name == "clientSecret" }
            fields.append(JSONMember("clientSecret", .string(secret)))
        }
        let file = JSONValue.object([JSONMember("oauthApps", .array([.object(fields)]))]).jsonText
        let site = try decoder.decode(Array(file.utf8), file: "the OAuth app")
        return (site.oauthApps[0], secret)
    }

    /// A Forge app from the fields of a `forgeApps` entry (spec 11.1), with a new appId when none
    /// is given.
    public static func newForgeApp(_ fields: [JSONMember]) throws(SiteFileError) -> ForgeApp {
        var fields = fields
        if !fields.contains(where: { $0.name == "appId" }) {
            fields.append(JSONMember("appId", .string(ForgeApp.newAppId())))
        }
        let file = JSONValue.object([JSONMember("forgeApps", .array([.object(fields)]))]).jsonText
        return try decoder.decode(Array(file.utf8), file: "the Forge app").forgeApps[0]
    }

    /// The built-in demo site, loaded when `serve` starts on an empty database without `--seed`.
    public static func demoSite() -> Site {
        // The demo file is part of the program; a failure here is a programming error.
        try! decoder.decode(Array(DemoSite.json.utf8), file: "built-in demo site")
    }
}

/// The demo site: a site admin, a user with Jira access and admin-UI properties, a user without
/// Jira access, one Connect app, its Forge successor and an OAuth 2.0 integration. Its tokens are printed at start so the README's examples work.
public enum DemoSite {
    public struct Credential: Sendable {
        public let emailAddress: String
        public let apiToken: String
        public let accountId: String
        public let role: String
    }

    public static let credentials: [Credential] = [
        Credential(
            emailAddress: "ada@example.com", apiToken: "ada-demo-token", accountId: "557058:ada", role: "site admin"),
        Credential(
            emailAddress: "bob@example.com", apiToken: "bob-demo-token", accountId: "557058:bob",
            role: "Jira user, with admin-UI properties"),
        Credential(
            emailAddress: "cara@example.com", apiToken: "cara-demo-token", accountId: "557058:cara",
            role: "no Jira access"),
    ]

    public static let app = (
        key: "com.example.tour", clientKey: "jira:0b0c6e1e-tour", sharedSecret: "tour-shared-secret-0123456789abcdef"
    )

    /// The demo site's fixed cloudId, so the gateway URLs in the README work as printed.
    public static let cloudId = "1e7c4bd6-5f0a-4c3e-9d2b-7a8f6e5d4c3b"

    /// The demo OAuth 2.0 app and Ada's scoped API token, printed at start.
    public static let oauthApp = (
        clientId: "demo-oauth-client", clientSecret: "demo-oauth-secret", callbackUrl: "http://localhost:3000/callback",
        scopes: "read:jira-user write:jira-work read:me offline_access"
    )
    /// The demo Forge app: the Connect app's Forge successor (same Connect key), without
    /// `manage:jira-configuration`, so asApp() may not touch other users' properties.
    public static let forgeApp = (
        appId: "ari:cloud:ecosystem::app/3f2c9a1e-7b4d-4e6f-8a9b-0c1d2e3f4a5b", name: "Product Tour (Forge)",
        installationId: "ari:cloud:ecosystem::installation/3f2c9a1e-7b4d-4e6f-8a9b-0c1d2e3f4a5b"
    )
    public static let scopedToken = (
        emailAddress: "ada@example.com", token: "ada-scoped-demo-token", scopes: "read:jira-user write:jira-work"
    )

    static let json = """
        {
          "site": {"cloudId": "1e7c4bd6-5f0a-4c3e-9d2b-7a8f6e5d4c3b", "name": "Understudy demo"},
          "users": [
            {"accountId": "557058:ada", "emailAddress": "ada@example.com", "displayName": "Ada Admin",
             "apiTokens": ["ada-demo-token", {"token": "ada-scoped-demo-token", "scopes": ["read:jira-user", "write:jira-work"]}],
             "groups": ["site-admins", "jira-software-users"],
             "timeZone": "Europe/London", "locale": "en_GB"},
            {"accountId": "557058:bob", "emailAddress": "bob@example.com", "displayName": "Bob Builder",
             "apiTokens": ["bob-demo-token"], "groups": ["jira-software-users"],
             "legacyProperties": {"slackhandle": "@bob", "team": "platform"}},
            {"accountId": "557058:cara", "emailAddress": "cara@example.com", "displayName": "Cara (no Jira access)",
             "apiTokens": ["cara-demo-token"], "groups": []}
          ],
          "apps": [
            {"key": "com.example.tour", "name": "Product Tour", "clientKey": "jira:0b0c6e1e-tour",
             "sharedSecret": "tour-shared-secret-0123456789abcdef", "scopes": ["READ", "WRITE", "DELETE"],
             "accountId": "557058:app-tour"}
          ],
          "userProperties": [
            {"accountId": "557058:bob", "key": "tour.progress", "value": {"step": 2, "done": false}}
          ],
          "appProperties": [
            {"appKey": "com.example.tour", "key": "settings", "value": {"enabled": true}}
          ],
          "oauthApps": [
            {"clientId": "demo-oauth-client", "clientSecret": "demo-oauth-secret", "name": "Demo OAuth integration",
             "callbackUrls": ["http://localhost:3000/callback"],
             "scopes": ["read:jira-user", "write:jira-work", "read:me", "offline_access"]}
          ],
          "forgeApps": [
            {"appId": "ari:cloud:ecosystem::app/3f2c9a1e-7b4d-4e6f-8a9b-0c1d2e3f4a5b", "name": "Product Tour (Forge)",
             "scopes": ["read:jira-user", "write:jira-work"], "connectKey": "com.example.tour"}
          ]
        }
        """
}
