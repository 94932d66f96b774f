import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// The console at `/_understudy/console`: the site's users, apps and properties, and the live
/// request journal with explanations, as one server-rendered page with a little vanilla JS.
extension ControlPlane {
    func console(_ request: Request, parameters: [String: String], builder: ResponseBuilder) async throws -> Response {
        if let given = parameters["token"] {
            guard APITokens.constantTimeEqual(given, token) else {
                return Self.html(.unauthorized, Self.loginPage(error: "That is not this server's control token."))
            }
            // The token leaves the address bar at once; from now on the HttpOnly cookie carries it.
            var headers = HTTPFields()
            headers[.location] = "/_understudy/console"
            headers[.setCookie] =
                "\(Self.cookieName)=\(token); Path=/_understudy; HttpOnly; SameSite=Strict"
            return Response(status: .seeOther, headers: headers)
        }
        do {
            try authorize(request)
        } catch {
            return Self.html(.ok, Self.loginPage(error: nil))
        }
        return Self.html(.ok, Self.page(site: try await store.snapshot(), identity: try await identity.identity()))
    }

    static func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func escape(_ text: String) -> String { HTMLText.escape(text) }

    static func loginPage(error: String?) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Understudy console</title>
        <style>\(style)</style></head><body><h1>Understudy console</h1>
        \(error.map { "<p class=\"refused\">\(escape($0))</p>" } ?? "")
        <form method="get" action="/_understudy/console"><label>Control token
        <input name="token" type="password" autocomplete="off" autofocus></label>
        <button>Open</button></form>
        <p>The token is printed when <code>understudy serve</code> starts (or set with <code>--control-token</code>).</p>
        </body></html>
        """
    }

    static func page(site: Site, identity: SiteIdentity) -> String {
        let usersById = Dictionary(
            (site.users + site.appUsers).map { ($0.accountId, $0) }, uniquingKeysWith: { a, _ in a })
        var users = ""
        for user in site.users + site.appUsers {
            let permissions = user.permissions
            var granted: [String] = []
            if permissions.contains(.administerJira) { granted.append("Administer Jira") }
            if permissions.contains(.accessJira) { granted.append("Access Jira") }
            let properties = site.userProperties.filter { $0.accountId == user.accountId }
            users += """
                <tr><td><code>\(escape(user.accountId))</code></td><td>\(escape(user.displayName))\(user.active ? "" : " (inactive)")</td>
                <td>\(escape(user.emailAddress ?? "app user"))</td><td>\(escape(user.groups.joined(separator: ", ")))</td>
                <td>\(escape(granted.isEmpty ? "none" : granted.joined(separator: ", ")))\(user.scopedAPITokens.isEmpty ? "" : "<div class=\"muted\">scoped API tokens: \(user.scopedAPITokens.map { escape($0.scopes.joined(separator: " ")) }.joined(separator: "; "))</div>")</td>
                <td>\(properties.isEmpty ? "<span class=\"muted\">none</span>" : properties.map { "<div><code>\(escape($0.key))</code> = <code>\(escape($0.value.jsonText))</code></div>" }.joined())</td>
                <td>\(user.legacyProperties.isEmpty ? "<span class=\"muted\">none</span>" : user.legacyProperties.sorted { $0.key < $1.key }.map { "<div><code>\(escape($0.key))</code> = \(escape($0.value))</div>" }.joined())</td></tr>

                """
        }
        var apps = ""
        for app in site.apps {
            let properties = site.appProperties.filter { $0.appKey == app.key }
            apps += """
                <tr><td><code>\(escape(app.key))</code></td><td>\(escape(app.name))</td><td><code>\(escape(app.clientKey))</code></td>
                <td>\(escape(app.scopes.map(\.rawValue).joined(separator: ", ")))</td>
                <td><code>\(escape(app.accountId))</code> (\(escape(usersById[app.accountId]?.groups.joined(separator: ", ") ?? "")))</td>
                <td>\(properties.isEmpty ? "<span class=\"muted\">none</span>" : properties.map { "<div><code>\(escape($0.key))</code> = <code>\(escape($0.value.jsonText))</code></div>" }.joined())</td></tr>

