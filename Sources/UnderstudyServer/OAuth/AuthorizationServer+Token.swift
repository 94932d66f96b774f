import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// `POST /oauth/token` (spec 9.3): the authorization-code and refresh grants, with the body as JSON
/// or as a form and the client's credentials in the body or as HTTP Basic.
extension AuthorizationServer {
    /// The request's parameters, whichever way they came.
    struct TokenRequest {
        let parameters: [String: String]
        subscript(name: String) -> String? { parameters[name].flatMap { $0.isEmpty ? nil : $0 } }
    }

    static func invalidRequest(_ description: String, explanation: String? = nil) -> JiraFailure {
        JiraFailure(
            status: .badRequest, body: .oauthError(error: "invalid_request", description: description),
            explanation: explanation ?? description)
    }

    func token(_ request: Request, builder: inout ResponseBuilder) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBodyBytes)
        } catch is NIOTooManyBytesError {
            builder.closeConnection = true
            throw Self.invalidRequest(
                "Request body too large",
                explanation: "A token request is a small form; Understudy reads at most \(Self.maximumBodyBytes) bytes."
            )
        }
        let parameters = try Self.parameters(of: request, body: body)
        let client = try await authenticateClient(request, parameters: parameters)
        builder.caller = .oauth(clientId: client.clientId, accountId: "")
        guard let grantType = parameters["grant_type"] else {
            throw Self.invalidRequest(
                "Missing grant_type",
                explanation:
                    "The token request has no grant_type; send authorization_code (with code and redirect_uri) or refresh_token (with refresh_token)."
            )
        }
        switch grantType {
        case "authorization_code":
            return try await exchangeCode(parameters, client: client, builder: &builder)
        case "refresh_token":
            return try await refresh(parameters, client: client, builder: &builder)
        default:
            throw JiraFailure(
                status: .forbidden,
                body: .oauthError(error: "unsupported_grant_type", description: "Unsupported grant type: \(grantType)"),
                explanation:
                    "Understudy's authorization server, like Atlassian's for 3LO apps, issues tokens for grant_type authorization_code and refresh_token only."
            )
        }
    }

    /// The body's parameters, or `400 invalid_request` saying what is wrong with it.
    static func parameters(of request: Request, body: ByteBuffer) throws -> TokenRequest {
        do {
            return TokenRequest(
                parameters: try OAuthTokenRequest.parameters(
                    contentType: request.headers[.contentType], body: Array(body.readableBytesView)))
        } catch {
            throw invalidRequest(error.description, explanation: error.explanation)
        }
    }

    /// The client from HTTP Basic or from `client_id` and `client_secret` in the body, its secret
    /// compared in constant time.
    private func authenticateClient(_ request: Request, parameters: TokenRequest) async throws -> OAuthApp {
        var clientId = parameters["client_id"]
        var secret = parameters["client_secret"]
        if let header = request.headers[.authorization],
            let (scheme, credentials) = Authenticator.schemeAndCredentials(Substring(header)), case .basic = scheme,
            let (id, headerSecret) = Authenticator.emailAndToken(credentials.trimmingWhitespace())
        {
            // RFC 6749 form-encodes the two parts before base64; plain values decode to themselves.
            clientId = PercentEncoding.decodeLeniently(Substring(id), plusIsSpace: true)
            secret = PercentEncoding.decodeLeniently(Substring(headerSecret), plusIsSpace: true)
        }
        guard let clientId else {
            throw Self.invalidRequest(
                "Missing client_id",
                explanation:
                    "Send the app's client_id and client_secret in the body, or as Authorization: Basic base64(client_id:client_secret)."
            )
        }
        let refusal = { (explanation: String) in
            JiraFailure(
                status: .unauthorized, body: .oauthError(error: "access_denied", description: "Unauthorized"),
                explanation: explanation)
        }
        guard let app = try await store.oauth.oauthApp(clientId: clientId) else {
            throw refusal("No OAuth 2.0 app of this site has client_id '\(clientId)'.")
        }
        guard let secret else {
            throw refusal(
                "The request has no client_secret for client \(clientId); Atlassian's 3LO needs it (PKCE alone is not supported)."
            )
        }
        guard APITokens.constantTimeEqual(APITokens.hash(secret), app.clientSecretHash) else {
            throw refusal("The client_secret is not the secret of client \(clientId).")
        }
        return app
    }

    private func exchangeCode(_ parameters: TokenRequest, client: OAuthApp, builder: inout ResponseBuilder)
        async throws -> Response
    {
        guard let code = parameters["code"] else {
            throw Self.invalidRequest(
                "Missing code", explanation: "grant_type=authorization_code needs the code from the redirect.")
        }
        guard let redirectUri = parameters["redirect_uri"] else {
            throw Self.invalidRequest(
                "Missing redirect_uri",
                explanation: "grant_type=authorization_code needs redirect_uri, exactly as sent to /authorize.")
        }
        let issued = Self.newTokens(now: now())
        switch try await store.oauth.redeemCode(
            codeHash: APITokens.hash(code), clientId: client.clientId, redirectUri: redirectUri, now: now(),
            familyId: UUID().uuidString.lowercased(), tokens: issued.hashed)
        {
        case .refused(let reason):
            throw JiraFailure(
                status: .forbidden,
                body: .oauthError(error: "invalid_grant", description: "Invalid authorization code"),
                explanation: reason)
        case .redeemed(let grant):
            builder.caller = .oauth(clientId: grant.clientId, accountId: grant.accountId)
            let offline = OAuthTokenRules.issuesRefreshToken(for: grant.scopes)
            return Self.tokenResponse(
                issued, refreshToken: offline ? issued.refreshToken : nil, scopes: grant.scopes, builder: builder)
        }
    }

    private func refresh(_ parameters: TokenRequest, client: OAuthApp, builder: inout ResponseBuilder)
        async throws -> Response
    {
        guard let refreshToken = parameters["refresh_token"] else {
            throw Self.invalidRequest(
                "Missing refresh_token",
                explanation:
                    "grant_type=refresh_token needs refresh_token. A refresh token is issued only when the authorization's scope includes offline_access; without it the app must send the user through /authorize again."
            )
        }
        let issued = Self.newTokens(now: now())
        switch try await store.oauth.refresh(
            refreshTokenHash: APITokens.hash(refreshToken), clientId: client.clientId, now: now(),
            tokens: issued.hashed)
        {
        case .refused(let reason):
            throw JiraFailure(
                status: .forbidden,
                body: .oauthError(error: "invalid_grant", description: "Unknown or invalid refresh token."),
                explanation: reason)
        case .rotated(let family):
            builder.caller = .oauth(clientId: family.clientId, accountId: family.accountId)
            return Self.tokenResponse(
                issued, refreshToken: issued.refreshToken, scopes: family.scopes, builder: builder)
        }
    }

    /// A new access token and refresh token, in clear for the answer.
    struct NewTokens: Sendable {
        let accessToken: String
        let refreshToken: String
        let expiresAt: Date

        /// As the store keeps them; the store keeps the refresh token only when the grant allows one.
        var hashed: IssuedTokens {
            IssuedTokens(
                accessTokenHash: APITokens.hash(accessToken), accessTokenExpiresAt: expiresAt,
                refreshTokenHash: APITokens.hash(refreshToken))
        }
    }

    static func newTokens(now: Date) -> NewTokens {
        NewTokens(
            accessToken: newSecret(), refreshToken: newSecret(),
            expiresAt: now.addingTimeInterval(OAuthTokenRules.accessTokenLifetime))
    }

    /// The token endpoint's body: `access_token`, `expires_in`, `token_type`, `refresh_token` (with
    /// `offline_access` only) and `scope`, in that order.
    static func tokenBody(accessToken: String, refreshToken: String?, scopes: [String]) -> JSONValue {
        var members = [
            JSONMember("access_token", .string(accessToken)),
            JSONMember("expires_in", .number(String(Int(OAuthTokenRules.accessTokenLifetime)))),
            JSONMember("token_type", .string("Bearer")),
        ]
        if let refreshToken { members.append(JSONMember("refresh_token", .string(refreshToken))) }
        members.append(JSONMember("scope", .string(scopes.joined(separator: " "))))
        return .object(members)
    }

    static func tokenResponse(_ issued: NewTokens, refreshToken: String?, scopes: [String], builder: ResponseBuilder)
        -> Response
    {
        var response = builder.json(
            .ok, tokenBody(accessToken: issued.accessToken, refreshToken: refreshToken, scopes: scopes))
        response.headers[.cacheControl] = "no-store"
        response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        return response
    }
}
