import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import UnderstudyAuth
import UnderstudyCore

/// An async client for Jira Cloud's user and app property APIs, for real Jira Cloud sites (https)
/// and for Understudy alike.
///
/// ```swift
/// let jira = try JiraClient(site: "https://example.atlassian.net", authentication: .basic(email: e, apiToken: t))
/// let outcome = try await jira.setUserProperty("tour", accountId: id, value: Progress(step: 2))  // .created
/// let progress = try await jira.userProperty("tour", accountId: id, as: Progress.self)
/// ```
public struct JiraClient: Sendable {
    /// How requests are authenticated.
    public enum Authentication: Sendable {
        /// E-mail address and API token (HTTP Basic).
        case basic(email: String, apiToken: String)
        /// A Connect app: every request is signed with a fresh JWT whose `qsh` covers exactly it.
        case connect(appKey: String, sharedSecret: String)
        /// An OAuth 2.0 or other bearer token, used as it is.
        case bearer(String)
        /// An OAuth 2.0 (3LO) integration through the API gateway: the site is the gateway's URL
        /// (`https://api.atlassian.com/ex/jira/{cloudId}`, or Understudy's `{base}/ex/jira/{cloudId}`),
        /// and an access token the gateway refuses as expired is refreshed once, by itself.
        case oauth(OAuthSession)

        /// OAuth 2.0 with an access token, and a refresh token when the grant has `offline_access`.
        public static func oauth(
            clientId: String, clientSecret: String, token: String, refreshToken: String? = nil,
            tokenURL: String = "https://auth.atlassian.com/oauth/token"
        ) -> Authentication {
            .oauth(
                OAuthSession(
                    clientId: clientId, clientSecret: clientSecret, accessToken: token, refreshToken: refreshToken,
                    tokenURL: tokenURL))
        }
    }

    /// When `429` and `503` answers are retried.
    public struct RetryPolicy: Sendable {
        /// Retries after the first attempt.
        public var maximumRetries: Int
        /// The longest wait honoured; a longer `Retry-After` ends the retries.
        public var maximumDelay: Duration
        /// The wait when the answer has no `Retry-After`, doubled on each retry.
        public var initialDelay: Duration

        public init(
            maximumRetries: Int = 3, maximumDelay: Duration = .seconds(30), initialDelay: Duration = .seconds(1)
        ) {
            self.maximumRetries = maximumRetries
            self.maximumDelay = maximumDelay
            self.initialDelay = initialDelay
        }

        public static let none = RetryPolicy(maximumRetries: 0)
    }

    /// The site's base URL without a trailing slash, e.g. `https://example.atlassian.net`.
    public let site: String
    public let authentication: Authentication
    public let retryPolicy: RetryPolicy
    private let httpClient: HTTPClient
    /// The path of the base URL (Connect's `qsh` leaves it out).
    private let basePath: String