                """
        }
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Understudy console</title>
            <style>\(style)</style></head><body>
            <h1>Understudy console</h1>
            <p>\(escape(identity.name)) · cloudId <code>\(escape(identity.cloudId))</code> · API gateway <code>/ex/jira/\(escape(identity.cloudId))</code></p>
            <h2>Users</h2>
            <table id="users"><tr><th>accountId</th><th>name</th><th>e-mail</th><th>groups</th><th>global permissions</th>
            <th>user properties (REST API)</th><th>admin-UI properties (not visible to the API)</th></tr>
            \(users)</table>
            <h2>Connect apps</h2>
            <table id="apps"><tr><th>key</th><th>name</th><th>clientKey</th><th>scopes</th><th>app user (groups)</th><th>app properties</th></tr>
            \(apps)</table>
            \(connectInstallSection(site: site))
            \(forgeSection(site: site))
            \(appPagesSection(site: site))
            \(oauthSection(site: site, usersById: usersById))
            <h2>Requests <span class="muted" id="journal-state">(live)</span></h2>
            <table id="journal"><thead><tr><th>time</th><th>request</th><th>caller</th><th>status</th><th>explanation</th><th>ms</th><th>X-AREQUESTID</th></tr></thead>
            <tbody></tbody></table>
            <script>\(script)
            \(connectInstallScript)</script>
            </body></html>
            """
    }

    /// Forge apps: their installation, scopes, and the app user those scopes make.
    static func forgeSection(site: Site) -> String {
        let apps = site.forgeApps.map { app in
            let standing = app.administersJira ? "administers Jira" : "Jira access only (its own properties)"
            return """
                <tr><td>\(escape(app.name))<div><code>\(escape(app.appId))</code></div></td>
                <td><code>\(escape(app.installationId))</code></td><td>\(escape(app.scopes.joined(separator: " ")))</td>
                <td><code>\(escape(app.accountId))</code> (\(escape(app.appUserGroups.joined(separator: ", "))))<div class="muted">\(standing)</div></td>
                <td>\(app.connectKey.map { "<code>\(escape($0))</code>" } ?? "<span class=\"muted\">none</span>")</td></tr>
                """
        }.joined(separator: "\n")
        return """
            <h2>Forge apps</h2>
            <table id="forge-apps"><tr><th>app</th><th>installationId</th><th>scopes (manifest)</th><th>app user (groups)</th><th>Connect key</th></tr>
            \(apps.isEmpty ? "<tr><td colspan=\"5\" class=\"muted\">none</td></tr>" : apps)</table>
            """
    }

    /// OAuth 2.0 apps and the consents users gave them, each with a working revoke.
    static func oauthSection(site: Site, usersById: [String: User]) -> String {
        let apps = site.oauthApps.map { app in
            """
            <tr><td><code>\(escape(app.clientId))</code></td><td>\(escape(app.name))</td>
            <td>\(app.callbackUrls.map { "<div><code>\(escape($0))</code></div>" }.joined())</td>
            <td>\(escape(app.scopes.joined(separator: " ")))</td></tr>
            """
        }.joined(separator: "\n")
        let consents = site.oauthConsents.map { consent in
            let who = usersById[consent.accountId]?.displayName ?? consent.accountId
            return """
                <tr><td>\(escape(who)) <code>\(escape(consent.accountId))</code></td><td><code>\(escape(consent.clientId))</code></td>
                <td>\(escape(consent.scopes.joined(separator: " ")))</td>
                <td><button class="revoke" data-client="\(escape(consent.clientId))" data-account="\(escape(consent.accountId))">Revoke</button> <span class="outcome muted"></span></td></tr>
                """
        }.joined(separator: "\n")
        return """
            <h2>OAuth 2.0 apps</h2>
            <table id="oauth-apps"><tr><th>clientId</th><th>name</th><th>callback URLs</th><th>scopes it may request</th></tr>
            \(apps.isEmpty ? "<tr><td colspan=\"4\" class=\"muted\">none</td></tr>" : apps)</table>
            <h2>Consents</h2>
            <table id="consents"><tr><th>user</th><th>OAuth app</th><th>scopes granted</th><th></th></tr>
            \(consents.isEmpty ? "<tr><td colspan=\"4\" class=\"muted\">none yet: a user consents at /authorize</td></tr>" : consents)</table>
            """
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#172b4d}table{border-collapse:collapse;margin-bottom:1.5em}
        th,td{border:1px solid #dfe1e6;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f5f7}
        code{font-size:12px}.muted{color:#6b778c}.refused{background:#ffebe6}.refused td.explanation{color:#bf2600;font-weight:600}
        .explained td.explanation{color:#0747a6}#journal td:nth-child(2){max-width:36em;word-break:break-all}
        #journal td.explanation{max-width:44em}
        """

    static let script = """
        const body = document.querySelector('#journal tbody');
        const state = document.getElementById('journal-state');
        function cell(row, text, name) { const td = row.insertCell(); td.textContent = text; if (name) td.className = name; }
        async function refresh() {
          try {
            const answer = await fetch('/_understudy/requests?limit=100', {credentials: 'same-origin'});
            if (!answer.ok) { state.textContent = '(journal unavailable: ' + answer.status + ')'; return; }
            const journal = await answer.json();
            body.replaceChildren();
            for (const r of journal.requests) {
              const row = body.insertRow();
              row.className = r.status >= 400 ? 'refused' : (r.explanation ? 'explained' : '');
              cell(row, r.time.substring(11, 23));
              cell(row, r.method + ' ' + r.path);
              cell(row, r.caller.type === 'anonymous' ? 'anonymous'
                : r.caller.type === 'oauth' ? r.caller.clientId + ' (OAuth) as ' + r.caller.accountId
                : r.caller.type === 'forge' ? r.caller.appId + ' (Forge) as ' + r.caller.accountId
                : r.caller.type === 'lifecycle' ? 'Understudy → ' + r.caller.appKey + ' (lifecycle)'
                : r.caller.via ? r.caller.accountId + ' in ' + (r.caller.appKey || r.caller.appId) + ' via ' + r.caller.via
                : (r.caller.appKey || r.caller.accountId));
              cell(row, String(r.status));
              cell(row, r.explanation || '', 'explanation');
              cell(row, r.durationMs);
              cell(row, r.requestId);
            }
            state.textContent = '(live, ' + journal.requests.length + ' shown)';
          } catch (error) { state.textContent = '(journal unavailable)'; }
        }
        refresh(); setInterval(refresh, 2000);
        for (const button of document.querySelectorAll('button.revoke')) {
          button.addEventListener('click', async () => {
            const path = '/_understudy/oauth/consents/' + encodeURIComponent(button.dataset.client) + '/'
              + encodeURIComponent(button.dataset.account);
            const answer = await fetch(path, {method: 'DELETE', credentials: 'same-origin'});
            button.closest('tr').querySelector('.outcome').textContent =
              answer.ok ? 'revoked: its tokens no longer work' : 'not revoked (' + answer.status + ')';
            button.disabled = answer.ok;
          });
        }
        """
}
