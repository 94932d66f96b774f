import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import UnderstudyCore

/// Two entry points of the Connect install (spec 13): the public install-key URL that apps verify
/// `installed` and `uninstalled` with, and the subset of the Universal Plugin Manager's REST API
/// that development tooling (Atlassian Connect Express) installs apps through (spec 13.4).
extension UnderstudyResponder {
    static let installKeysPrefix = "/connect-install-keys/"
    static let pluginManagerPath = "/rest/plugins/1.0/"
    static let upmTokenHeader = HTTPField.Name("upm-token")!

    /// `GET /connect-install-keys/{kid}`: the PEM text of the site's public install key, no
    /// authentication, `404` for a kid this site never made.
    func handleInstallKey(_ request: Request, kid: Substring, builder: ResponseBuilder, explanation: inout String?)
        async throws -> Response
    {
        guard request.method == .get || request.method == .head else {
            throw JiraFailure(
                status: .methodNotAllowed, body: .empty,
                explanation: "The install-key URL answers GET only.", headers: [.allow: "GET"])
        }
        let kid = String(kid).removingPercentEncoding ?? String(kid)
        guard !kid.isEmpty, !kid.contains("/"), let key = try await store.connect.installKey(kid: kid) else {
            explanation =
                "This site has no install key with kid '\(kid)'; the kid of a lifecycle JWT's header is the one to fetch, and GET /_understudy/connect/installations names the current key."
            throw JiraFailure(status: .notFound, body: .empty, explanation: explanation ?? "")
        }
        var headers = HTTPFields()
        headers.append(HTTPField(name: .contentType, value: "text/plain;charset=UTF-8"))
        headers.append(HTTPField(name: .cacheControl, value: "public, max-age=300"))
        headers.append(HTTPField(name: ResponseBuilder.requestIdHeader, value: builder.requestId))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: key.publicKeyPEM)))
    }

    /// `/rest/plugins/1.0/…`: Basic credentials of an administrator on every call.
    func handlePluginManager(
        _ request: Request, resource: Substring, rawQuery: Substring?, target: Substring,
        builder: inout ResponseBuilder, explanation: inout String?
    ) async throws -> Response {
        let authentication = try await authenticator.authenticate(
            authorization: request.headers.value(of: .authorization), jwtQueryParameter: nil,
            method: request.method.rawValue, target: target)
        let administrator: Principal
        switch authentication {
        case .anonymous:
            builder.authenticationFailed = true
            throw JiraFailure(
                .unauthorized, message: JiraFailure.notAuthenticatedMessage,
                explanation:
                    "The plugin manager (UPM) takes Basic credentials of a site administrator: e-mail and API token, as in ACE's hosts setting http://EMAIL:TOKEN@HOST."
            )
        case .failed(let reason):
            builder.authenticationFailed = true
            throw JiraFailure(.unauthorized, message: JiraFailure.notAuthenticatedMessage, explanation: reason)
        case .gatewayOnly(let credential):
            builder.authenticationFailed = true
            throw JiraFailure(
                .unauthorized, message: JiraFailure.notAuthenticatedMessage,
                explanation: "\(credential) are not accepted by the plugin manager; use Basic e-mail:API-token.")
        case .principal(let principal):
            builder.identify(principal)
            administrator = principal
        }
        guard case .apiToken = administrator.credential, administrator.user.permissions.contains(.administerJira)
        else {
            throw JiraFailure(
                .forbidden, message: "You do not have permission to manage apps.",
                explanation:
                    "Installing apps takes the Administer Jira global permission; \(administrator.user.displayName) (\(administrator.accountId)) is not in \(GlobalPermissions.administratorGroups.sorted().joined(separator: " or ")), or is not calling with Basic credentials."
            )
        }
        let query = try QueryParameters(rawQuery)
        switch (request.method, resource) {
        case (.get, ""), (.head, ""):
            let apps = try await store.snapshot().apps.filter { $0.unusableBecause == nil }
            var response = builder.json(
                .ok,
                .object([
                    JSONMember(
                        "plugins",
                        .array(
                            apps.map {
                                .object([
                                    JSONMember("key", .string($0.key)), JSONMember("name", .string($0.name)),
                                    JSONMember("enabled", .bool(true)), JSONMember("userInstalled", .bool(true)),
                                ])
                            })),
                    JSONMember("links", .object([JSONMember("self", .string(pluginManagerBase))])),
                ]))
            response.headers[Self.upmTokenHeader] = pluginManager.issueToken()
            return response
        case (.post, ""):
            guard let token = query["token"], pluginManager.isValid(token: token) else {
                throw JiraFailure(
                    .forbidden, message: "Invalid or missing UPM token.",
                    explanation:
                        "POST /rest/plugins/1.0/ takes ?token= with the upm-token header of a GET /rest/plugins/1.0/ made less than 5 minutes ago by this server."
                )
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard case .object(let members)? = try? JSONParser.parse(body.readableBytesView),
                case .string(let pluginUri)? = members.first(where: { $0.name == "pluginUri" })?.value,
                AppCaller.origin(of: pluginUri) != nil
            else {
                throw JiraFailure(
                    .badRequest, message: "Send {\"pluginUri\": \"<descriptor URL>\"}.",
                    explanation:
                        "The install request's body is JSON with pluginUri, the http(s) URL of the app's atlassian-connect.json."
                )
            }
            let id = pluginManager.start(
                installer: controlPlane.installer,
                order: ConnectInstaller.Order(descriptorUrl: pluginUri, installedBy: administrator.accountId))
            explanation = "Installing from \(pluginUri) in the background; poll the task's links.self."
            return builder.json(
                .accepted,
                .object([
                    JSONMember("type", .string("INSTALL")), JSONMember("pingAfter", .number("200")),
                    JSONMember("status", .object([JSONMember("done", .bool(false))])),
                    JSONMember("links", .object([JSONMember("self", .string(pluginManagerBase + "pending/" + id))])),
                ]), explanation: explanation)
        case (.get, let rest) where rest.hasPrefix("pending/"):
            let id = String(rest.dropFirst("pending/".count))
            guard let task = pluginManager.task(id: id) else {
                throw JiraFailure(
                    .notFound, message: "No such task.",
                    explanation: "Install tasks are kept by the server that started them for 10 minutes.")
            }
            let links = JSONMember("links", .object([JSONMember("self", .string(pluginManagerBase + "pending/" + id))]))
            switch task {
            case .running:
                return builder.json(
                    .ok,
                    .object([
                        JSONMember("type", .string("INSTALL")), JSONMember("pingAfter", .number("200")),
                        JSONMember("status", .object([JSONMember("done", .bool(false))])), links,
                    ]))
            case .finished(let result):
                if result.outcome == .installed, let key = result.appKey {
                    return builder.json(
                        .ok,
                        .object([
                            JSONMember("key", .string(key)), JSONMember("enabled", .bool(true)), links,
                            JSONMember("result", result.json),
                        ]))
                }
                return builder.json(
                    .ok,
                    .object([
                        JSONMember(
                            "status",
                            .object([
                                JSONMember("done", .bool(true)),
                                JSONMember("errorMessage", .string(result.problem ?? "The install failed.")),
                            ])),
                        links, JSONMember("result", result.json),
                    ]), explanation: result.problem)
            }
        case (.delete, let rest) where rest.hasSuffix("-key") && !rest.contains("/"):
            let key = String(rest.dropLast("-key".count)).removingPercentEncoding ?? ""
            guard let result = try await controlPlane.installer.uninstall(appKey: key) else {
                throw JiraFailure(
                    .notFound, message: "The app '\(key)' is not installed.",
                    explanation: "GET /rest/plugins/1.0/ lists the installed apps' keys.")
            }
            if result.outcome == .rejected {
                throw JiraFailure(.badRequest, message: result.problem ?? "", explanation: result.problem ?? "")
            }
            return builder.empty(.noContent)
        default:
            throw JiraFailure(
                .notFound, message: "The requested resource could not be found.",
                explanation:
                    "Understudy's plugin manager has GET and POST /rest/plugins/1.0/, GET /rest/plugins/1.0/pending/{id} and DELETE /rest/plugins/1.0/{key}-key."
            )
        }
    }

    private var pluginManagerBase: String { configuration.basePath + Self.pluginManagerPath }
}

