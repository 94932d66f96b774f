import Hummingbird
import UnderstudyAuth
import UnderstudyCore

/// The OAuth 2.0 part of the control API (spec 12):
///
/// | method | path | does |
/// |---|---|---|
/// | GET | `/_understudy/oauth/apps` | the OAuth apps (secrets never shown) |
/// | POST | `/_understudy/oauth/apps` | registers one (`name`, `callbackUrls`, `scopes`, optional `clientId`); `201` with its secret, shown once |
/// | POST | `/_understudy/oauth/tokens` | tokens for a user and app without the consent page (`clientId`, `accountId`, `scopes`) |
/// | GET | `/_understudy/oauth/consents` | every user's consent to every app |
/// | DELETE | `/_understudy/oauth/consents/{clientId}/{accountId}` | revokes one: its codes and tokens stop working at once |
extension ControlPlane {
    func oauth(_ request: Request, resource: Substring, builder: ResponseBuilder) async throws -> Response {
        switch (request.method, resource) {
        case (.get, "apps"):
            let apps = try await store.oauth.oauthApps()
            return builder.json(.ok, .object([JSONMember("apps", .array(apps.map(Self.json)))]))
        case (.post, "apps"):
            guard case .object(let members) = try await Self.json(request) else {
                throw ControlRequestError.badRequest(
                    "Send {\"name\": …, \"callbackUrls\": […], \"scopes\": […]} (clientId and clientSecret are optional)."
                )
            }
            let app: OAuthApp
            let secret: String
            do {
                (app, secret) = try SiteSetup.newOAuthApp(members)
            } catch {
                throw ControlRequestError.badRequest("The OAuth app is not valid: \(error.path): \(error.problem)")
            }
            try await store.oauth.addOAuthApp(app)
            var created = Self.json(app)
            if case .object(var fields) = created {
                fields.insert(JSONMember("clientSecret", .string(secret)), at: 1)
                created = .object(fields)
            }
            return builder.json(.created, created)
        case (.post, "tokens"):
            guard case .object(let members) = try await Self.json(request),
                case .string(let clientId)? = members.first(where: { $0.name == "clientId" })?.value,
                case .string(let accountId)? = members.first(where: { $0.name == "accountId" })?.value,
                case .array(let scopeValues)? = members.first(where: { $0.name == "scopes" })?.value
            else {
                throw ControlRequestError.badRequest(
                    "Send {\"clientId\": …, \"accountId\": …, \"scopes\": [\"read:jira-user\", …]}.")
            }
            let scopes = scopeValues.compactMap { if case .string(let scope) = $0 { scope } else { nil } }
            let tokens: OAuthTokenMinter.Tokens
            do {
                tokens = try await OAuthTokenMinter(store: store, now: clock.now).mint(
                    clientId: clientId, accountId: accountId, scopes: scopes)
            } catch let refusal as OAuthTokenMinter.Refusal {
                throw ControlRequestError(
                    status: .notFound, message: refusal.description, explanation: refusal.description)
            }
            return builder.json(
                .created,
                AuthorizationServer.tokenBody(
                    accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, scopes: tokens.scopes))
        case (.get, "consents"):
            let consents = try await store.oauth.oauthConsents()
            return builder.json(.ok, .object([JSONMember("consents", .array(consents.map(Self.json)))]))
        case (.delete, let rest) where rest.hasPrefix("consents/"):
            let parts = rest.dropFirst("consents/".count).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ControlRequestError.badRequest(
                    "Revoke a consent with DELETE /_understudy/oauth/consents/{clientId}/{accountId}.")
            }
            let clientId = PercentEncoding.decodeLeniently(parts[0], plusIsSpace: false)
            let accountId = PercentEncoding.decodeLeniently(parts[1], plusIsSpace: false)
            guard try await store.oauth.revokeConsent(clientId: clientId, accountId: accountId) else {
                throw ControlRequestError(
                    status: .notFound, message: "User \(accountId) has no consent to OAuth app \(clientId).",
                    explanation: "GET /_understudy/oauth/consents lists the consents there are.")
            }
            return builder.empty(.noContent)
        default:
            throw ControlRequestError(
                status: .notFound, message: "The requested resource could not be found.",
                explanation:
                    "The OAuth part of the control API has GET and POST /_understudy/oauth/apps, POST /_understudy/oauth/tokens, GET /_understudy/oauth/consents and DELETE /_understudy/oauth/consents/{clientId}/{accountId}."
            )
        }
    }

    static func json(_ app: OAuthApp) -> JSONValue {
        .object([
            JSONMember("clientId", .string(app.clientId)), JSONMember("name", .string(app.name)),
            JSONMember("callbackUrls", .array(app.callbackUrls.map(JSONValue.string))),
            JSONMember("scopes", .array(app.scopes.map(JSONValue.string))),
        ])
    }

    static func json(_ consent: OAuthConsent) -> JSONValue {
        .object([
            JSONMember("clientId", .string(consent.clientId)), JSONMember("accountId", .string(consent.accountId)),
            JSONMember("scopes", .array(consent.scopes.map(JSONValue.string))),
        ])
    }
}
