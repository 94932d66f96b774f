import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import UnderstudyCore

/// Answers every request the way Jira Cloud would: routing on the raw path, authentication, the
/// method check, then the resource (spec 1, 3, 4). Each refusal is a `JiraFailure` rendered in one
/// place, with its explanation in the header, the journal of the log and nowhere else.
struct UnderstudyResponder: HTTPResponder {
    typealias Context = UnderstudyRequestContext

    let configuration: ServerConfiguration
    let store: any SiteStore
    let authenticator: Authenticator
    let userProperties: UserPropertyService
    let representations: Representations
    let requestIds = RequestIdGenerator()

    init(configuration: ServerConfiguration, address: SiteAddress, store: any SiteStore) {
        self.configuration = configuration
        self.store = store
        self.authenticator = Authenticator(store: store)
        self.userProperties = UserPropertyService(store: store)
        self.representations = Representations(address: address)
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var builder = ResponseBuilder(requestId: requestIds.next(), explain: configuration.explain)
        var explanation: String?
        let response: Response
        do {
            response = try await handle(request, context: context, builder: &builder, explanation: &explanation)
        } catch let failure as JiraFailure {
            explanation = failure.explanation
            response = builder.failure(failure)
        } catch let error as UserPropertyError {
            explanation = error.explanation
            response = builder.failure(error.failure)
        } catch {
            context.logger.error("Unexpected error: \(error)", metadata: ["request.id": "\(builder.requestId)"])
            let failure = JiraFailure(
                .internalServerError, message: "Internal server error.",
                explanation: "Understudy failed unexpectedly while answering; the server log has the details.")
            explanation = failure.explanation
            response = builder.failure(failure)
        }
        if builder.closeConnection { context.closeAfterResponse() }
        log(request, response: response, explanation: explanation, builder: builder, started: started, context: context)
        return response
    }

