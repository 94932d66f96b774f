import Foundation
import UnderstudyCore

/// The pages a person sees (spec 15–17): sign-in, the list of app pages, and the host pages that
/// frame an app. Every value is escaped; the host pages' data travels as JSON whose `<` is escaped,
/// read by `host.js`.
enum HostPages {
    static func signIn(next: String, email: String, problem: String?) -> String {
        let problemLine = problem.map { "<p class=\"problem\" role=\"alert\">\(HTMLText.escape($0))</p>" } ?? ""
        return PageLayout.document(
            title: "Sign in",
            body: """
                <h1>Sign in to your Understudy site</h1>
                <p>As any person of the site: their e-mail address and one of their (classic) API tokens.</p>
                \(problemLine)
                <form method="post" action="/login">
                <input type="hidden" name="next" value="\(HTMLText.escape(next))">
                <label>E-mail address <input type="email" name="email" autocomplete="username" value="\(HTMLText.escape(email))" required></label>
                <label>API token <input type="password" name="api_token" autocomplete="current-password"></label>
                <div class="actions"><button type="submit">Sign in</button></div>
                </form>
                """)
    }

    /// One line per page module of the site's apps, for `GET /`.
    struct PageLink {
        let href: String
        let title: String
        let app: String
    }

    static func home(user: User, links: [PageLink]) -> String {
        let items =
            links.isEmpty
            ? "<li>No installed app has a page: a Connect app's descriptor declares <code>modules.generalPages</code>, a Forge app in the site file <code>resources</code> and <code>modules</code>.</li>"
            : links.map {
                "<li><a href=\"\(HTMLText.escape($0.href))\">\(HTMLText.escape($0.title))</a> — \(HTMLText.escape($0.app))</li>"
            }.joined(separator: "\n")
        return PageLayout.document(
            title: "Apps",
            body: """
                \(bar(user))
                <h1>App pages</h1>
                <ul>
                \(items)
                </ul>
                """)
    }

    /// The host page around an app's frame. `config` is what `host.js` reads.
    static func host(
        title: String, appName: String, user: User, frameSource: String, sandboxed: Bool, config: JSONValue
    ) -> String {
        // Inside <script type="application/json"> only `</script` could end the element early; with
        // every `<` escaped, nothing can.
        let configText = config.jsonText.replacingOccurrences(of: "<", with: "\\u003c")
        let sandbox =
            sandboxed ? " sandbox=\"allow-scripts allow-forms allow-popups allow-modals allow-downloads\"" : ""
        return PageLayout.document(
            title: "\(title) · \(appName)",
            body: """
                \(bar(user))
                <h1>\(HTMLText.escape(title)) <small>\(HTMLText.escape(appName))</small></h1>
                <iframe id="understudy-app-frame" title="\(HTMLText.escape(title))" src="\(HTMLText.escape(frameSource))"\(sandbox)></iframe>
                <ol id="understudy-navigations"></ol>
                <script type="application/json" id="understudy-host-config">\(configText)</script>
                <script src="\(HostScripts.hostPath)"></script>
                """,
            style: """
                body { max-width: none; margin: 1rem 2rem; }
                iframe { width: 100%; height: 70vh; border: 1px solid #dfe1e6; }
                small { color: #626f86; font-weight: normal; }
                .bar { display: flex; gap: 1rem; align-items: center; color: #626f86; }
                .bar form { margin: 0; }
                """)
    }

    static func notFound(title: String, message: String, user: User?) -> String {
        PageLayout.document(
            title: title,
            body: """
                \(user.map(bar) ?? "")
                <h1>\(HTMLText.escape(title))</h1>
                <p>\(HTMLText.escape(message))</p>
                <p><a href="/">The site's app pages</a></p>
                """)
    }

    private static func bar(_ user: User) -> String {
        """
        <div class="bar"><span>Signed in as <strong>\(HTMLText.escape(user.displayName))</strong> (\(HTMLText.escape(user.accountId)))</span>
        <a href="/">App pages</a>
        <form method="post" action="/logout"><button type="submit">Sign out</button></form></div>
        """
    }
}
