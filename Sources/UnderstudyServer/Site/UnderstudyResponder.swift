import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import UnderstudyCore

/// Answers every request the way Jira Cloud would: routing on the raw path, authentication, the
/// Connect scope gate, the method check, then the resource (spec 1, 3–6). Each refusal is a
/// `JiraFailure` rendered in one place, with its explanation in the header and the log.
struct UnderstudyResponder: HTTPResponder {
    typealias Context = UnderstudyRequestContext

    let configuration: ServerConfiguration
    let store: any SiteStore
    let authenticator: Authenticator
    let gatewayAuthenticator: GatewayAuthenticator
    let authorizationServer: AuthorizationServer
    let userProperties: UserPropertyService
    let appProperties: AppPropertyService
    let representations: Representations
    let controlPlane: ControlPlane
    let now: @Sendable () -> Date
    let requestIds = RequestIdGenerator()
    /// The plugin manager's upm-tokens and install tasks (spec 13.4).
    let pluginManager = PluginManagerTasks()
    /// Header sections larger than this are refused with `431` before authentication (spec 5.2).
    static let maximumHeaderBytes = 16 * 1024

    init(
        configuration: ServerConfiguration, address: SiteAddress, store: any SiteStore, controlPlane: ControlPlane
    ) {
        let now = controlPlane.clock.now
        self.configuration = configuration
        self.store = store
        self.controlPlane = controlPlane
        self.now = now
        self.authenticator = Authenticator(store: store, basePath: configuration.basePath, now: now)
        self.gatewayAuthenticator = GatewayAuthenticator(store: store, now: now)
        self.representations = Representations(address: address)
        self.authorizationServer = AuthorizationServer(
            store: store, gatewayAuthenticator: gatewayAuthenticator, identity: controlPlane.identity,
            representations: representations, now: now)
        self.userProperties = UserPropertyService(store: store)
        self.appProperties = AppPropertyService(store: store)
    }

    /// What one request has established so far, passed to the resource handlers.
    struct Exchange {
        let request: Request
        let route: Route
        let query: QueryParameters
        var builder: ResponseBuilder
        /// An explanation for a successful response (spec 1.2, 4.5), also logged.
        var note: String?
        /// Where `self` links start: the site's base URL, or the gateway's prefix (spec 8).
        let linkBase: String
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var builder = ResponseBuilder(requestId: requestIds.next(), explain: configuration.explain)
        let target = Substring(request.head.path ?? "/")
        let queryStart = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = target[..<(queryStart ?? target.endIndex)]
        let rawQuery = queryStart.map { target[target.index(after: $0)...] }
        if path.utf8.starts(with: "/_understudy/".utf8), path != "/_understudy/openapi.json" {
            return await respondToControl(request, path: path, query: rawQuery, builder: builder, context: context)
        }
        if let frontEnd = FrontEndRoute(path: path) {
            return await respondToFrontEnd(request, route: frontEnd, rawQuery: rawQuery, context: context)
        }
        var explanation: String?
        var response: Response
        do {
            response = try await handle(
                request, target: target, path: path, rawQuery: rawQuery, builder: &builder, explanation: &explanation)
        } catch {
            (response, explanation) = answer(error, path: path, builder: builder, context: context)
        }
        if response.status.code >= 400, !builder.closeConnection, Self.mayHaveLargeUnreadBody(request) {
            // Refused before its body was read: closing is cheaper than draining up to the request
            // timeout's worth of bytes from a client that may be sending megabytes.
            builder.closeConnection = true
            response.headers[.connection] = "close"
        }
        if builder.closeConnection { context.closeAfterResponse() }
        log(request, response: response, explanation: explanation, builder: builder, started: started, context: context)
        controlPlane.journal.record(
            JournalEntry(
                time: now(), method: request.method.rawValue, target: JournalEntry.redactingTokens(target),
                caller: builder.caller, status: response.status.code, explanation: explanation,
                duration: ContinuousClock.now - started, requestId: builder.requestId))
        return response
    }

