import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import UnderstudyCore

/// The tokens of an OAuth 2.0 (3LO) integration, refreshed when the gateway refuses an expired
/// access token. Refresh tokens rotate (each refresh returns a new one and disables the old), so
/// the session keeps the newest; `tokens` gives them to an app that persists them.
public actor OAuthSession {
    public struct Tokens: Sendable, Equatable {
        public var accessToken: String
        public var refreshToken: String?
    }

    public let clientId: String
    private let clientSecret: String
    /// Atlassian's is `https://auth.atlassian.com/oauth/token`; Understudy's is `{base}/oauth/token`.
    public let tokenURL: String
    public private(set) var tokens: Tokens

    public init(clientId: String, clientSecret: String, accessToken: String, refreshToken: String?, tokenURL: String) {
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.tokenURL = tokenURL
        self.tokens = Tokens(accessToken: accessToken, refreshToken: refreshToken)
    }

    var accessToken: String { tokens.accessToken }

    /// Whether a refresh can be tried.
    var canRefresh: Bool { tokens.refreshToken != nil }

    /// Exchanges the refresh token for a new pair, unless another request already did since
    /// `stale` was sent (concurrent requests refresh once).
    func refresh(replacing stale: String, with httpClient: HTTPClient) async throws {
        guard tokens.accessToken == stale, let refreshToken = tokens.refreshToken else { return }
        var request = HTTPClientRequest(url: tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        let body = JSONValue.object([
            JSONMember("grant_type", .string("refresh_token")), JSONMember("client_id", .string(clientId)),
            JSONMember("client_secret", .string(clientSecret)), JSONMember("refresh_token", .string(refreshToken)),
        ])
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let response = try await httpClient.execute(request, timeout: .seconds(30))
        let bytes = Array((try await response.body.collect(upTo: 1024 * 1024)).readableBytesView)
        guard response.status == .ok, case .object(let members)? = try? JSONParser.parse(bytes),
            case .string(let access)? = members.first(where: { $0.name == "access_token" })?.value
        else {
            throw JiraClientError(
                status: Int(response.status.code), body: bytes,
                explanation: response.headers.first(name: "X-Understudy-Explain"),
                requestId: response.headers.first(name: "X-AREQUESTID"), request: "POST \(tokenURL) (refresh)")
        }
        var refreshed = Tokens(accessToken: access, refreshToken: tokens.refreshToken)
        if case .string(let rotated)? = members.first(where: { $0.name == "refresh_token" })?.value {
            refreshed.refreshToken = rotated
        }
        tokens = refreshed
    }
}
