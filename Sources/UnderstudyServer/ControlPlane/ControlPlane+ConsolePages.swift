import UnderstudyCore

/// The console's app pages (spec 16, 17): every page of the site's apps, each with "open as" a
/// person of the site — the console starts that person's session and opens the host page.
extension ControlPlane {
    static func appPagesSection(site: Site) -> String {
        var pages: [(href: String, title: String)] = []
        for app in site.apps where app.unusableBecause == nil {
            for page in app.installation?.pages ?? [] {
                let href = "/plugins/servlet/ac/\(PercentEncoding.encode(app.key))/\(PercentEncoding.encode(page.key))"
                pages.append((href, "\(page.name) — \(app.name) (Connect)"))
            }
        }
        for app in site.forgeApps {
            for module in app.modules {
                let href = "/forge/apps/\(PercentEncoding.encode(app.urlName))/\(PercentEncoding.encode(module.key))"
                pages.append((href, "\(module.title) — \(app.name) (Forge)"))
            }
        }
        let people = site.users.filter { $0.accountType == .atlassian && $0.active }.map {
            "<option value=\"\(escape($0.accountId))\">\(escape($0.displayName)) (\(escape($0.accountId)))</option>"
        }.joined()
        let rows = pages.map { page in
            """
            <tr><td><a href="\(escape(page.href))">\(escape(page.title))</a><div class="muted"><code>\(escape(page.href))</code></div></td>
            <td><form method="post" action="/_understudy/console/open"><input type="hidden" name="next" value="\(escape(page.href))">
            <select name="accountId">\(people)</select> <button>Open as</button></form></td></tr>
            """
        }.joined(separator: "\n")
        let none =
            "<tr><td colspan=\"2\" class=\"muted\">no app declares a page (a Connect descriptor's generalPages or adminPages; a Forge app's resources and modules)</td></tr>"
        return """
            <h2>App pages</h2>
            <table id="app-pages"><tr><th>page</th><th>open it signed in as</th></tr>
            \(rows.isEmpty ? none : rows)</table>
            """
    }
}
