import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import UnderstudyAuth
import UnderstudyCore

/// The calls a host page relays for the app in its frame (spec 16, 17): `AP.request` and
/// `AP.context.getToken()` of a Connect page, `fetchProduct` of a Custom UI's bridge. Each Jira call
/// goes through the same entry point as any other — the site URL's for `AP.request`, the
/// gateway's for the bridge — with the signed-in user as principal and the app's scopes as gate,
/// and is journaled with `via`. The relay answers the call's own status with an envelope:
/// `{status, statusText, headers, body}` (plus `isAttachment` for the bridge).
extension UnderstudyResponder {
    /// A relayed call's body (the property value and the call's own fields) is bounded like any request.
    static let maximumRelayBytes = 1024 * 1024
    /// Request headers an app's front end may pass on; credentials and hop-by-hop headers never pass.
    static let relayedHeaders: Set<String> = [
        "accept", "accept-language", "content-type", "x-atlassian-token", "x-experimentalapi",
        "x-force-accept-language",
    ]

    func relayConnect(
        _ request: Request, appKey: String, call: String, builder: ResponseBuilder, context: Context
    ) async throws -> Response {
        let user: User
        switch try await relayVisitor(request) {
        case .failure(let refusal): return relayAnswer(refusal, builder: builder, forge: false)
        case .success(let signedIn): user = signedIn
        }
        guard let app = try await store.app(key: appKey), app.unusableBecause == nil else {
            return relayAnswer(
                .refusal(.notFound, "No usable Connect app with the key \(appKey) is installed on this site."),
                builder: builder, forge: false)
        }
        switch (request.method, call) {
        case (.post, "token"):
            let token = ConnectPageJWT.contextToken(
                clientKey: app.clientKey, sharedSecret: app.sharedSecret, accountId: user.accountId, now: now())
            return builder.json(.ok, .object([JSONMember("token", .string(token))]))
        case (.post, "request"):
            let call: JSONValue
            switch await relayBody(request) {
            case .failure(let refusal): return relayAnswer(refusal, builder: builder, forge: false)
            case .success(let body): call = body
            }
            guard case .string(let url)? = call["url"], SitePath.isSiteRelative(url) else {
                return relayAnswer(
                    .refusal(
                        .badRequest,
                        "AP.request takes a URL relative to the site, such as /rest/api/3/myself; \(call["url"]?.jsonText ?? "no url") is not one."
                    ), builder: builder, forge: false)
            }
            var method = "GET"
            if case .string(let type)? = call["type"] { method = type.uppercased() }
            var headers = Self.headerPairs(call["headers"])
            var body: String?
            if case .string(let data)? = call["data"] {
                body = data
                if case .string(let contentType)? = call["contentType"] {
                    headers.append(("Content-Type", contentType))
                }
            }
            let principal = Principal(user: user, credential: .connectPage(app))
            return await relayJiraCall(
                method: method, target: url, headers: headers, body: body, principal: principal, forge: false,
                builder: builder, context: context)
        default:
            return relayAnswer(
                .refusal(.notFound, "A Connect host page relays POST …/request and POST …/token only."),
                builder: builder, forge: false)
        }
    }

