import Foundation

/// A Forge app installed on the site (spec 11.1): its manifest's scopes, its installation, and the
/// app user that `asApp()` acts as.
public struct ForgeApp: Sendable, Hashable {
    /// Every Forge app id is an ARI of this shape, followed by the app's UUID.
    public static let appIdPrefix = "ari:cloud:ecosystem::app/"
    public static let installationIdPrefix = "ari:cloud:ecosystem::installation/"
    /// The scope that puts the app user among Jira's administrators (a choice, spec 11.1).
    public static let administrationScope = "manage:jira-configuration"

    /// `ari:cloud:ecosystem::app/<uuid>`.
    public var appId: String
    public var name: String
    /// The manifest's `permissions.scopes`, in the manifest's order.
    public var scopes: [String]
    /// `ari:cloud:ecosystem::installation/<uuid>`: how the container egress names the installation.
    public var installationId: String
    /// The manifest's `app.connect.key`, for an app that came from Connect: it may use that Connect
    /// app's properties (spec 11.3).
    public var connectKey: String?
    /// The app user's accountId (`accountType: "app"`).
    public var accountId: String
    /// Custom UI folders (spec 17), and the modules that show them.
    public var resources: [ForgeResource]
    public var modules: [ForgeModule]

    public init(
        appId: String, name: String, scopes: [String], installationId: String? = nil, connectKey: String? = nil,
        accountId: String? = nil, resources: [ForgeResource] = [], modules: [ForgeModule] = []
    ) {
        self.resources = resources
        self.modules = modules
        self.appId = appId
        self.name = name
        self.scopes = scopes
        self.installationId = installationId ?? Self.defaultInstallationId(appId: appId)
        self.connectKey = connectKey
        self.accountId = accountId ?? Self.defaultAccountId(appId: appId)
    }

    /// The UUID part of an app id (the whole id if it is not an ARI).
    private static func uuid(ofAppId appId: String) -> Substring {
        appId.hasPrefix(appIdPrefix) ? appId.dropFirst(appIdPrefix.count) : Substring(appId)
    }

    /// An installation id derived from the app id, so that loading the same site file twice names
    /// the same installation.
    public static func defaultInstallationId(appId: String) -> String {
        installationIdPrefix + uuid(ofAppId: appId)
    }

    public static func defaultAccountId(appId: String) -> String { "557058:forge-" + uuid(ofAppId: appId) }

    /// A new app id, `ari:cloud:ecosystem::app/<uuid>`.
    public static func newAppId() -> String { appIdPrefix + UUID().uuidString.lowercased() }

    /// Whether the scopes make the app user a Jira administrator.
    public var administersJira: Bool { scopes.contains(Self.administrationScope) }

    /// The app user's groups follow from the scopes (a choice, spec 11.1): with
    /// `manage:jira-configuration` the app administers Jira, otherwise it has product access only.
    public var appUserGroups: [String] {
        administersJira ? ["atlassian-addons-admin", "jira-software-users"] : ["jira-software-users"]
    }

    /// The app user as the site's users list it.
    public var appUser: User {
        User(
            accountId: accountId, accountType: .app, emailAddress: nil, displayName: name, groups: appUserGroups)
    }

    /// Why the app user may not use another user's properties, for the explanation of that refusal
    /// (it is refused only when the scopes do not make it an administrator).
    public var administrationNote: String {
        "Forge app \(name)'s app user (asApp) is not a Jira administrator because its manifest does not list \(Self.administrationScope); add that scope to permissions.scopes to use other users' properties as the app, or call asUser() to act as the user."
    }
}

/// A token Forge hands a remote or a container (spec 11.1): an app system token acts as the app
/// user, an app user token as a user; both carry the app's scopes. Kept by the hash of its value.
public struct ForgeToken: Sendable, Hashable {
    /// How long Forge's tokens live.
    public static let lifetime: TimeInterval = 4 * 3600

    public var tokenHash: String
    public var appId: String
    /// Whom the token acts as: the app user (a system token) or a user.
    public var accountId: String
    public var expiresAt: Date

    public init(tokenHash: String, appId: String, accountId: String, expiresAt: Date) {
        self.tokenHash = tokenHash
        self.appId = appId
        self.accountId = accountId
        self.expiresAt = expiresAt
    }
}

/// Where Forge apps and the tokens minted for them live (spec 11). Each method is atomic.
public protocol ForgeStore: Sendable {
    /// Every Forge app, sorted by appId.
    func forgeApps() async throws -> [ForgeApp]
    func forgeApp(appId: String) async throws -> ForgeApp?
    func forgeApp(installationId: String) async throws -> ForgeApp?
    /// Installs an app and creates its app user, together. Throws `SiteStoreError.duplicateAppId`,
    /// `.duplicateInstallationId` or `.duplicateAccountId`.
    func addForgeApp(_ app: ForgeApp) async throws
    /// Keeps a minted token; throws `SiteStoreError.unknownAppId` or `.unknownAccountId` if the
    /// app or the account is not on the site.
    func recordForgeToken(_ token: ForgeToken) async throws
    /// The token with this hash, expired or not (the caller compares `expiresAt`).
    func forgeToken(hash: String) async throws -> ForgeToken?
    /// Removes tokens that expired more than `OAuthTokenRules.retention` before `now` (until then a
    /// refusal can still say when the token expired); returns how many went.
    func purgeExpiredForgeTokens(now: Date) async throws -> Int
}
