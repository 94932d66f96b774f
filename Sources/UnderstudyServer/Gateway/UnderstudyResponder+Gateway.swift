import HTTPTypes
import Hummingbird
import UnderstudyCore

/// The API gateway, `/ex/jira/{cloudId}/…` (spec 8, 8.1, 8.2): its own credentials, checked in
/// its own order (credentials, cloudId, route, scopes) and answered in its own envelope; behind it
/// the same resources as on the site URL, acting as the token's principal.
extension UnderstudyResponder {
    func handleGateway(
        _ request: Request, target: GatewayTarget, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        let principal: Principal
        switch try await gatewayAuthenticator.authenticate(
            authorization: request.headers[.authorization],
            carriesJWTParameter: rawQuery.map(Self.hasJWTParameter) ?? false,
            siteURL: { representations.siteBase + target.jiraPath + (rawQuery.map { "?" + $0 } ?? "") })
        {
        case .refused(let reason): throw JiraFailure.gatewayUnauthorized(reason)
        case .principal(let authenticated): principal = authenticated
        }
        builder.identify(principal)

        let identity = try await controlPlane.identity.identity()
        guard target.cloudId == identity.cloudId else {
            throw JiraFailure.scopeMismatch(
                "'\(target.cloudId)' is not this site's cloudId, so the gateway finds no route; this site's cloudId is \(identity.cloudId) (GET /_edge/tenant_info or /oauth/token/accessible-resources tell it)."
            )
        }
        return try await serveBehindGateway(
            request, principal: principal, jiraPath: target.jiraPath, rawQuery: rawQuery, cloudId: identity.cloudId,
            builder: &builder, explanation: &explanation)
    }

    /// What the gateway does once it knows the principal and the site — the route, the scope check,
    /// then Jira's own rules and bodies (spec 2.3, 4, 6) — shared with the Forge egress (spec 11.2).
    func serveBehindGateway(
        _ request: Request, principal: Principal, jiraPath: Substring, rawQuery: Substring?, cloudId: String,
        builder: inout ResponseBuilder, explanation: inout String?
    ) async throws -> Response {
        let operation: JiraOperation
        let route: Route
        switch GatewayTarget.resolve(jiraPath: jiraPath, method: request.method) {
        case .unknown(let reason): throw JiraFailure.scopeMismatch(reason)
        case .operation(let resolved, let resolvedRoute):
            operation = resolved
            route = resolvedRoute
        }
        guard GatewayScopes.satisfies(operation, held: principal.scopes) else {
            var reason = GatewayScopes.mismatch(
                operation, version: GatewayTarget.version(of: jiraPath), held: principal.scopes)
            if let app = principal.forgeApp { reason += " " + GatewayScopes.manifestAdvice(operation, app: app) }
            throw JiraFailure.scopeMismatch(reason)
        }

        builder.neverCache = route.isPropertyResource
        let connectApp = try await route.isAppPropertyResource ? appPropertyCaller(principal, route: route) : nil
        let query: QueryParameters
        do {
            query = try QueryParameters(rawQuery)
        } catch {
            throw JiraFailure.malformedQuery(error)
        }
        if let fault = controlPlane.faults.take(
            method: request.method.rawValue, path: jiraPath, callers: principal.faultCallers)
        {
            if fault.latency > .zero { try await Task.sleep(for: fault.latency) }
            if let failure = fault.failure(now: now()) { throw failure }
            explanation = "Delayed by fault rule \(fault.id)."
        }
        var exchange = Exchange(
            request: request, route: route, query: query, builder: builder, note: explanation,
            linkBase: representations.gatewayBase(cloudId: cloudId))
        defer {
            builder = exchange.builder
            explanation = exchange.note
        }
        do {
            return try await dispatch(&exchange, caller: principal.user, app: connectApp)
        } catch let error as UserPropertyError where principal.isForgeAppUser {
            // Jira's refusal as it is, with the cause of an app user's missing permission named.
            var failure = error.failure
            switch error {
            case .notAdministrator, .noJiraAccess:
                failure.explanation += " " + (principal.forgeApp?.administrationNote ?? "")
            default: break
            }
            throw failure
        }
    }

    /// The Connect app whose properties a gateway caller may use (spec 11.3): only a Forge app
    /// with that Connect key, acting as itself. Anyone else is not an app.
    private func appPropertyCaller(_ principal: Principal, route: Route) async throws -> ConnectApp {
        func notAnApp(_ explanation: String) -> JiraFailure {
            JiraFailure(status: .unauthorized, body: .appMessage(JiraFailure.notAnAppMessage), explanation: explanation)
        }
        guard let forgeApp = principal.forgeApp else {
            throw notAnApp(
                "App properties are reached only by the Connect app whose key is addonKey (with its JWT, on the site URL) or a Forge app with that Connect key; an OAuth 2.0 token or an API token is not an app."
            )
        }
        guard principal.isForgeAppUser else {
            throw notAnApp(
                "Forge app \(forgeApp.name) reaches app properties as itself only: call them with asApp() (an app system token), not asUser()."
            )
        }
        guard let connectKey = forgeApp.connectKey else {
            throw notAnApp(
                "Forge app \(forgeApp.name) has no Connect key (app.connect.key in manifest.yml), so it has no Connect app properties; Forge apps keep their own data in Forge storage."
            )
        }
        let encodedAppKey: Substring
        switch route {
        case .appPropertyKeys(let key), .appProperty(let key, _): encodedAppKey = key
        default: preconditionFailure("only for app-property routes")
        }
        let addonKey = try Self.decodeKey(encodedAppKey, appShape: true)
        guard addonKey == connectKey else {
            throw notAnApp(
                "Forge app \(forgeApp.name)'s Connect key is \(connectKey), so it may use /rest/atlassian-connect/1/addons/\(connectKey)/properties only, not those of \(addonKey)."
            )
        }
        guard let connectApp = try await store.app(key: connectKey) else {
            throw notAnApp(
                "Forge app \(forgeApp.name) declares Connect key \(connectKey), but no Connect app with that key is installed on this site; add it to the site file's apps."
            )
        }
        return connectApp
    }
}

extension UnderstudyResponder {
    /// Whether a raw query has a `jwt` parameter, without decoding it.
    static func hasJWTParameter(_ query: Substring) -> Bool {
        query.split(separator: "&").contains { $0 == "jwt" || $0.hasPrefix("jwt=") }
    }
}