    func relayForge(
        _ request: Request, app named: String, call: String, builder: ResponseBuilder, context: Context
    ) async throws -> Response {
        let user: User
        switch try await relayVisitor(request) {
        case .failure(let refusal): return relayAnswer(refusal, builder: builder, forge: true)
        case .success(let signedIn): user = signedIn
        }
        guard let app = try await store.forge.forgeApp(appId: FrontEndRoute.appId(named)) else {
            return relayAnswer(
                .refusal(.notFound, "No Forge app of this site has the appId \(FrontEndRoute.appId(named))."),
                builder: builder, forge: true)
        }
        guard request.method == .post, call == "fetch" else {
            return relayAnswer(
                .refusal(.notFound, "A Custom UI host page relays POST …/fetch (fetchProduct) only."), builder: builder,
                forge: true)
        }
        let payload: JSONValue
        switch await relayBody(request) {
        case .failure(let refusal): return relayAnswer(refusal, builder: builder, forge: true)
        case .success(let body): payload = body
        }
        if case .string(let product)? = payload["product"], product != "jira" {
            return relayAnswer(
                .refusal(
                    .badRequest,
                    "Understudy stands in for Jira only; requestJira's product is \"jira\", not \"\(product)\"."),
                builder: builder, forge: true)
        }
        guard case .string(let restPath)? = payload["restPath"], SitePath.isSiteRelative(restPath) else {
            return relayAnswer(
                .refusal(
                    .badRequest,
                    "requestJira takes a path of Jira's REST API, such as /rest/api/3/myself; \(payload["restPath"]?.jsonText ?? "no restPath") is not one."
                ), builder: builder, forge: true)
        }
        var method = "GET"
        var headers: [(String, String)] = []
        var body: String?
        if let initValue = payload["fetchRequestInit"] {
            if case .string(let given)? = initValue["method"] { method = given.uppercased() }
            headers = Self.headerPairs(initValue["headers"])
            if case .string(let text)? = initValue["body"] { body = text }
        }
        // @forge/bridge adds it to every call; a stand-in that forgot is not refused for it.
        if !headers.contains(where: { $0.0.lowercased() == "x-atlassian-token" }) {
            headers.append(("X-Atlassian-Token", "no-check"))
        }
        let principal = Principal(user: user, credential: .forgeBridge(app), scopes: app.scopes)
        return await relayJiraCall(
            method: method, target: restPath, headers: headers, body: body, principal: principal, forge: true,
            builder: builder, context: context)
    }

    // MARK: The relay's parts

    /// Headers as a front end gives them: an object (`AP.request`'s `headers`, a `fetch` init) or a
    /// list of name-value pairs (what `@forge/bridge` sends); anything not a string is left out.
    static func headerPairs(_ value: JSONValue?) -> [(String, String)] {
        switch value {
        case .object(let members)?:
            return members.compactMap { member in
                if case .string(let text) = member.value { (member.name, text) } else { nil }
            }
        case .array(let pairs)?:
            return pairs.compactMap { pair in
                guard case .array(let parts) = pair, parts.count == 2, case .string(let name) = parts[0],
                    case .string(let text) = parts[1]
                else { return nil }
                return (name, text)
            }
        default: return []
        }
    }

    /// A refusal by the relay itself, before any Jira call.
    struct RelayRefusal: Error {
        let status: HTTPResponse.Status
        let failure: JiraFailure

        static func refusal(_ status: HTTPResponse.Status, _ explanation: String) -> RelayRefusal {
            let message =
                status == .unauthorized
                ? JiraFailure.notAuthenticatedMessage : explanation
            return RelayRefusal(
                status: status, failure: JiraFailure(status, message: message, explanation: explanation))
        }
    }

    /// The signed-in user, for a call from this site's own page.
    private func relayVisitor(_ request: Request) async throws -> Result<User, RelayRefusal> {
        guard isSameOrigin(request) else {
            return .failure(
                .refusal(
                    .forbidden,
                    "The host page's relay answers this site's own pages only (Origin \(browserOrigin(request))); this call came from \(request.headers[.origin] ?? "a request without an Origin header")."
                ))
        }
        switch try await visitor(request) {
        case .anonymous(let reason): return .failure(.refusal(.unauthorized, reason))
        case .signedIn(let user): return .success(user)
        }
    }

    private func relayBody(_ request: Request) async -> Result<JSONValue, RelayRefusal> {
        do {
            let body = try await request.body.collect(upTo: Self.maximumRelayBytes)
            return .success(try JSONParser.parse(body.readableBytesView))
        } catch is NIOTooManyBytesError {
            return .failure(
                .refusal(
                    .contentTooLarge, "A relayed call is at most \(Self.maximumRelayBytes) bytes with its body."))
        } catch {
            return .failure(.refusal(.badRequest, "The relayed call is not valid JSON: \(error)."))
        }
    }

