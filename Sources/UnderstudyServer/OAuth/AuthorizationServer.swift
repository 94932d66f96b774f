import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// Atlassian's authorization server and identity endpoints, for OAuth 2.0 (3LO) apps (spec 9):
///
/// | method | path | does |
/// |---|---|---|
/// | GET | `/_edge/tenant_info` | the site's cloudId, no authentication |
/// | GET, POST | `/authorize` | the consent page; its form (`AuthorizationServer+Consent`) |
/// | POST | `/oauth/token` | the authorization-code and refresh grants |
/// | GET | `/oauth/token/accessible-resources` | the site, for a valid access token |
/// | GET | `/me` | the user, for a token with `read:me` |
///
/// Secrets never stay in clear: codes and tokens are handed out once and stored as hashes.
struct AuthorizationServer: Sendable {
    let store: any SiteStore
    /// Checks Bearer tokens for `accessible-resources` and `/me` exactly as the gateway does.
    let gatewayAuthenticator: GatewayAuthenticator
    let identity: SiteIdentityCache
    let representations: Representations
    let now: @Sendable () -> Date

    /// Token requests are small forms; anything longer is refused before it is parsed.
    static let maximumBodyBytes = 64 * 1024

    enum Endpoint {
        case tenantInfo, authorize, token, accessibleResources, me

        init?(path: Substring) {
            switch path {
            case "/_edge/tenant_info": self = .tenantInfo
            case "/authorize": self = .authorize
            case "/oauth/token": self = .token
            case "/oauth/token/accessible-resources": self = .accessibleResources
            case "/me": self = .me
            default: return nil
            }
        }

        var methods: [HTTPRequest.Method] {
            switch self {
            case .authorize: [.get, .post]
            case .token: [.post]
            case .tenantInfo, .accessibleResources, .me: [.get]
            }
        }
    }

    func respond(
        to request: Request, endpoint: Endpoint, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        guard endpoint.methods.contains(request.method) else {
            let allowed = endpoint.methods.map(\.rawValue).joined(separator: ", ")
            var headers = HTTPFields()
            headers[.allow] = allowed
            throw JiraFailure(
                status: .methodNotAllowed, body: .empty,
                explanation: "\(request.method.rawValue) is not an operation of this endpoint; it supports \(allowed).",
                headers: headers)
        }
        switch endpoint {
        case .tenantInfo:
            let cloudId = try await identity.identity().cloudId
            return builder.json(.ok, .object([JSONMember("cloudId", .string(cloudId))]))
        case .authorize:
            return try await authorize(request, rawQuery: rawQuery, builder: builder)
        case .token:
            return try await token(request, builder: &builder)
        case .accessibleResources:
            let principal = try await bearerPrincipal(request, builder: &builder)
            let site = try await identity.identity()
            let scopes = principal.scopes.filter { !GatewayScopes.identityScopes.contains($0) }
            let resource = JSONValue.object([
                JSONMember("id", .string(site.cloudId)),
                JSONMember("name", .string(site.name)),
                JSONMember("url", .string(representations.siteBase)),
                JSONMember("scopes", .array(scopes.map(JSONValue.string))),
                JSONMember("avatarUrl", .string("\(representations.siteBase)/images/site-avatar.png")),
            ])
            return builder.json(.ok, .array([resource]))
        case .me:
            let principal = try await bearerPrincipal(request, builder: &builder)
            guard principal.scopes.contains("read:me") else {
                let held = principal.scopes.isEmpty ? "no scopes" : principal.scopes.joined(separator: ", ")
                throw JiraFailure.scopeMismatch(
                    "GET /me needs read:me (the user identity API); the token has \(held). Add read:me to the app's scopes and to the authorization's scope parameter."
                )
            }
            let user = principal.user
            let name = user.displayName
            return builder.json(
                .ok,
                .object([
                    JSONMember("account_type", .string("atlassian")),
                    JSONMember("account_id", .string(user.accountId)),
                    JSONMember("email", .string(user.emailAddress ?? "")),
                    JSONMember("name", .string(name)),
                    JSONMember(
                        "picture",
                        .string(
                            "\(representations.siteBase)/secure/useravatar?size=48&ownerId=\(representations.encodeAccountId(user.accountId))"
                        )),
                    JSONMember("account_status", .string(user.active ? "active" : "inactive")),
                    JSONMember("nickname", .string(name.split(separator: " ").first.map(String.init) ?? name)),
                    JSONMember("zoneinfo", .string(user.timeZone)),
                    JSONMember("locale", .string(user.locale.replacingOccurrences(of: "_", with: "-"))),
                ]))
        }
    }

    /// The principal of a valid `Authorization: Bearer` access token, checked as the gateway
    /// checks it; otherwise the gateway's `401`.
    private func bearerPrincipal(_ request: Request, builder: inout ResponseBuilder) async throws -> Principal {
        guard let header = request.headers[.authorization],
            let (scheme, credentials) = Authenticator.schemeAndCredentials(Substring(header)),
            case .bearer = scheme
        else {
            throw JiraFailure.gatewayUnauthorized(
                "This endpoint takes Authorization: Bearer <access token> from POST /oauth/token.")
        }
        switch try await gatewayAuthenticator.bearer(String(credentials.trimmingWhitespace())) {
        case .refused(let reason): throw JiraFailure.gatewayUnauthorized(reason)
        case .principal(let principal):
            builder.identify(principal)
            return principal
        }
    }

    /// A new secret for a code or token: 256 random bits as hex.
    static func newSecret() -> String { APITokens.randomHex(byteCount: 32) }
}