    private func log(
        _ request: Request, response: Response, explanation: String?, builder: ResponseBuilder,
        started: ContinuousClock.Instant, context: Context
    ) {
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "request.id": "\(builder.requestId)",
            "status": "\(response.status.code)",
            "duration_us":
                "\(elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)",
        ]
        if let caller = builder.callerAccountId { metadata["caller"] = "\(caller)" }
        if let explanation { metadata["explanation"] = "\(explanation)" }
        let path = request.head.path ?? ""
        // The path is logged without its query, which may carry a jwt token.
        let pathOnly = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        context.logger.info("\(request.method.rawValue) \(pathOnly)", metadata: metadata)
    }

    private func handle(
        _ request: Request, context: Context, builder: inout ResponseBuilder, explanation: inout String?
    ) async throws -> Response {
        let target = request.head.path ?? "/"
        let pathEnd = target.firstIndex(of: "?") ?? target.endIndex
        let path = target[..<pathEnd]
        let rawQuery = pathEnd == target.endIndex ? nil : target[target.index(after: pathEnd)...]
        let route = Route(path: path)
        builder.neverCache = route.isPropertyResource

        let query: QueryParameters
        do {
            query = try QueryParameters(rawQuery)
        } catch {
            throw JiraFailure(
                .badRequest, message: "The query string is not valid.",
                explanation:
                    "The query string has a malformed percent-escape or is not UTF-8 (\(error.text.prefix(80))); encode every reserved or non-ASCII character as %XX of its UTF-8 bytes."
            )
        }

        let authentication = try await authenticator.authenticate(
            authorization: request.headers[.authorization], jwtQueryParameter: query["jwt"] != nil)
        var caller: User?
        switch authentication {
        case .anonymous: break
        case .user(let user):
            caller = user
            builder.callerAccountId = user.accountId
        case .failed(let reason):
            builder.authenticationFailed = true
            if route.requiresAuthentication {
                throw JiraFailure(.unauthorized, message: JiraFailure.notAuthenticatedMessage, explanation: reason)
            }
            // Anonymous-capable resources answer as for an anonymous caller; say why in the header.
            explanation = reason
        }

        switch route {
        case .unknown:
            throw JiraFailure(
                .notFound, message: "The requested resource could not be found.",
                explanation:
                    "Understudy serves /status, /rest/api/{2,3}/serverInfo, /myself, /user and /user/properties; \(path) is none of them."
            )
        case .guessedUserProperties:
            throw JiraFailure(
                .notFound, message: "The requested resource could not be found.",
                explanation:
                    "userProperties is not a resource of Jira's public REST API; user properties live at PUT /rest/api/{2,3}/user/properties/{propertyKey}?accountId=..."
            )
        default: break
        }

        if route.requiresAuthentication, caller == nil {
            throw JiraFailure(
                .unauthorized, message: JiraFailure.notAuthenticatedMessage,
                explanation:
                    "The request has no credentials; send Authorization: Basic base64(email:apiToken) with an API token of that account."
            )
        }
        guard route.allowedMethods.contains(request.method) else {
            throw JiraFailure.methodNotAllowed(request.method, route: route)
        }

        switch route {
        case .status:
            return builder.json(.ok, "{\"state\":\"RUNNING\"}", explanation: explanation)
        case .serverInfo:
            return builder.json(.ok, representations.serverInfo(now: Date()), explanation: explanation)
        case .myself(let version):
            return builder.json(
                .ok, representations.user(caller!, version: version, expand: Self.expansions(query["expand"])))
        case .user(let version):
            return try await user(query: query, version: version, builder: builder)
        case .userPropertyKeys(let version):
            let list = try await userProperties.keys(caller: caller!, selector: Self.selector(query))
            var note: String?
            if list.legacyPropertyCount > 0 {
                note =
                    "User \(list.accountId) has \(list.legacyPropertyCount) admin-UI (Edit Jira properties) \(list.legacyPropertyCount == 1 ? "property" : "properties") that this API does not return; only properties set through /user/properties are listed."
            }
            explanation = note
            return builder.json(
                .ok, representations.propertyKeys(list.keys, accountId: list.accountId, version: version),
                explanation: note)
        case .userProperty(_, let encodedKey):
            let key = try Self.decodeKey(encodedKey)
            let selector = Self.selector(query)
            switch request.method {
            case .get:
                let value = try await userProperties.value(caller: caller!, selector: selector, key: key)
                return builder.json(.ok, representations.entityProperty(key: key, value: value))
            case .put:
                let body = try await Self.readPropertyBody(request, builder: &builder)
                let outcome = try await userProperties.set(caller: caller!, selector: selector, key: key, body: body)
                return builder.empty(outcome == .created ? .created : .ok)
            default:
                try await userProperties.delete(caller: caller!, selector: selector, key: key)
                return builder.empty(.noContent)
            }
        case .unknown, .guessedUserProperties:
            preconditionFailure("answered above")
        }
    }

    private func user(query: QueryParameters, version: String, builder: ResponseBuilder) async throws -> Response {
        let selector = AccountSelector(
            accountId: query["accountId"],
            removedParameter: query["username"] != nil ? "username" : query["key"] != nil ? "key" : nil)
        guard let accountId = selector.accountId else {
            throw (selector.removedParameter.map(UserPropertyError.unsupportedParameter) ?? .accountIdMissing).failure
        }
        guard let user = try await store.user(accountId: accountId) else {
            throw JiraFailure(
                .notFound, message: "The user with accountId '\(accountId)' does not exist.",
                explanation:
                    "No account on this site has accountId '\(accountId)'; check for a typo or a user from another site."
            )
        }
        return builder.json(.ok, representations.user(user, version: version, expand: Self.expansions(query["expand"])))
    }

    static func selector(_ query: QueryParameters) -> AccountSelector {
        AccountSelector(
            accountId: query["accountId"],
            removedParameter: query["username"] != nil ? "username" : query["userKey"] != nil ? "userKey" : nil)
    }

    static func expansions(_ expand: String?) -> Set<String> {
        Set((expand ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    static func decodeKey(_ encodedKey: Substring) throws -> String {
        do {
            return try PercentEncoding.decode(encodedKey, plusIsSpace: false)
        } catch {
            throw JiraFailure(
                .badRequest, message: "The property key is not valid.",
                explanation:
                    "The property key in the path has a malformed percent-escape or is not UTF-8; percent-encode the key's UTF-8 bytes (e.g. a space as %20)."
            )
        }
    }

    /// Reads a `PUT` body, never more than 32768 + 1 bytes (spec 4.2). A body announced or found
    /// longer is refused without reading the rest; the connection is then closed.
    static func readPropertyBody(_ request: Request, builder: inout ResponseBuilder) async throws -> PropertyBody {
        let limit = PropertyLimits.maximumValueBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            builder.closeConnection = true
            return .tooLong(reportedBytes: declared)
        }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            bytes.append(contentsOf: buffer.readableBytesView.prefix(limit + 1 - bytes.count))
            if bytes.count > limit {
                builder.closeConnection = true
                return .tooLong(reportedBytes: limit + 1)
            }
        }
        return .complete(bytes)
    }
}