    /// Runs one Jira call as `principal` through its entry point, journals it, and answers its envelope.
    private func relayJiraCall(
        method: String, target: String, headers: [(String, String)], body: String?, principal: Principal, forge: Bool,
        builder relayBuilder: ResponseBuilder, context: Context
    ) async -> Response {
        let started = ContinuousClock.now
        let targetText = Substring(target)
        let queryStart = targetText.utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = targetText[..<(queryStart ?? targetText.endIndex)]
        let rawQuery = queryStart.map { targetText[targetText.index(after: $0)...] }
        var head = HTTPRequest(
            method: HTTPRequest.Method(method) ?? .get, scheme: nil, authority: nil, path: String(targetText))
        for (name, value) in headers where Self.relayedHeaders.contains(name.lowercased()) {
            if let fieldName = HTTPField.Name(name) {
                head.headerFields.append(HTTPField(name: fieldName, value: value))
            }
        }
        let bodyBuffer = ByteBuffer(string: body ?? "")
        if body != nil { head.headerFields[.contentLength] = String(bodyBuffer.readableBytes) }
        let inner = Request(head: head, body: RequestBody(buffer: bodyBuffer))

        var builder = ResponseBuilder(requestId: relayBuilder.requestId, explain: configuration.explain)
        builder.identify(principal)
        var explanation: String?
        var response: Response
        do {
            if HTTPRequest.Method(method) == nil {
                throw JiraFailure(
                    .badRequest, message: "\(method) is not an HTTP method.",
                    explanation: "The relayed call's method must be an HTTP method such as GET, PUT, POST or DELETE.")
            }
            if forge {
                let identity = try await controlPlane.identity.identity()
                response = try await serveBehindGateway(
                    inner, principal: principal, jiraPath: path, rawQuery: rawQuery, cloudId: identity.cloudId,
                    builder: &builder, explanation: &explanation)
            } else {
                let route = Route(path: path)
                builder.neverCache = route.isPropertyResource
                let query: QueryParameters
                do {
                    query = try QueryParameters(rawQuery)
                } catch {
                    throw JiraFailure.malformedQuery(error)
                }
                response = try await serveSite(
                    inner, route: route, path: path, query: query, principal: principal, builder: &builder,
                    explanation: &explanation)
            }
        } catch {
            (response, explanation) = answer(error, path: path, builder: builder, context: context)
        }
        controlPlane.journal.record(
            JournalEntry(
                time: now(), method: method, target: targetText, caller: builder.caller,
                status: response.status.code, explanation: explanation, duration: ContinuousClock.now - started,
                requestId: builder.requestId))
        let answerBody = await Self.collect(response.body)
        return envelope(
            status: response.status, headers: response.headers, body: String(buffer: answerBody), forge: forge,
            builder: relayBuilder, explanation: explanation)
    }

    private func relayAnswer(_ refusal: RelayRefusal, builder: ResponseBuilder, forge: Bool) -> Response {
        let response = builder.failure(refusal.failure)
        var body = ""
        if case .errorCollection(let messages, _) = refusal.failure.body {
            body =
                JSONValue.object([
                    JSONMember("errorMessages", .array(messages.map(JSONValue.string))),
                    JSONMember("errors", .object([])),
                ]).jsonText
        }
        return envelope(
            status: refusal.status, headers: response.headers, body: body, forge: forge, builder: builder,
            explanation: refusal.failure.explanation)
    }

    /// The relay's answer: the call's status, and its status, headers and body as JSON for the host page.
    private func envelope(
        status: HTTPResponse.Status, headers: HTTPFields, body: String, forge: Bool, builder: ResponseBuilder,
        explanation: String?
    ) -> Response {
        var members = [
            JSONMember("status", .number(String(status.code))),
            JSONMember("statusText", .string(status.reasonPhrase)),
            JSONMember(
                "headers",
                .object(
                    headers.map { JSONMember($0.name.canonicalName, .string($0.value)) }
                        + [JSONMember("x-understudy-via", .string(forge ? "@forge/bridge" : "AP.request"))])),
            JSONMember("body", .string(body)),
        ]
        if forge { members.append(JSONMember("isAttachment", .bool(false))) }
        if let explanation { members.append(JSONMember("explanation", .string(explanation))) }
        var response = builder.json(status, .object(members), explanation: explanation)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// The bytes of a response body the server built.
    static func collect(_ body: ResponseBody) async -> ByteBuffer {
        let sink = BodySink()
        try? await body.write(CollectingWriter(sink: sink))
        return sink.buffer.withLock { $0 }
    }
}

/// Where `CollectingWriter` puts what it is given.
private final class BodySink: Sendable {
    let buffer = Mutex(ByteBuffer())
}

private struct CollectingWriter: ResponseBodyWriter {
    let sink: BodySink

    mutating func write(_ buffer: ByteBuffer) async throws {
        _ = sink.buffer.withLock { $0.writeImmutableBuffer(buffer) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
