import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// The pages a person opens (spec 15–18): sign-in and sign-out, the list of app pages, the Connect
/// and Forge host pages with their scripts, and a Custom UI's files. The calls those pages make
/// are in `UnderstudyResponder+HostRelay`.
extension UnderstudyResponder {
    /// The sign-in form is small; anything longer is not one.
    static let maximumFormBytes = 16 * 1024

    func respondToFrontEnd(_ request: Request, route: FrontEndRoute, rawQuery: Substring?, context: Context) async
        -> Response
    {
        let builder = ResponseBuilder(requestId: requestIds.next(), explain: configuration.explain)
        do {
            switch route {
            case .connectRelay(let appKey, let call):
                return try await relayConnect(request, appKey: appKey, call: call, builder: builder, context: context)
            case .forgeRelay(let app, let call):
                return try await relayForge(request, app: app, call: call, builder: builder, context: context)
            default:
                return try await frontEndPage(request, route: route, rawQuery: rawQuery, builder: builder)
            }
        } catch SiteStoreError.unavailable(let reason) {
            return builder.html(
                .serviceUnavailable,
                HostPages.notFound(title: "The site's data is unavailable", message: reason, user: nil),
                explanation: reason)
        } catch {
            context.logger.error("Front-end request failed: \(error)", metadata: ["request.id": "\(builder.requestId)"])
            return builder.html(
                .internalServerError,
                HostPages.notFound(
                    title: "Internal server error",
                    message: "Understudy failed unexpectedly; the server log has the details.",
                    user: nil))
        }
    }

    private func frontEndPage(
        _ request: Request, route: FrontEndRoute, rawQuery: Substring?, builder: ResponseBuilder
    ) async throws -> Response {
        switch route {
        case .allJS: return script(HostScripts.allJS, builder: builder)
        case .hostJS: return script(HostScripts.hostJS, builder: builder)
        case .bridgeJS: return script(HostScripts.bridgeJS, builder: builder)
        case .login: return try await login(request, rawQuery: rawQuery, builder: builder)
        case .logout: return logout(request, builder: builder)
        case .home: return try await home(request, builder: builder)
        case .connectPage(let appKey, let moduleKey):
            return try await connectHostPage(
                request, appKey: appKey, moduleKey: moduleKey, rawQuery: rawQuery, builder: builder)
        case .forgePage(let app, let moduleKey):
            return try await forgeHostPage(
                request, app: app, moduleKey: moduleKey, rawQuery: rawQuery, builder: builder)
        case .forgeResource(let app, let resourceKey, let file):
            return try await forgeResourceFile(
                request, app: app, resourceKey: resourceKey, file: file, builder: builder)
        case .connectRelay, .forgeRelay:
            preconditionFailure("relays answer in UnderstudyResponder+HostRelay")
        }
    }

    // MARK: Sessions

    /// Who the session cookie names, if anyone.
    enum Visitor {
        case signedIn(User)
        case anonymous(reason: String)
    }

    func visitor(_ request: Request) async throws -> Visitor {
        guard let value = ControlPlane.cookie(SessionRegistry.cookieName, in: request) else {
            return .anonymous(
                reason: "The request carries no session cookie (\(SessionRegistry.cookieName)): sign in at /login.")
        }
        switch controlPlane.sessions.lookup(value, now: now()) {
        case .unknown:
            return .anonymous(
                reason:
                    "The session cookie names no session of this server (signed out, or the server restarted): sign in at /login."
            )
        case .expired(let expiredAt):
            return .anonymous(
                reason:
                    "The session expired at \(JournalEntry.timeFormat.format(expiredAt)) (sessions last 12 hours by the site clock): sign in again at /login."
            )
        case .signedIn(let accountId):
            guard let user = try await store.user(accountId: accountId), user.active else {
                return .anonymous(reason: "The session's user \(accountId) is no longer an active person of the site.")
            }
            return .signedIn(user)
        }
    }

    /// The origin the browser sees: the base URL's scheme with the `Host` the request was sent to, so
    /// that a page opened at `localhost` and one at `127.0.0.1` each talk to their own origin.
    func browserOrigin(_ request: Request) -> String {
        let base = representations.siteBase
        let scheme = base.lowercased().hasPrefix("https://") ? "https" : "http"
        if let authority = request.head.authority, !authority.isEmpty,
            authority.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") })
        {
            return "\(scheme)://\(authority)"
        }
        return Self.origin(of: base) ?? base
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        return String(url[..<end])
    }

