import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// `GET /authorize` and its form's `POST` (spec 9.2): who may be redirected to, what goes back to
/// the app as an error, and the consent itself.
extension AuthorizationServer {
    /// The parameters of an authorization request, from the query (`GET`) or the form (`POST`).
    struct AuthorizationRequest {
        let fields: [String: String]
        /// Parameters sent more than once, which RFC 6749 forbids.
        var repeated: [String] = []
        subscript(name: String) -> String? { fields[name] }
        var clientId: String { fields["client_id"] ?? "" }
        var redirectUri: String { fields["redirect_uri"] ?? "" }
        var state: String? { fields["state"].flatMap { $0.isEmpty ? nil : $0 } }
        var scopes: [String] {
            (fields["scope"] ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        }
    }

    func authorize(_ request: Request, rawQuery: Substring?, builder: ResponseBuilder) async throws -> Response {
        let form: FormFields
        do {
            if request.method == .post {
                let body = try await request.body.collect(upTo: Self.maximumBodyBytes)
                form = try FormFields(Substring(String(decoding: body.readableBytesView, as: UTF8.self)))
            } else {
                form = try FormFields(rawQuery ?? "")
            }
        } catch let error as PercentEncoding.DecodingError {
            return builder.html(
                .badRequest,
                ConsentPage.error(
                    title: "Malformed request", message: "The request's parameters are not valid form encoding."),
                explanation: "A parameter has a malformed percent-escape (\(error.text.prefix(80))).")
        } catch is NIOTooManyBytesError {
            return builder.html(
                .badRequest,
                ConsentPage.error(title: "Request too large", message: "The consent form is a small form."),
                explanation: "The form is longer than \(Self.maximumBodyBytes) bytes.")
        }
        let authorization = AuthorizationRequest(fields: form.fields, repeated: form.repeatedNames)
        // Which app and where to send the user back must be unambiguous before anything else.
        if let repeated = authorization.repeated.first(where: { $0 == "client_id" || $0 == "redirect_uri" }) {
            let reason = "The parameter \(repeated) is sent more than once; an authorization request names one."
            return builder.html(
                .badRequest, ConsentPage.error(title: "Malformed request", message: reason), explanation: reason)
        }

        // Who may be redirected to: never an address the app did not register.
        guard let app = try await store.oauth.oauthApp(clientId: authorization.clientId) else {
            let reason =
                authorization.clientId.isEmpty
                ? "The request has no client_id."
                : "No OAuth 2.0 app of this site has client_id '\(authorization.clientId)'."
            return builder.html(
                .badRequest, ConsentPage.error(title: "Unknown app", message: reason), explanation: reason)
        }
        guard app.callbackUrls.contains(authorization.redirectUri) else {
            let reason = Self.redirectMismatch(authorization.redirectUri, app: app)
            return builder.html(
                .badRequest, ConsentPage.error(title: "Redirect address not registered", message: reason),
                explanation: reason)
        }

        // Problems of the request itself go back to the app.
        let back = { (error: String, description: String) in
            builder.redirect(
                to: Self.location(
                    authorization.redirectUri,
                    [("error", error), ("error_description", description), ("state", authorization.state)]),
                explanation: description)
        }
        let oauthParameters = ["response_type", "scope", "state", "audience", "prompt"]
        if let repeated = authorization.repeated.first(where: oauthParameters.contains) {
            return back("invalid_request", "The parameter \(repeated) is sent more than once.")
        }
        guard authorization["response_type"] == "code" else {
            return back(
                "unsupported_response_type",
                "response_type must be code (Atlassian's 3LO supports only the authorization-code flow).")
        }
        guard authorization.state != nil else {
            return back(
                "invalid_request",
                "The state parameter is required: bind it to the user's session and check it on return.")
        }
        if let audience = authorization["audience"], !audience.isEmpty, audience != "api.atlassian.com" {
            return back("invalid_request", "audience must be api.atlassian.com (or left out), not '\(audience)'.")
        }
        let requested = authorization.scopes
        guard !requested.isEmpty else {
            return back(
                "invalid_scope", "The scope parameter is empty: request the scopes the app needs, space-separated.")
        }
        if let unknown = requested.first(where: { !app.scopes.contains($0) }) {
            return back(
                "invalid_scope",
                "The scope \(unknown) has not been added to the app \(app.name); it may request only \(app.scopes.joined(separator: " "))."
            )
        }

        guard request.method == .post else {
            return builder.html(.ok, ConsentPage.consent(app: app, request: authorization, problem: nil))
        }
        switch authorization["decision"] {
        case "deny":
            return back("access_denied", "The user denied the app access.")
        case "accept":
            break
        default:
            return builder.html(
                .ok, ConsentPage.consent(app: app, request: authorization, problem: "Choose Accept or Deny."),
                explanation: "The form's decision must be accept or deny.")
        }
        let user: User
        switch try await SiteSignIn.person(
            email: authorization["email"] ?? "", apiToken: authorization["api_token"] ?? "", store: store)
        {
        case .refused(let problem, let explanation):
            return builder.html(
                .ok, ConsentPage.consent(app: app, request: authorization, problem: problem), explanation: explanation)
        case .person(let person): user = person
        }
        let code = Self.newSecret()
        try await store.oauth.recordConsent(
            AuthorizationCode(
                codeHash: APITokens.hash(code), clientId: app.clientId, accountId: user.accountId,
                redirectUri: authorization.redirectUri, scopes: requested,
                expiresAt: now().addingTimeInterval(OAuthTokenRules.codeLifetime)))
        return builder.redirect(
            to: Self.location(authorization.redirectUri, [("code", code), ("state", authorization.state)]))
    }

    /// Why `redirectUri` is not registered, naming the near miss (a trailing slash, another scheme
    /// or port) when there is one.
    static func redirectMismatch(_ redirectUri: String, app: OAuthApp) -> String {
        if redirectUri.isEmpty {
            return
                "The request has no redirect_uri; \(app.name) registered \(app.callbackUrls.joined(separator: ", "))."
        }
        let trimmed = { (url: String) in url.hasSuffix("/") ? String(url.dropLast()) : url }
        if let near = app.callbackUrls.first(where: { trimmed($0) == trimmed(redirectUri) }) {
            return
                "redirect_uri '\(redirectUri)' differs from the registered callback URL '\(near)' by a trailing slash; it must match exactly."
        }
        if let near = app.callbackUrls.first(where: { $0.lowercased() == redirectUri.lowercased() }) {
            return
                "redirect_uri '\(redirectUri)' differs from the registered callback URL '\(near)' in letter case; it must match exactly."
        }
        return
            "redirect_uri '\(redirectUri)' is not a callback URL of \(app.name) (registered: \(app.callbackUrls.joined(separator: ", "))); an authorization server never redirects to an unregistered address."
    }

    /// `base` with the parameters added to its query, form-encoded; `nil` values are left out.
    static func location(_ base: String, _ parameters: [(String, String?)]) -> String {
        let query = parameters.compactMap { name, value in
            value.map { "\(name)=\(PercentEncoding.encode($0))" }
        }.joined(separator: "&")
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + query
    }
}