    /// Jira's answer to a request that failed with `error`, and its explanation.
    func answer(_ error: any Error, path: Substring, builder: ResponseBuilder, context: Context) -> (
        Response, String?
    ) {
        let failure: JiraFailure
        switch error {
        case let refusal as JiraFailure: failure = refusal
        case let error as UserPropertyError: failure = error.failure
        case let error as AppPropertyError: failure = error.failure
        case SiteStoreError.unavailable(let reason):
            failure =
                Route(path: path).isAppPropertyResource
                ? JiraFailure.storeUnavailable(reason).asAppMessage() : .storeUnavailable(reason)
        case is NIOTooManyBytesError:
            failure = JiraFailure(
                .contentTooLarge, message: "The request body is too large.",
                explanation:
                    "The request body is longer than this resource reads (the UPM install request, for one, is a small JSON object)."
            )
        default:
            context.logger.error("Unexpected error: \(error)", metadata: ["request.id": "\(builder.requestId)"])
            failure = JiraFailure(
                .internalServerError, message: "Internal server error.",
                explanation: "Understudy failed unexpectedly while answering; the server log has the details.")
        }
        return (builder.failure(failure), failure.explanation)
    }

    /// The control API answers apart from Jira's: its own credentials, no journal entry.
    private func respondToControl(
        _ request: Request, path: Substring, query: Substring?, builder: ResponseBuilder, context: Context
    ) async -> Response {
        do {
            return try await controlPlane.respond(to: request, path: path, query: query, builder: builder)
        } catch let error as ControlRequestError {
            return builder.failure(error.failure)
        } catch SiteStoreError.unavailable(let reason) {
            return builder.failure(.storeUnavailable(reason))
        } catch let error as SiteStoreError {
            return builder.failure(JiraFailure(.badRequest, message: "\(error)", explanation: "\(error)"))
        } catch is NIOTooManyBytesError {
            return builder.failure(
                JiraFailure(
                    .contentTooLarge, message: "The request body is too large.",
                    explanation:
                        "The control API reads snapshots of up to \(ControlPlane.maximumSnapshotBytes) bytes and other bodies of up to 1 MiB."
                ))
        } catch {
            context.logger.error("Control request failed: \(error)", metadata: ["request.id": "\(builder.requestId)"])
            return builder.failure(
                JiraFailure(
                    .internalServerError, message: "Internal server error.",
                    explanation: "Understudy failed unexpectedly while answering; the server log has the details."))
        }
    }

    static func mayHaveLargeUnreadBody(_ request: Request) -> Bool {
        if let declared = request.headers[.contentLength].flatMap(Int.init) {
            return declared > PropertyLimits.maximumValueBytes
        }
        return request.headers[.transferEncoding] != nil
    }

