import HTTPTypes
import Hummingbird
import UnderstudyAuth
import UnderstudyCore

extension ForgeProxyAuthorization {
    static let headerName = HTTPField.Name("forge-proxy-authorization")!
    static let errorHeaderName = HTTPField.Name("forge-proxy-error")!
}

/// The Forge Container egress proxy, `{method} /jira/{path}` (spec 11.2): the caller is named by
/// `forge-proxy-authorization`; behind it the gateway's route and scope checks and envelope.
extension UnderstudyResponder {
    static let forgeEgressPrefix = "/jira/"

    func handleForgeEgress(
        _ request: Request, jiraPath: Substring, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        let principal = try await forgeEgressPrincipal(request.headers[ForgeProxyAuthorization.headerName])
        builder.identify(principal)
        let identity = try await controlPlane.identity.identity()
        return try await serveBehindGateway(
            request, principal: principal, jiraPath: jiraPath, rawQuery: rawQuery, cloudId: identity.cloudId,
            builder: &builder, explanation: &explanation)
    }

    private func forgeEgressPrincipal(_ header: String?) async throws -> Principal {
        func needsAuthentication(_ explanation: String) -> JiraFailure {
            var failure = JiraFailure.gatewayUnauthorized(explanation)
            failure.headers[ForgeProxyAuthorization.errorHeaderName] = "NEEDS_AUTHENTICATION_ERR"
            return failure
        }
        guard let header else {
            throw needsAuthentication(
                "The Forge egress needs forge-proxy-authorization: Forge as=app,installationId=<id> (or as=user,installationId=<id>,accountId=<id>); the request has none."
            )
        }
        let authorization: ForgeProxyAuthorization
        do {
            authorization = try ForgeProxyAuthorization(header)
        } catch {
            throw needsAuthentication(error.explanation)
        }
        guard let app = try await store.forge.forgeApp(installationId: authorization.installationId) else {
            throw needsAuthentication(
                "No Forge app of this site has installationId \(authorization.installationId); GET /_understudy/forge/apps lists the installations."
            )
        }
        switch authorization.acting {
        case .app:
            guard let appUser = try await store.user(accountId: app.accountId) else {
                throw needsAuthentication("Forge app \(app.name)'s app user \(app.accountId) is no longer on the site.")
            }
            return Principal(user: appUser, credential: .forge(app), scopes: app.scopes)
        case .user(let accountId):
            guard let user = try await store.user(accountId: accountId), user.accountType == .atlassian, user.active
            else {
                throw needsAuthentication(
                    "as=user names \(accountId), who is not an active person of this site, so there is no user to act for."
                )
            }
            return Principal(user: user, credential: .forge(app), scopes: app.scopes)
        }
    }
}
