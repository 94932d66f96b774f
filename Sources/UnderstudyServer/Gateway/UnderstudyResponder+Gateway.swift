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
        let operation: JiraOperation
        let route: Route
        switch target.resolve(method: request.method) {
        case .unknown(let reason): throw JiraFailure.scopeMismatch(reason)
        case .operation(let resolved, let resolvedRoute):
            operation = resolved
            route = resolvedRoute
        }
        guard GatewayScopes.satisfies(operation, held: principal.scopes) else {
            throw JiraFailure.scopeMismatch(
                GatewayScopes.mismatch(operation, version: target.version, held: principal.scopes))
        }

        // Past the gateway: Jira's own rules and bodies (spec 2.3, 4, 6), as the principal.
        builder.neverCache = route.isPropertyResource
        guard !route.isAppPropertyResource else {
            throw JiraFailure(
                status: .unauthorized, body: .appMessage(JiraFailure.notAnAppMessage),
                explanation:
                    "App properties are reached only by the Connect app whose key is addonKey (with its JWT, on the site URL) or a Forge app with that Connect key; an OAuth 2.0 token or an API token is not an app."
            )
        }
        let query: QueryParameters
        do {
            query = try QueryParameters(rawQuery)
        } catch {
            throw JiraFailure.malformedQuery(error)
        }
        if let fault = controlPlane.faults.take(
            method: request.method.rawValue, path: target.jiraPath, callers: principal.faultCallers)
        {
            if fault.latency > .zero { try await Task.sleep(for: fault.latency) }
            if let failure = fault.failure(now: now()) { throw failure }
            explanation = "Delayed by fault rule \(fault.id)."
        }
        var exchange = Exchange(
            request: request, route: route, query: query, builder: builder, note: explanation,
            linkBase: representations.gatewayBase(cloudId: identity.cloudId))
        defer {
            builder = exchange.builder
            explanation = exchange.note
        }
        return try await dispatch(&exchange, caller: principal.user, app: nil)
    }
}

extension UnderstudyResponder {
    /// Whether a raw query has a `jwt` parameter, without decoding it.
    static func hasJWTParameter(_ query: Substring) -> Bool {
        query.split(separator: "&").contains { $0 == "jwt" || $0.hasPrefix("jwt=") }
    }
}
