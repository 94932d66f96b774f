import Foundation
import HTTPTypes
import Hummingbird
import UnderstudyCore

/// The header a Forge Container's egress sends with each product call (spec 11.2):
/// `Forge as=app,installationId=<id>` or `Forge as=user,installationId=<id>,accountId=<id>`.
struct ForgeProxyAuthorization: Equatable {
    static let header = HTTPField.Name("forge-proxy-authorization")!
    static let errorHeader = HTTPField.Name("forge-proxy-error")!

    enum Acting: Equatable {
        case app
        case user(accountId: String)
    }

    let installationId: String
    let acting: Acting

    /// Parses the header's value, or says what is wrong with it.
    init(_ value: String) throws(Refusal) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let scheme = trimmed.prefix { $0 != " " }
        guard scheme.lowercased() == "forge" else {
            throw Refusal(
                "forge-proxy-authorization must start with the scheme Forge (e.g. Forge as=app,installationId=ari:cloud:ecosystem::installation/…), not '\(scheme)'."
            )
        }
        var fields: [String: String] = [:]
        for part in trimmed.dropFirst(scheme.count).split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            guard pair.count == 2, !name.isEmpty else {
                throw Refusal("forge-proxy-authorization has '\(part)' where a name=value pair belongs.")
            }
            guard fields.updateValue(pair[1].trimmingCharacters(in: .whitespaces), forKey: name) == nil else {
                throw Refusal("forge-proxy-authorization gives \(name) twice.")
            }
        }
        guard let installationId = fields.removeValue(forKey: "installationId"), !installationId.isEmpty else {
            throw Refusal(
                fields["id"] != nil
                    ? "forge-proxy-authorization names an invocation (id=…), which only Forge's own proxy can resolve; Understudy needs installationId=<the app's installationId> instead."
                    : "forge-proxy-authorization has no installationId; send Forge as=app,installationId=<the app's installationId>."
            )
        }
        self.installationId = installationId
        let accountId = fields.removeValue(forKey: "accountId")
        switch fields.removeValue(forKey: "as") {
        case "app":
            // An accountId beside as=app (the user in the invocation) does not change who acts.
            acting = .app
        case "user":
            guard let accountId, !accountId.isEmpty else {
                throw Refusal("as=user needs accountId=<the user's accountId>: the user the call acts for.")
            }
            acting = .user(accountId: accountId)
        case let other:
            throw Refusal(
                "forge-proxy-authorization needs as=app or as=user, not \(other.map { "as=\($0)" } ?? "no as=")."
            )
        }
    }

    struct Refusal: Error {
        let explanation: String
        init(_ explanation: String) { self.explanation = explanation }
    }
}

/// The Forge Container egress proxy, `{method} /jira/{path}` (spec 11.2): the caller is named by
/// `forge-proxy-authorization`; behind it the gateway's route and scope checks and envelope.
extension UnderstudyResponder {
    static let forgeEgressPrefix = "/jira/"

    func handleForgeEgress(
        _ request: Request, jiraPath: Substring, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        let principal = try await forgeEgressPrincipal(request.headers[ForgeProxyAuthorization.header])
        builder.identify(principal)
        let identity = try await controlPlane.identity.identity()
        return try await serveBehindGateway(
            request, principal: principal, jiraPath: jiraPath, rawQuery: rawQuery, cloudId: identity.cloudId,
            builder: &builder, explanation: &explanation)
    }

    private func forgeEgressPrincipal(_ header: String?) async throws -> Principal {
        func needsAuthentication(_ explanation: String) -> JiraFailure {
            var failure = JiraFailure.gatewayUnauthorized(explanation)
            failure.headers[ForgeProxyAuthorization.errorHeader] = "NEEDS_AUTHENTICATION_ERR"
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
