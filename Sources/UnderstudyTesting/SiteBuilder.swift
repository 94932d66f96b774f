import Foundation
import UnderstudyAuth
import UnderstudyCore

/// A site written in code for a test: people, Connect, OAuth 2.0 and Forge apps, and properties. Every API token and
/// shared secret is generated here and handed back, so a test never invents credentials.
///
/// ```swift
/// var site = SiteBuilder()
/// let ada = site.user("ada@example.com", admin: true)
/// let app = site.app("com.example.tour")
/// try site.userProperty("tour", of: ada, json: #"{"step": 1}"#)
/// ```
public struct SiteBuilder: Sendable {
    /// A person of the site with the API token that authenticates them.
    public struct Person: Sendable, Hashable {
        public let accountId: String
        public let emailAddress: String
        public let apiToken: String
    }

    /// An installed Connect app with what it signs its JWTs with.
    public struct App: Sendable, Hashable {
        public let key: String
        public let clientKey: String
        public let sharedSecret: String
        /// The app's own user, as which it acts.
        public let accountId: String
    }

    /// An OAuth 2.0 (3LO) app with the client credentials it authenticates with.
    public struct OAuthClient: Sendable, Hashable {
        public let clientId: String
        public let clientSecret: String
        public let callbackUrl: String
        public let scopes: [String]
    }

    /// An installed Forge app: its id, installation and the app user `asApp()` acts as.
    public struct ForgeAppHandle: Sendable, Hashable {
        public let appId: String
        public let installationId: String
        public let accountId: String
        public let scopes: [String]
    }

    public private(set) var site = Site()

    public init() {}

    /// Adds a person; `admin` puts them in `site-admins` (Administer Jira). Without `groups` they
    /// are in `jira-software-users`, so they have Jira access.
    @discardableResult
    public mutating func user(
        _ emailAddress: String, name: String? = nil, accountId: String? = nil, admin: Bool = false,
        groups: [String]? = nil, active: Bool = true
    ) -> Person {
        let token = APITokens.generate()
        let id = accountId ?? AccountIds.generate()
        var userGroups = groups ?? ["jira-software-users"]
        if admin && !userGroups.contains("site-admins") { userGroups.append("site-admins") }
        site.users.append(
            User(
                accountId: id, emailAddress: emailAddress,
                displayName: name ?? String(emailAddress.prefix { $0 != "@" }), active: active, groups: userGroups,
                apiTokenHashes: [APITokens.hash(token)]))
        return Person(accountId: id, emailAddress: emailAddress, apiToken: token)
    }

    /// Installs a Connect app; its user is in `atlassian-addons-admin` (so it may write any user's
    /// properties) unless `groups` says otherwise.
    @discardableResult
    public mutating func app(
        _ key: String, name: String? = nil, scopes: [ConnectScope] = [.read, .write, .delete], groups: [String]? = nil
    ) -> App {
        let app = ConnectApp(
            key: key, name: name ?? key, clientKey: "jira:" + APITokens.randomHex(byteCount: 8),
            sharedSecret: APITokens.generateSharedSecret(), scopes: scopes, accountId: "557058:app-" + key)
        site.apps.append(app)
        site.appUsers.append(
            User(
                accountId: app.accountId, accountType: .app, emailAddress: nil, displayName: app.name,
                groups: groups ?? ConnectApp.defaultGroups))
        return App(key: app.key, clientKey: app.clientKey, sharedSecret: app.sharedSecret, accountId: app.accountId)
    }

    /// Registers an OAuth 2.0 app that may request `scopes`.
    @discardableResult
    public mutating func oauthApp(
        _ name: String, scopes: [String], callbackUrl: String = "http://localhost:3000/callback"
    ) -> OAuthClient {
        let client = OAuthClient(
            clientId: APITokens.randomHex(byteCount: 16), clientSecret: APITokens.randomHex(byteCount: 32),
            callbackUrl: callbackUrl, scopes: scopes)
        site.oauthApps.append(
            OAuthApp(
                clientId: client.clientId, name: name, clientSecretHash: APITokens.hash(client.clientSecret),
                callbackUrls: [callbackUrl], scopes: scopes))
        return client
    }

    /// Installs a Forge app with its manifest's `scopes` (and `connectKey`, for an app that came
    /// from Connect); its app user administers Jira only with `manage:jira-configuration`.
    @discardableResult
    public mutating func forgeApp(_ name: String, scopes: [String], connectKey: String? = nil) -> ForgeAppHandle {
        let app = ForgeApp(appId: ForgeApp.newAppId(), name: name, scopes: scopes, connectKey: connectKey)
        site.forgeApps.append(app)
        return ForgeAppHandle(
            appId: app.appId, installationId: app.installationId, accountId: app.accountId, scopes: app.scopes)
    }

    /// Gives a person a scoped API token (accepted only through the gateway) and returns it.
    public mutating func scopedToken(for person: Person, scopes: [String]) throws -> String {
        guard let index = site.users.firstIndex(where: { $0.accountId == person.accountId }) else {
            throw SiteBuilderError(description: "\(person.emailAddress) is not a person of this site")
        }
        let token = APITokens.generate()
        site.users[index] = site.users[index].adding(tokenHash: APITokens.hash(token), scopes: scopes)
        return token
    }

    /// Sets a property on a person's record; `json` must be valid JSON.
    public mutating func userProperty(_ key: String, of person: Person, json: String) throws {
        site.userProperties.append(
            UserPropertyRecord(accountId: person.accountId, key: key, value: try Self.value(json)))
    }

    /// Sets one of an app's own properties.
    public mutating func appProperty(_ key: String, of app: App, json: String) throws {
        site.appProperties.append(AppPropertyRecord(appKey: app.key, key: key, value: try Self.value(json)))
    }

    private static func value(_ json: String) throws -> PropertyValue {
        do {
            return try PropertyValue(validating: Array(json.utf8))
        } catch {
            throw SiteBuilderError(description: "a property value must be valid JSON: \(json.prefix(80))")
        }
    }
}

/// A site that cannot be built as asked.
public struct SiteBuilderError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
