import Foundation

/// An OAuth 2.0 (3LO) integration registered with the site (spec 9.1): what the developer console
/// holds for it. The secret is kept only as its hash.
public struct OAuthApp: Sendable, Hashable {
    public var clientId: String
    public var name: String
    public var clientSecretHash: String
    /// The registered redirect addresses; `redirect_uri` must equal one of them exactly.
    public var callbackUrls: [String]
    /// The scopes added to the app: the most it may request.
    public var scopes: [String]

    public init(clientId: String, name: String, clientSecretHash: String, callbackUrls: [String], scopes: [String]) {
        self.clientId = clientId
        self.name = name
        self.clientSecretHash = clientSecretHash
        self.callbackUrls = callbackUrls
        self.scopes = scopes
    }
}

/// A user's consent to an OAuth app (spec 9.2): the scopes granted, widened by later consents.
/// Revoking it invalidates every token issued under it.
public struct OAuthConsent: Sendable, Hashable {
    public var clientId: String
    public var accountId: String
    public var scopes: [String]

    public init(clientId: String, accountId: String, scopes: [String]) {
        self.clientId = clientId
        self.accountId = accountId
        self.scopes = scopes
    }
}

/// The site's identity on Atlassian's platform (spec 8): the cloudId that the API gateway's paths
/// carry, and the name `accessible-resources` shows.
public struct SiteIdentity: Sendable, Hashable {
    public var cloudId: String
    public var name: String

    public init(cloudId: String, name: String) {
        self.cloudId = cloudId
        self.name = name
    }

    /// A new identity: a random lowercase UUID.
    public static func generated(name: String = "Understudy") -> SiteIdentity {
        SiteIdentity(cloudId: UUID().uuidString.lowercased(), name: name)
    }

    /// Whether `text` is a cloudId as Atlassian writes them: a lowercase UUID.
    public static func isCloudId(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) } }
    }
}