    /// Whether a state-changing request comes from a page of this site (login CSRF, relays).
    func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return false }
        return origin == browserOrigin(request)
    }

    /// Sign-in and host pages send `Origin` on their own POSTs, which the server checks; under
    /// `no-referrer` a browser would send `Origin: null` instead.
    static func sameOriginReferrer(_ response: Response) -> Response {
        var response = response
        response.headers[ResponseBuilder.referrerPolicyHeader] = "same-origin"
        return response
    }

    private var secureCookies: Bool { representations.siteBase.lowercased().hasPrefix("https://") }

    // MARK: Sign-in

    private func login(_ request: Request, rawQuery: Substring?, builder: ResponseBuilder) async throws -> Response {
        if request.method == .get || request.method == .head {
            let next = SitePath.redirectTarget(ControlPlane.parameters(rawQuery)["next"])
            return Self.sameOriginReferrer(builder.html(.ok, HostPages.signIn(next: next, email: "", problem: nil)))
        }
        guard request.method == .post else {
            return builder.html(
                .methodNotAllowed,
                HostPages.notFound(title: "Method not allowed", message: "/login takes GET and POST.", user: nil))
        }
        guard isSameOrigin(request) else {
            let reason =
                "A sign-in form is accepted only from this site's own page (Origin \(browserOrigin(request))); this one came from \(request.headers[.origin] ?? "a request without an Origin header")."
            return builder.html(
                .forbidden, HostPages.notFound(title: "Sign-in refused", message: reason, user: nil),
                explanation: reason)
        }
        let form: FormFields
        do {
            let body = try await request.body.collect(upTo: Self.maximumFormBytes)
            form = try FormFields(Substring(String(decoding: body.readableBytesView, as: UTF8.self)))
        } catch {
            let reason = "The sign-in form must be a form-encoded body of at most \(Self.maximumFormBytes) bytes."
            return builder.html(
                .badRequest, HostPages.signIn(next: "/", email: "", problem: reason), explanation: reason)
        }
        let next = SitePath.redirectTarget(form.fields["next"])
        let email = form.fields["email"] ?? ""
        switch try await SiteSignIn.person(email: email, apiToken: form.fields["api_token"] ?? "", store: store) {
        case .refused(let problem, let explanation):
            return Self.sameOriginReferrer(
                builder.html(
                    .ok, HostPages.signIn(next: next, email: email, problem: problem), explanation: explanation))
        case .person(let user):
            let value = controlPlane.sessions.start(accountId: user.accountId, now: now())
            var response = builder.redirect(to: next, status: .seeOther)
            response.headers.append(
                HTTPField(name: .setCookie, value: SessionRegistry.setCookie(value, secure: secureCookies)))
            return response
        }
    }

    private func logout(_ request: Request, builder: ResponseBuilder) -> Response {
        guard request.method == .post else {
            return builder.html(
                .methodNotAllowed,
                HostPages.notFound(title: "Method not allowed", message: "Sign out with POST /logout.", user: nil))
        }
        guard isSameOrigin(request) else {
            let reason = "Signing out is accepted only from this site's own pages."
            return builder.html(
                .forbidden, HostPages.notFound(title: "Sign-out refused", message: reason, user: nil),
                explanation: reason)
        }
        if let value = ControlPlane.cookie(SessionRegistry.cookieName, in: request) {
            controlPlane.sessions.end(value)
        }
        var response = builder.redirect(to: "/login", status: .seeOther)
        response.headers.append(HTTPField(name: .setCookie, value: SessionRegistry.clearCookie(secure: secureCookies)))
        return response
    }

    /// A page needs a session: without one, the sign-in form, then back here.
    private func signInFirst(_ request: Request, builder: ResponseBuilder, reason: String) -> Response {
        let target = request.head.path ?? "/"
        return builder.redirect(
            to: "/login?next=" + PercentEncoding.encode(target), status: .seeOther, explanation: reason)
    }

    private func home(_ request: Request, builder: ResponseBuilder) async throws -> Response {
        guard case .signedIn(let user) = try await visitor(request) else {
            return signInFirst(request, builder: builder, reason: "The app pages need a signed-in user.")
        }
        var links: [HostPages.PageLink] = []
        for app in try await store.connect.installedApps() where app.unusableBecause == nil {
            for page in app.installation?.pages ?? [] {
                links.append(
                    HostPages.PageLink(
                        href:
                            "/plugins/servlet/ac/\(PercentEncoding.encode(app.key))/\(PercentEncoding.encode(page.key))",
                        title: page.name, app: "\(app.name) (Connect)"))
            }
        }
        for app in try await store.forge.forgeApps() {
            for module in app.modules {
                links.append(
                    HostPages.PageLink(
                        href:
                            "/forge/apps/\(PercentEncoding.encode(app.urlName))/\(PercentEncoding.encode(module.key))",
                        title: module.title, app: "\(app.name) (Forge)"))
            }
        }
        return Self.sameOriginReferrer(builder.html(.ok, HostPages.home(user: user, links: links)))
    }

    // MARK: Host pages

    private func connectHostPage(
        _ request: Request, appKey: String, moduleKey: String, rawQuery: Substring?, builder: ResponseBuilder
    ) async throws -> Response {
        let user: User
        switch try await visitor(request) {
        case .anonymous(let reason): return signInFirst(request, builder: builder, reason: reason)
        case .signedIn(let signedIn): user = signedIn
        }
        guard let app = try await store.app(key: appKey), let installation = app.installation else {
            let reason =
                "No Connect app with the key \(appKey) was installed from a descriptor (understudy app install URL), so it has no pages."
            return builder.html(
                .notFound, HostPages.notFound(title: "Page not found", message: reason, user: user), explanation: reason
            )
        }
        guard let page = installation.page(key: moduleKey) else {
            let declared = installation.pages.map(\.key).joined(separator: ", ")
            let reason =
                "App \(appKey)'s descriptor declares no general or admin page with the key \(moduleKey)"
                + (declared.isEmpty ? "; it declares none." : "; it declares \(declared).")
            return builder.html(
                .notFound, HostPages.notFound(title: "Page not found", message: reason, user: user), explanation: reason
            )
        }
        if let reason = app.unusableBecause {
            return builder.html(
                .notFound, HostPages.notFound(title: "App not available", message: reason, user: user),
                explanation: reason)
        }
        let origin = browserOrigin(request)
        let frame = Self.connectFrameURL(
            app: app, installation: installation, page: page, hostOrigin: origin, accountId: user.accountId, now: now())
        let config = JSONValue.object([
            JSONMember("kind", .string("connect")),
            JSONMember("appOrigin", .string(Self.origin(of: installation.baseUrl) ?? "")),
            JSONMember("relay", .string("/understudy-host/connect/\(PercentEncoding.encode(app.key))")),
            JSONMember("accountId", .string(user.accountId)),
            JSONMember("context", .object([JSONMember("jira", .object([]))])),
        ])
        var response = builder.html(
            .ok,
            HostPages.host(
                title: page.name, appName: app.name, user: user, frameSource: frame, sandboxed: false, config: config))
        response.headers[.contentSecurityPolicy] = Self.hostPagePolicy(
            frameSource: Self.cspSource(installation.baseUrl))
        return Self.sameOriginReferrer(response)
    }

    /// The iframe's URL: the module's URL under the app's baseUrl with Jira's context parameters
    /// and a `jwt` whose `qsh` covers them (spec 16).
    static func connectFrameURL(
        app: ConnectApp, installation: ConnectInstallation, page: ConnectPage, hostOrigin: String, accountId: String,
        now: Date
    ) -> String {
        // Context variables such as {project.key} have no value on a general page.
        var url = ""
        var inVariable = false
        for character in page.url {
            switch character {
            case "{": inVariable = true
            case "}" where inVariable: inVariable = false
            default: if !inVariable { url.append(character) }
            }
        }
        let parameters: [(String, String)] = [
            ("xdm_e", hostOrigin), ("xdm_c", "channel-\(app.key)__\(page.key)"), ("cp", ""),
            ("xdm_deprecated_addon_key_do_not_use", app.key), ("lic", "none"), ("cv", UnderstudyVersion.current),
        ]
        let query = parameters.map { "\($0)=\(PercentEncoding.encode($1))" }.joined(separator: "&")
        let separator = url.contains("?") ? (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&") : "?"
        let withContext = installation.baseUrl + url + separator + query
        let appOrigin = origin(of: installation.baseUrl) ?? installation.baseUrl
        let basePath = String(installation.baseUrl.dropFirst(appOrigin.count))
        let token = ConnectPageJWT.iframeToken(
            clientKey: app.clientKey, sharedSecret: app.sharedSecret, accountId: accountId,
            target: Substring(withContext.dropFirst(appOrigin.count)), basePath: basePath, now: now)
        return withContext + "&jwt=" + token
    }

    private func forgeHostPage(
        _ request: Request, app named: String, moduleKey: String, rawQuery: Substring?, builder: ResponseBuilder
    ) async throws -> Response {
        let user: User
        switch try await visitor(request) {
        case .anonymous(let reason): return signInFirst(request, builder: builder, reason: reason)
        case .signedIn(let signedIn): user = signedIn
        }
        guard let app = try await store.forge.forgeApp(appId: FrontEndRoute.appId(named)) else {
            let reason = "No Forge app of this site has the appId \(FrontEndRoute.appId(named))."
            return builder.html(
                .notFound, HostPages.notFound(title: "Page not found", message: reason, user: user), explanation: reason
            )
        }
        guard let module = app.module(key: moduleKey), let resource = app.resource(key: module.resource) else {
            let declared = app.modules.map(\.key).joined(separator: ", ")
            let reason =
                "Forge app \(app.name) has no module with the key \(moduleKey)"
                + (declared.isEmpty
                    ? "; give it resources and modules in the site file." : "; its modules are \(declared).")
            return builder.html(
                .notFound, HostPages.notFound(title: "Page not found", message: reason, user: user), explanation: reason
            )
        }
        let identity = try await controlPlane.identity.identity()
        let config = JSONValue.object([
            JSONMember("kind", .string("forge")),
            // The Custom UI's frame is sandboxed without allow-same-origin: its origin is opaque.
            JSONMember("appOrigin", .string("null")),
            JSONMember("relay", .string("/understudy-host/forge/\(PercentEncoding.encode(app.urlName))")),
            JSONMember("accountId", .string(user.accountId)),
            JSONMember(
                "context",
                .object([
                    JSONMember("accountId", .string(user.accountId)), JSONMember("cloudId", .string(identity.cloudId)),
                    JSONMember("siteUrl", .string(representations.siteBase)),
                    JSONMember("moduleKey", .string(module.key)),
                    JSONMember(
                        "localId",
                        .string("ari:cloud:ecosystem::extension/\(app.urlName)/development/static/\(module.key)")),
                    JSONMember("extension", .object([JSONMember("type", .string("jira:globalPage"))])),
                    JSONMember("environmentType", .string("DEVELOPMENT")),
                ])),
        ])
        let frame =
            "/forge/resources/\(PercentEncoding.encode(app.urlName))/\(PercentEncoding.encode(resource.key))/index.html"
        var response = builder.html(
            .ok,
            HostPages.host(
                title: module.title, appName: app.name, user: user, frameSource: frame, sandboxed: true, config: config)
        )
        response.headers[.contentSecurityPolicy] = Self.hostPagePolicy(frameSource: "'self'")
        return Self.sameOriginReferrer(response)
    }

    /// The host pages' policy (spec 18): scripts only from Understudy, frames only from the app.
    static func hostPagePolicy(frameSource: String) -> String {
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src \(frameSource); form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    /// A baseUrl as a CSP source: its origin and path (with a final slash, so that the path's pages
    /// match); bytes that would end the source or the directive are percent-encoded.
    static func cspSource(_ baseUrl: String) -> String {
        let source = baseUrl == origin(of: baseUrl) ? baseUrl : baseUrl + "/"
        return PercentEncoding.encode(source) { byte in
            byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: ";") && byte != UInt8(ascii: ",")
                && byte != UInt8(ascii: "'") && byte != UInt8(ascii: "\"")
        }
    }

    private func script(_ text: String, builder: ResponseBuilder) -> Response {
        var headers = HTTPFields()
        headers.append(HTTPField(name: .contentType, value: "text/javascript;charset=UTF-8"))
        headers.append(HTTPField(name: .cacheControl, value: "no-cache"))
        headers.append(HTTPField(name: HTTPField.Name("X-Content-Type-Options")!, value: "nosniff"))
        // Loaded by app pages from other origins (all.js) and by sandboxed frames (the bridge).
        headers.append(HTTPField(name: HTTPField.Name("Access-Control-Allow-Origin")!, value: "*"))
        headers.append(HTTPField(name: ResponseBuilder.requestIdHeader, value: builder.requestId))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
