import UnderstudyCore

/// The consent page of `/authorize` (spec 9.2): the app, each scope in plain words, a sign-in as a
/// site user, Accept and Deny. Every value is escaped; the page has no script and loads nothing.
enum ConsentPage {
    static func consent(app: OAuthApp, request: AuthorizationServer.AuthorizationRequest, problem: String?) -> String {
        let scopes = request.scopes.map { scope in
            let meaning = GatewayScopes.meaning(of: scope) ?? "A scope Understudy does not describe."
            return "<li><code>\(escape(scope))</code> — \(escape(meaning))</li>"
        }.joined(separator: "\n")
        let hidden = ["client_id", "redirect_uri", "scope", "state", "response_type", "audience", "prompt"]
            .compactMap { name in
                request[name].map { "<input type=\"hidden\" name=\"\(name)\" value=\"\(escape($0))\">" }
            }.joined(separator: "\n")
        let problemLine = problem.map { "<p class=\"problem\" role=\"alert\">\(escape($0))</p>" } ?? ""
        return page(
            title: "\(app.name) wants access",
            body: """
                <h1><strong>\(escape(app.name))</strong> wants to access your Understudy site</h1>
                <p>It asks to:</p>
                <ul>
                \(scopes)
                </ul>
                <p>After you choose, you return to <code>\(escape(request.redirectUri))</code>.</p>
                \(problemLine)
                <form method="post" action="/authorize">
                \(hidden)
                <label>E-mail address of a site user <input type="email" name="email" autocomplete="username" value="\(escape(request["email"] ?? ""))" required></label>
                <label>API token <input type="password" name="api_token" autocomplete="current-password"></label>
                <div class="actions">
                <button type="submit" name="decision" value="accept">Accept</button>
                <button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
                </div>
                </form>
                """)
    }

    static func error(title: String, message: String) -> String {
        page(title: title, body: "<h1>\(escape(title))</h1>\n<p>\(escape(message))</p>")
    }

    private static func page(title: String, body: String) -> String {
        PageLayout.document(title: title, body: body)
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
