/// A Custom UI resource of a Forge app (spec 17): a local folder holding the built `index.html`
/// and its assets, as the manifest's `resources` name it.
public struct ForgeResource: Sendable, Hashable {
    public var key: String
    /// The folder on this machine (a site file's relative path is read from the site file's folder).
    public var path: String

    public init(key: String, path: String) {
        self.key = key
        self.path = path
    }
}

/// A module of a Forge app that shows a Custom UI resource, such as a `jira:globalPage`.
public struct ForgeModule: Sendable, Hashable {
    public var key: String
    /// The key of the resource it shows.
    public var resource: String
    public var title: String

    public init(key: String, resource: String, title: String) {
        self.key = key
        self.resource = resource
        self.title = title
    }
}

extension ForgeApp {
    /// Module and resource keys as the manifest allows them.
    public static func isKey(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64
            && text.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-", "_": true
                default: false
                }
            }
    }

    public func module(key: String) -> ForgeModule? { modules.first { $0.key == key } }
    public func resource(key: String) -> ForgeResource? { resources.first { $0.key == key } }

    /// The UUID at the end of the app id, which names the app in front-end URLs (an ARI holds a slash).
    public var urlName: String {
        appId.hasPrefix(Self.appIdPrefix) ? String(appId.dropFirst(Self.appIdPrefix.count)) : appId
    }

    /// The resources and modules as stores keep them (`nil` when the app has none).
    public var customUIJSON: JSONValue? {
        guard !resources.isEmpty || !modules.isEmpty else { return nil }
        return .object([
            JSONMember(
                "resources",
                .array(
                    resources.map {
                        .object([JSONMember("key", .string($0.key)), JSONMember("path", .string($0.path))])
                    }
                )),
            JSONMember(
                "modules",
                .array(
                    modules.map {
                        .object([
                            JSONMember("key", .string($0.key)), JSONMember("resource", .string($0.resource)),
                            JSONMember("title", .string($0.title)),
                        ])
                    })),
        ])
    }

    /// Reads `customUIJSON`'s form back into the app (nothing when `json` is not that form).
    public mutating func setCustomUI(json: JSONValue?) {
        guard case .object(let members)? = json else { return }
        func field(_ entry: [JSONMember], _ name: String) -> String? {
            if case .string(let text)? = entry.first(where: { $0.name == name })?.value { text } else { nil }
        }
        for member in members {
            guard case .array(let entries) = member.value else { continue }
            for case .object(let entry) in entries {
                switch member.name {
                case "resources":
                    if let key = field(entry, "key"), let path = field(entry, "path") {
                        resources.append(ForgeResource(key: key, path: path))
                    }
                case "modules":
                    if let key = field(entry, "key"), let resource = field(entry, "resource") {
                        modules.append(ForgeModule(key: key, resource: resource, title: field(entry, "title") ?? key))
                    }
                default: break
                }
            }
        }
    }
}
