/// A whole site's data in the shape a site file describes (spec 7): what a seed loads and a
/// snapshot writes. Tokens are already hashed.
public struct Site: Sendable, Equatable {
    /// The cloudId and name; `nil` in a file that does not set them (the stored ones stay).
    public var identity: SiteIdentity?
    public var users: [User]
    public var apps: [ConnectApp]
    /// App users are users too; they are listed here with their app, not in `users`.
    public var appUsers: [User]
    public var userProperties: [UserPropertyRecord]
    public var appProperties: [AppPropertyRecord]
    public var oauthApps: [OAuthApp]
    public var oauthConsents: [OAuthConsent]
    /// Forge apps; their app users are derived from them (`ForgeApp.appUser`) and listed in
    /// `appUsers` by a snapshot.
    public var forgeApps: [ForgeApp]

    public init(
        identity: SiteIdentity? = nil, users: [User] = [], apps: [ConnectApp] = [], appUsers: [User] = [],
        userProperties: [UserPropertyRecord] = [], appProperties: [AppPropertyRecord] = [],
        oauthApps: [OAuthApp] = [], oauthConsents: [OAuthConsent] = [], forgeApps: [ForgeApp] = []
    ) {
        self.forgeApps = forgeApps
        self.identity = identity
        self.oauthApps = oauthApps
        self.oauthConsents = oauthConsents
        self.users = users
        self.apps = apps
        self.appUsers = appUsers
        self.userProperties = userProperties
        self.appProperties = appProperties
    }
}

/// One user property: a key on a user's record with its JSON value.
public struct UserPropertyRecord: Sendable, Hashable {
    public var accountId: String
    public var key: String
    public var value: PropertyValue
    public init(accountId: String, key: String, value: PropertyValue) {
        self.accountId = accountId
        self.key = key
        self.value = value
    }
}

/// One Connect app property: a key private to one app.
public struct AppPropertyRecord: Sendable, Hashable {
    public var appKey: String
    public var key: String
    public var value: PropertyValue
    public init(appKey: String, key: String, value: PropertyValue) {
        self.appKey = appKey
        self.key = key
        self.value = value
    }
}