    public init(
        site: String, authentication: Authentication, retryPolicy: RetryPolicy = RetryPolicy(),
        httpClient: HTTPClient = .shared
    ) throws {
        var site = site
        while site.hasSuffix("/") { site.removeLast() }
        guard let url = URL(string: site), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw JiraClientUsageError(description: "the site must be an http:// or https:// URL, not '\(site)'")
        }
        self.site = site
        self.basePath = url.path
        self.authentication = authentication
        self.retryPolicy = retryPolicy
        self.httpClient = httpClient
    }

    // MARK: Users

    /// `GET /rest/api/3/myself`: the calling user (an app's user for Connect).
    public func myself() async throws -> JiraUser {
        try decode(JiraUser.self, from: try await send(.GET, "/rest/api/3/myself").body)
    }

    /// `GET /rest/api/3/user?accountId=`
    public func user(accountId: String) async throws -> JiraUser {
        try decode(JiraUser.self, from: try await send(.GET, "/rest/api/3/user", query: ["accountId": accountId]).body)
    }

    // MARK: User properties

    /// The keys of a user's properties.
    public func userPropertyKeys(accountId: String) async throws -> [String] {
        let answer = try await send(.GET, "/rest/api/3/user/properties", query: ["accountId": accountId])
        return try decode(KeyList.self, from: answer.body).keys.map(\.key)
    }

    /// A user property's value, decoded.
    public func userProperty<Value: Decodable>(_ key: String, accountId: String, as type: Value.Type) async throws
        -> Value
    {
        try decode(Value.self, from: Array(try await rawUserProperty(key, accountId: accountId).utf8))
    }

    /// A user property's value as JSON text.
    public func rawUserProperty(_ key: String, accountId: String) async throws -> String {
        let answer = try await send(.GET, Self.userPropertyPath(key), query: ["accountId": accountId])
        return try Self.value(in: answer.body)
    }

    /// Creates or replaces a user property; says which.
    @discardableResult
    public func setUserProperty<Value: Encodable>(_ key: String, accountId: String, value: Value) async throws
        -> WriteOutcome
    {
        try await setRawUserProperty(key, accountId: accountId, json: try Self.encode(value))
    }

    /// Creates or replaces a user property with JSON text as its value.
    @discardableResult
    public func setRawUserProperty(_ key: String, accountId: String, json: String) async throws -> WriteOutcome {
        let answer = try await send(.PUT, Self.userPropertyPath(key), query: ["accountId": accountId], body: json)
        return answer.status == 201 ? .created : .updated
    }

    public func deleteUserProperty(_ key: String, accountId: String) async throws {
        _ = try await send(.DELETE, Self.userPropertyPath(key), query: ["accountId": accountId])
    }

    // MARK: App properties (Connect)

    /// The keys of the calling app's properties.
    public func appPropertyKeys(appKey: String) async throws -> [String] {
        try decode(KeyList.self, from: try await send(.GET, Self.appPropertiesPath(appKey)).body).keys.map(\.key)
    }

    public func appProperty<Value: Decodable>(_ key: String, appKey: String, as type: Value.Type) async throws -> Value
    {
        try decode(Value.self, from: Array(try await rawAppProperty(key, appKey: appKey).utf8))
    }

    public func rawAppProperty(_ key: String, appKey: String) async throws -> String {
        try Self.value(in: try await send(.GET, Self.appPropertiesPath(appKey) + "/" + Self.segment(key)).body)
    }

    @discardableResult
    public func setAppProperty<Value: Encodable>(_ key: String, appKey: String, value: Value) async throws
        -> WriteOutcome
    {
        try await setRawAppProperty(key, appKey: appKey, json: try Self.encode(value))
    }

    @discardableResult
    public func setRawAppProperty(_ key: String, appKey: String, json: String) async throws -> WriteOutcome {
        let answer = try await send(.PUT, Self.appPropertiesPath(appKey) + "/" + Self.segment(key), body: json)
        return answer.status == 201 ? .created : .updated
    }

    public func deleteAppProperty(_ key: String, appKey: String) async throws {
        _ = try await send(.DELETE, Self.appPropertiesPath(appKey) + "/" + Self.segment(key))
    }

    // MARK: Sending

    struct Answer {
        let status: Int
        let body: [UInt8]
    }

    /// Sends one request (retrying `429` and `503` as the policy says); a non-2xx answer throws
    /// `JiraClientError`.
    func send(_ method: HTTPMethod, _ path: String, query: [String: String] = [:], body: String? = nil)
        async throws -> Answer
    {
        let queryText = query.sorted { $0.key < $1.key }.map {
            Self.queryComponent($0.key) + "=" + Self.queryComponent($0.value)
        }
        .joined(separator: "&")
        let target = basePath + path + (queryText.isEmpty ? "" : "?" + queryText)
        var attempt = 0
        var delay = retryPolicy.initialDelay
        var refreshed = false
        while true {
            var request = HTTPClientRequest(url: site + path + (queryText.isEmpty ? "" : "?" + queryText))
            request.method = method
            request.headers.add(name: "Accept", value: "application/json")
            let credentials = await authorization(method: method, target: target)
            request.headers.add(name: "Authorization", value: credentials)
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await httpClient.execute(request, timeout: .seconds(30))
            let bytes = Array((try await response.body.collect(upTo: 16 * 1024 * 1024)).readableBytesView)
            let status = Int(response.status.code)
            if (200..<300).contains(status) { return Answer(status: status, body: bytes) }
            // The gateway's plain 401 (not a scope mismatch) is what an expired access token gets.
            if status == 401, !refreshed, case .oauth(let session) = authentication, await session.canRefresh,
                Self.isGatewayUnauthorized(bytes)
            {
                try await session.refresh(replacing: String(credentials.dropFirst("Bearer ".count)), with: httpClient)
                refreshed = true
                continue
            }
            if (status == 429 || status == 503) && attempt < retryPolicy.maximumRetries {
                let wait =
                    response.headers.first(name: "Retry-After").flatMap(Double.init).map {
                        Duration.milliseconds(Int64($0 * 1000))
                    } ?? delay
                if wait <= retryPolicy.maximumDelay {
                    try await Task.sleep(for: wait)
                    attempt += 1
                    delay *= 2
                    continue
                }
            }
            throw JiraClientError(
                status: status, body: bytes, explanation: response.headers.first(name: "X-Understudy-Explain"),
                requestId: response.headers.first(name: "X-AREQUESTID"), request: "\(method.rawValue) \(path)")
        }
    }

    /// `{"code":401,"message":"Unauthorized"}`: the gateway refused the credentials themselves.
    static func isGatewayUnauthorized(_ body: [UInt8]) -> Bool {
        guard case .object(let members)? = try? JSONParser.parse(body) else { return false }
        return members.first(where: { $0.name == "message" })?.value == .string("Unauthorized")
    }

    private func authorization(method: HTTPMethod, target: String) async -> String {
        switch authentication {
        case .basic(let email, let apiToken):
            return "Basic " + Data("\(email):\(apiToken)".utf8).base64EncodedString()
        case .connect(let appKey, let sharedSecret):
            return "JWT "
                + ConnectJWT.sign(
                    appKey: appKey, sharedSecret: sharedSecret, method: method.rawValue, target: Substring(target),
                    basePath: basePath)
        case .bearer(let token):
            return "Bearer " + token
        case .oauth(let session):
            return "Bearer " + (await session.accessToken)
        }
    }

    // MARK: Encoding

    static func userPropertyPath(_ key: String) -> String { "/rest/api/3/user/properties/" + segment(key) }

    static func appPropertiesPath(_ appKey: String) -> String {
        "/rest/atlassian-connect/1/addons/" + segment(appKey) + "/properties"
    }

    /// A path segment: every byte but the unreserved ones percent-encoded.
    static func segment(_ text: String) -> String { PercentEncoding.encode(text) }

    static func queryComponent(_ text: String) -> String { PercentEncoding.encode(text) }

    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(Value.self, from: Data(bytes))
    }

    /// The `value` member of a property answer, as JSON text.
    static func value(in body: [UInt8]) throws -> String {
        guard case .object(let members) = try JSONParser.parse(body),
            let value = members.first(where: { $0.name == "value" })?.value
        else { throw JiraClientUsageError(description: "the answer has no property value") }
        return value.jsonText
    }

    private struct KeyList: Decodable {
        struct Key: Decodable { let key: String }
        let keys: [Key]
    }
}

/// A user as `/myself` and `/user` describe it.
public struct JiraUser: Decodable, Sendable, Equatable {
    public let accountId: String
    public let accountType: String
    public let displayName: String
    public let emailAddress: String?
    public let active: Bool
    public let timeZone: String?
    public let locale: String?
}
