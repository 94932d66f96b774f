/// Who a request acts as once its credentials are checked: the account whose Jira permissions
/// apply (spec 2.3) and the credential that brought it, which may limit it further with scopes.
/// Every entry point (site URL, gateway, Forge egress) produces one of these, and the
/// resources behind them see only this.
public struct Principal: Sendable {
    /// The kind of credential, with what the request journal and the gates need of it.
    public enum Credential: Sendable, Equatable {
        /// Basic e-mail and a classic API token: the person, without scopes.
        case apiToken
        /// Basic e-mail and a scoped API token (gateway only).
        case scopedAPIToken
        /// A Connect app's JWT: its app user, with the app's Connect scopes.
        case connectApp(ConnectApp)
        /// An OAuth 2.0 access token granted to `clientId` by the user.
        case oauth(clientId: String)
        /// A token Forge hands the app: as its app user (`asApp()`) or as a user (`asUser()`),
        /// with the app's scopes.
        case forge(ForgeApp)
        /// The signed-in user in a Connect app's page, through `AP.request` (spec 16): the user's
        /// permissions, limited by the app's Connect scopes.
        case connectPage(ConnectApp)
        /// The signed-in user in a Forge app's Custom UI, through `@forge/bridge` (spec 17): the
        /// user's permissions, limited by the app's scopes.
        case forgeBridge(ForgeApp)
    }

    /// The account whose permissions apply.
    public let user: User
    public let credential: Credential
    /// The scopes the credential holds, in the order they were granted, checked by the gateway
    /// (empty for site-URL credentials, which are not scope-checked there).
    public let scopes: [String]

    public init(user: User, credential: Credential, scopes: [String] = []) {
        self.user = user
        self.credential = credential
        self.scopes = scopes
    }

    public var accountId: String { user.accountId }

    /// The Forge app whose token this is, if it is one.
    public var forgeApp: ForgeApp? {
        switch credential {
        case .forge(let app), .forgeBridge(let app): app
        default: nil
        }
    }

    /// Whether a Forge app acts as its own app user (`asApp()`, an app system token).
    public var isForgeAppUser: Bool { forgeApp?.accountId == user.accountId }

    /// The Connect app whose scopes limit the request: the app calling with its JWT, or the app
    /// whose page the user is in.
    public var scopingConnectApp: ConnectApp? {
        switch credential {
        case .connectApp(let app), .connectPage(let app): app
        default: nil
        }
    }

    /// The Connect app calling with its JWT, if that is the credential.
    public var connectApp: ConnectApp? {
        if case .connectApp(let app) = credential { app } else { nil }
    }
}