/// The plugin manager's state on this server: the `upm-token`s it issued (valid 5 minutes) and its
/// install tasks (kept 10 minutes, at most 1,000).
final class PluginManagerTasks: Sendable {
    enum Task: Sendable {
        case running
        case finished(InstallResult)
    }

    private struct State {
        var tokens: [String: ContinuousClock.Instant] = [:]
        var tasks: [String: (task: Task, started: ContinuousClock.Instant)] = [:]
    }

    private let state = Mutex(State())
    static let tokenLifetime: Duration = .seconds(300)
    static let taskLifetime: Duration = .seconds(600)
    static let maximumEntries = 1_000

    func issueToken() -> String {
        let token = UUID().uuidString.lowercased()
        let now = ContinuousClock.now
        state.withLock { state in
            state.tokens = state.tokens.filter { now - $0.value < Self.tokenLifetime }
            if state.tokens.count >= Self.maximumEntries { state.tokens.removeAll() }
            state.tokens[token] = now
        }
        return token
    }

    func isValid(token: String) -> Bool {
        state.withLock { state in
            state.tokens[token].map { ContinuousClock.now - $0 < Self.tokenLifetime } ?? false
        }
    }

    /// Starts an install in the background and returns its task id.
    func start(installer: ConnectInstaller, order: ConnectInstaller.Order) -> String {
        let id = UUID().uuidString.lowercased()
        let now = ContinuousClock.now
        state.withLock { state in
            state.tasks = state.tasks.filter { now - $0.value.started < Self.taskLifetime }
            if state.tasks.count >= Self.maximumEntries { state.tasks.removeAll() }
            state.tasks[id] = (.running, now)
        }
        _Concurrency.Task {
            var result: InstallResult
            do {
                result = try await installer.install(order)
            } catch {
                result = InstallResult(kind: .install, descriptorUrl: order.descriptorUrl, tamper: nil)
                result.outcome = .rejected
                result.problem = "The install failed: \(error)"
            }
            let finished = result
            self.state.withLock { state in
                if let entry = state.tasks[id] { state.tasks[id] = (.finished(finished), entry.started) }
            }
        }
        return id
    }

    func task(id: String) -> Task? {
        state.withLock { $0.tasks[id]?.task }
    }
}