    private func log(
        _ request: Request, response: Response, explanation: String?, builder: ResponseBuilder,
        started: ContinuousClock.Instant, context: Context
    ) {
        // Refusals and explained answers are what a developer looks for; plain successes are debug
        // lines, so a busy test suite does not pay for a log line per request.
        let level: Logger.Level = explanation != nil || response.status.code >= 400 ? .info : .debug
        guard context.logger.logLevel <= level else { return }
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "request.id": "\(builder.requestId)",
            "status": "\(response.status.code)",
            "duration_us":
                "\(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)",
        ]
        if let caller = builder.caller.accountId { metadata["caller"] = "\(caller)" }
        if let explanation { metadata["explanation"] = "\(explanation)" }
        // The path is logged without its query, which may carry a jwt token.
        let path = request.head.path ?? ""
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        context.logger.log(level: level, "\(request.method.rawValue) \(pathOnly)", metadata: metadata)
    }

    /// Picks the entry point: the API gateway, the Forge egress, the authorization server, or the site
    /// URL.
    ///
    /// - Parameters:
    ///   - target: the request target as sent; `path` and `rawQuery` are its two parts.
    private func handle(
        _ request: Request, target: Substring, path: Substring, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        let headerBytes = request.headers.reduce(0) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 4 }
        guard headerBytes <= Self.maximumHeaderBytes else {
            throw JiraFailure(
                status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                body: .errorCollection(messages: ["Request header fields too large."]),
                explanation:
                    "The request's header section is \(headerBytes) bytes; Understudy accepts at most \(Self.maximumHeaderBytes). An oversized cookie or token is the usual cause."
            )
        }
        if let gateway = GatewayTarget(path: path) {
            return try await handleGateway(
                request, target: gateway, rawQuery: rawQuery, builder: &builder, explanation: &explanation)
        }
        if path.utf8.starts(with: Self.forgeEgressPrefix.utf8) {
            return try await handleForgeEgress(
                request, jiraPath: path.dropFirst(Self.forgeEgressPrefix.count - 1), rawQuery: rawQuery,
                builder: &builder, explanation: &explanation)
        }
        if path.utf8.starts(with: Self.installKeysPrefix.utf8) {
            return try await handleInstallKey(
                request, kid: path.dropFirst(Self.installKeysPrefix.count), builder: builder,
                explanation: &explanation)
        }
        if path.utf8.starts(with: Self.pluginManagerPath.utf8) || path == Self.pluginManagerPath.dropLast() {
            return try await handlePluginManager(
                request, resource: path.dropFirst(min(path.count, Self.pluginManagerPath.count)), rawQuery: rawQuery,
                target: target, builder: &builder, explanation: &explanation)
        }
        if let endpoint = AuthorizationServer.Endpoint(path: path) {
            return try await authorizationServer.respond(
                to: request, endpoint: endpoint, rawQuery: rawQuery, builder: &builder, explanation: &explanation)
        }
        return try await handleSite(
            request, target: target, path: path, rawQuery: rawQuery, builder: &builder, explanation: &explanation)
    }

    /// The site URL (spec 1–7): Basic and Connect JWT callers, the Connect scope gate, Jira's errors.
    private func handleSite(
        _ request: Request, target: Substring, path: Substring, rawQuery: Substring?, builder: inout ResponseBuilder,
        explanation: inout String?
    ) async throws -> Response {
        let route = Route(path: path)
        builder.neverCache = route.isPropertyResource
        // Until the caller is known to be an app, app-property errors already use their own shape.
        let shape: (JiraFailure) -> JiraFailure = route.isAppPropertyResource ? { $0.asAppMessage() } : { $0 }

        let query: QueryParameters
        do {
            query = try QueryParameters(rawQuery)
        } catch {
            throw shape(JiraFailure.malformedQuery(error))
        }

        let authentication = try await authenticator.authenticate(
            authorization: request.headers.value(of: .authorization), jwtQueryParameter: query["jwt"],
            method: request.method.rawValue, target: target)
        var principal: Principal?
        /// Why the credentials sent were refused, if they were.
        var failure: String?
        switch authentication {
        case .anonymous: break
        case .principal(let authenticated): principal = authenticated
        case .gatewayOnly(let credential):
            let identity = try await controlPlane.identity.identity()
            failure =
                "\(credential) are accepted only through the API gateway: call \(representations.gatewayBase(cloudId: identity.cloudId))\(target)."
        case .failed(let reason):
            failure = reason
        }
        if let failure {
            builder.authenticationFailed = true
            if route.requiresAuthentication {
                let message =
                    route.isAppPropertyResource ? JiraFailure.notAnAppMessage : JiraFailure.notAuthenticatedMessage
                throw shape(JiraFailure(.unauthorized, message: message, explanation: failure))
            }
            // Anonymous-capable resources answer as for an anonymous caller; say why in the header.
            explanation = failure
        }
        return try await serveSite(
            request, route: route, path: path, query: query, principal: principal, builder: &builder,
            explanation: &explanation)
    }

    /// What the site URL does once it knows who is calling (spec 2.3, 4–6): fault rules, the Connect
    /// scope gate, the route and method checks, then the resource. Shared with the host pages' relay
    /// (spec 16), where the principal is the signed-in user in an app's page.
    func serveSite(
        _ request: Request, route: Route, path: Substring, query: QueryParameters, principal: Principal?,
        builder: inout ResponseBuilder, explanation: inout String?
    ) async throws -> Response {
        let shape: (JiraFailure) -> JiraFailure = route.isAppPropertyResource ? { $0.asAppMessage() } : { $0 }
        if let principal { builder.identify(principal) }
        let caller = principal?.user
        let app = principal?.scopingConnectApp
        if let fault = controlPlane.faults.take(
            method: request.method.rawValue, path: path, callers: principal?.faultCallers ?? ["anonymous"])
        {
            if fault.latency > .zero { try await Task.sleep(for: fault.latency) }
            if let failure = fault.failure(now: now()) { throw shape(failure) }
            if explanation == nil { explanation = "Delayed by fault rule \(fault.id)." }
        }

        if let app, path.hasPrefix("/rest/") {
            try scopeGate(
                app: app, route: route, method: request.method, path: path, shape: shape,
                inPage: principal?.connectApp == nil)
        }
        try refuseUnknown(route, path: path)
        guard caller != nil || !route.requiresAuthentication else {
            throw shape(notAuthenticated(route))
        }
        // App properties belong to apps: a person's credentials are refused before anything else.
        guard app != nil || !route.isAppPropertyResource else {
            throw notAuthenticated(route)
        }
        guard route.allowedMethods.contains(request.method) else {
            throw JiraFailure.methodNotAllowed(request.method, route: route)
        }

        var exchange = Exchange(
            request: request, route: route, query: query, builder: builder, note: explanation,
            linkBase: representations.siteBase)
        // What the handler learnt (a body cut short, a note) holds for its errors too.
        defer {
            builder = exchange.builder
            explanation = exchange.note
        }
        guard case .connectPage(let pageApp)? = principal?.credential else {
            return try await dispatch(&exchange, caller: caller, app: app)
        }
        do {
            return try await dispatch(&exchange, caller: caller, app: app)
        } catch let error as UserPropertyError {
            // Through AP.request the scopes have already let it pass: say that it is the user who may not.
            var failure = error.failure
            switch error {
            case .notAdministrator, .noJiraAccess:
                failure.explanation =
                    "App \(pageApp.key)'s Connect scopes allow this; the signed-in user's Jira permissions refused it: "
                    + failure.explanation
            default: break
            }
            throw failure
        }
    }

    func dispatch(_ exchange: inout Exchange, caller: User?, app: ConnectApp?) async throws -> Response {
        switch exchange.route {
        case .status:
            return exchange.builder.json(.ok, "{\"state\":\"RUNNING\"}", explanation: exchange.note)
        case .openAPIDocument:
            return exchange.builder.json(.ok, OpenAPIDocument.text(baseURL: representations.address.baseURL))
        case .serverInfo:
            return exchange.builder.json(.ok, representations.serverInfo(now: now()), explanation: exchange.note)
        case .myself(let version):
            let expand = Self.expansions(exchange.query["expand"])
            return exchange.builder.json(
                .ok, representations.user(caller!, version: version, expand: expand, base: exchange.linkBase))
        case .user(let version):
            return try await user(exchange, version: version)
        case .userPropertyKeys(let version):
            return try await userPropertyKeys(&exchange, caller: caller!, version: version)
        case .userProperty(_, let encodedKey):
            return try await userProperty(&exchange, caller: caller!, encodedKey: encodedKey)
        case .appPropertyKeys(let encodedAppKey):
            return try await appPropertyKeys(&exchange, app: app!, encodedAppKey: encodedAppKey)
        case .appProperty(let encodedAppKey, let encodedKey):
            return try await appProperty(&exchange, app: app!, encodedAppKey: encodedAppKey, encodedKey: encodedKey)
        case .unknown, .guessedUserProperties:
            preconditionFailure("refused before dispatch")
        }
    }

    /// Spec 5.5: a JWT caller's request under `/rest/` must be covered by one of its app's scopes.
    ///
    /// - Parameter inPage: the request comes from the app's page through `AP.request`, as the
    ///   signed-in user; the explanation then says that the app's scopes refused, not the user.
    private func scopeGate(
        app: ConnectApp, route: Route, method: HTTPRequest.Method, path: Substring, shape: (JiraFailure) -> JiraFailure,
        inPage: Bool = false
    ) throws {
        let reason: String
        switch route.scopeRequirement(for: method) {
        case .outsideGate, .none: return
        case .scope(let scope):
            if app.isCovered(scope) { return }
            let declared = app.scopes.isEmpty ? "no scopes" : app.scopes.map(\.rawValue).joined(separator: ", ")
            reason =
                "\(method.rawValue) \(path) needs the \(scope.rawValue) scope and app \(app.key) declares \(declared); add \(scope.rawValue) to the scopes in its descriptor."
        case .notCovered:
            switch route {
            case .guessedUserProperties:
                reason =
                    "userProperties is not a resource of Jira's public REST API, so no scope covers it; user properties live at PUT /rest/api/{2,3}/user/properties/{propertyKey}?accountId=..."
            case .unknown:
                reason = "No Connect scope covers \(method.rawValue) \(path): Understudy knows no such REST resource."
            case .userProperty where method == .post:
                reason =
                    "POST is not an operation of this resource, so no scope covers it; to create or update a user property use PUT."
            default:
                let allowed = route.allowedMethods.map(\.rawValue).joined(separator: ", ")
                reason =
                    "\(method.rawValue) is not an operation of this resource, so no scope covers it; it supports \(allowed)."
            }
        }
        let explanation =
            inPage
            ? "Refused by app \(app.key)'s Connect scopes, not by the user's permissions (AP.request runs as the user, limited by the app's scopes): "
                + reason : reason
        throw shape(JiraFailure(.forbidden, message: JiraFailure.scopeMessage, explanation: explanation))
    }

    private func refuseUnknown(_ route: Route, path: Substring) throws {
        switch route {
        case .unknown:
            throw JiraFailure(
                .notFound, message: "The requested resource could not be found.",
                explanation:
                    "Understudy serves /status, /rest/api/{2,3}/serverInfo, /myself, /user, /user/properties and /rest/atlassian-connect/1/addons/{addonKey}/properties; \(path) is none of them."
            )
        case .guessedUserProperties:
            throw JiraFailure(
                .notFound, message: "The requested resource could not be found.",
                explanation:
                    "userProperties is not a resource of Jira's public REST API; user properties live at PUT /rest/api/{2,3}/user/properties/{propertyKey}?accountId=..."
            )
        default: break
        }
    }

    private func notAuthenticated(_ route: Route) -> JiraFailure {
        if route.isAppPropertyResource {
            return JiraFailure(
                status: .unauthorized, body: .appMessage(JiraFailure.notAnAppMessage),
                explanation:
                    "App properties are reached only by the app itself, with its Connect JWT (Authorization: JWT <token> or ?jwt=); these credentials are not an app's."
            )
        }
        return JiraFailure(
            .unauthorized, message: JiraFailure.notAuthenticatedMessage,
            explanation:
                "The request has no credentials; send Authorization: Basic base64(email:apiToken) with an API token of that account, or a Connect JWT."
        )
    }

    static func expansions(_ expand: String?) -> Set<String> {
        Set((expand ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }
}
