import UnderstudyCore

/// The paths of the pages a person opens in a browser, and of what those pages call (spec 15–17).
/// Cold paths, matched once per page view; each segment is percent-decoded.
enum FrontEndRoute: Equatable {
    case home
    case login
    case logout
    /// Jira's URL for a Connect app's general or admin page.
    case connectPage(appKey: String, moduleKey: String)
    case allJS
    case hostJS
    case bridgeJS
    /// The relay of a Connect page: `request` (`AP.request`) or `token` (`AP.context.getToken`).
    case connectRelay(appKey: String, call: String)
    /// A Forge app's module; `app` is the appId or its UUID.
    case forgePage(app: String, moduleKey: String)
    /// A file of a Forge app's Custom UI resource, by its path inside the resource's folder.
    case forgeResource(app: String, resourceKey: String, file: [String])
    /// The relay of a Custom UI: `fetch` (`requestJira`'s `fetchProduct`).
    case forgeRelay(app: String, call: String)

    init?(path: Substring) {
        switch path {
        case "/": self = .home
        case "/login": self = .login
        case "/logout": self = .logout
        case Substring(HostScripts.allJSPath): self = .allJS
        case Substring(HostScripts.hostPath): self = .hostJS
        case Substring(HostScripts.bridgePath): self = .bridgeJS
        default:
            // Jira's own resources pass here on every request: a byte check before any decoding.
            guard Self.prefixes.contains(where: { path.utf8.starts(with: $0.utf8) }) else { return nil }
            let raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            guard let segments = try? raw.map({ try PercentEncoding.decode($0, plusIsSpace: false) }) else {
                return nil
            }
            var parts = Array(segments)
            // An appId written out whole (`ari:cloud:ecosystem::app/<uuid>`) spans two segments.
            if parts.count > 3, parts[0] == "forge", parts[2] + "/" == ForgeApp.appIdPrefix {
                parts.replaceSubrange(2...3, with: [ForgeApp.appIdPrefix + parts[3]])
            }
            switch parts {
            case let s where s.count == 5 && s[0] == "plugins" && s[1] == "servlet" && s[2] == "ac":
                self = .connectPage(appKey: s[3], moduleKey: s[4])
            case let s where s.count == 4 && s[0] == "forge" && s[1] == "apps":
                self = .forgePage(app: s[2], moduleKey: s[3])
            case let s where s.count >= 5 && s[0] == "forge" && s[1] == "resources":
                self = .forgeResource(app: s[2], resourceKey: s[3], file: Array(s[4...]))
            case let s where s.count == 4 && s[0] == "understudy-host" && s[1] == "connect":
                self = .connectRelay(appKey: s[2], call: s[3])
            case let s where s.count == 4 && s[0] == "understudy-host" && s[1] == "forge":
                self = .forgeRelay(app: s[2], call: s[3])
            default: return nil
            }
        }
    }

    private static let prefixes = ["/plugins/servlet/ac/", "/forge/", "/understudy-host/"]

    /// A Forge app as a front-end URL names it: the UUID (an ARI has a slash), or the whole appId.
    static func appId(_ named: String) -> String {
        named.hasPrefix(ForgeApp.appIdPrefix) ? named : ForgeApp.appIdPrefix + named
    }
}
