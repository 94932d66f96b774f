/// The `forgeApps` of a site file (spec 11.1). Their app users are not listed in the file: each
/// follows from its app (`ForgeApp.appUser`).
extension SiteFileReader {
    func forgeApps(_ value: JSONValue?, accountIds: inout Set<String>) throws(SiteFileError) -> [ForgeApp] {
        var apps: [ForgeApp] = []
        var appIds: Set<String> = []
        var installationIds: Set<String> = []
        for (index, element) in try array(value, at: "$.forgeApps").enumerated() {
            let path = "$.forgeApps[\(index)]"
            let app = try forgeApp(element, at: path)
            guard appIds.insert(app.appId).inserted else {
                throw error("\(path).appId", "duplicate appId \"\(app.appId)\"")
            }
            guard installationIds.insert(app.installationId).inserted else {
                throw error("\(path).installationId", "duplicate installationId \"\(app.installationId)\"")
            }
            guard accountIds.insert(app.accountId).inserted else {
                throw error("\(path).accountId", "duplicate accountId \"\(app.accountId)\"")
            }
            apps.append(app)
        }
        return apps
    }

    private func forgeApp(_ value: JSONValue, at path: String) throws(SiteFileError) -> ForgeApp {
        let fields = try members(
            value, at: path,
            allowed: ["appId", "name", "scopes", "installationId", "connectKey", "accountId", "resources", "modules"])
        let appId = try ari(fields["appId"], at: "\(path).appId", prefix: ForgeApp.appIdPrefix)
        let installationId = try fields["installationId"].map { value throws(SiteFileError) in
            try ari(value, at: "\(path).installationId", prefix: ForgeApp.installationIdPrefix)
        }
        var resources: [ForgeResource] = []
        for (index, element) in try array(fields["resources"], at: "\(path).resources").enumerated() {
            let at = "\(path).resources[\(index)]"
            let entry = try members(element, at: at, allowed: ["key", "path"])
            let key = try nonEmptyString(entry["key"], at: "\(at).key")
            guard ForgeApp.isKey(key) else {
                throw error("\(at).key", "\"\(key)\" is not a resource key: letters, digits, - and _, at most 64")
            }
            guard !resources.contains(where: { $0.key == key }) else {
                throw error("\(at).key", "duplicate resource key \"\(key)\"")
            }
            resources.append(ForgeResource(key: key, path: try nonEmptyString(entry["path"], at: "\(at).path")))
        }
        var modules: [ForgeModule] = []
        for (index, element) in try array(fields["modules"], at: "\(path).modules").enumerated() {
            let at = "\(path).modules[\(index)]"
            let entry = try members(element, at: at, allowed: ["key", "resource", "title"])
            let key = try nonEmptyString(entry["key"], at: "\(at).key")
            guard ForgeApp.isKey(key) else {
                throw error("\(at).key", "\"\(key)\" is not a module key: letters, digits, - and _, at most 64")
            }
            guard !modules.contains(where: { $0.key == key }) else {
                throw error("\(at).key", "duplicate module key \"\(key)\"")
            }
            let resource = try nonEmptyString(entry["resource"], at: "\(at).resource")
            guard resources.contains(where: { $0.key == resource }) else {
                throw error(
                    "\(at).resource",
                    "\"\(resource)\" is not a key of this app's resources (\(resources.map(\.key).joined(separator: ", ")))"
                )
            }
            let title = try string(entry["title"], at: "\(at).title", required: false) ?? key
            modules.append(ForgeModule(key: key, resource: resource, title: title))
        }
        return ForgeApp(
            appId: appId, name: try nonEmptyString(fields["name"], at: "\(path).name"),
            scopes: try scopes(fields["scopes"], at: "\(path).scopes"), installationId: installationId,
            connectKey: try fields["connectKey"].map { value throws(SiteFileError) in
                try nonEmptyString(value, at: "\(path).connectKey")
            },
            accountId: try fields["accountId"].map { value throws(SiteFileError) in
                try accountId(value, at: "\(path).accountId")
            }, resources: resources, modules: modules)
    }

    /// An Atlassian resource identifier such as `ari:cloud:ecosystem::app/<uuid>`.
    private func ari(_ value: JSONValue?, at path: String, prefix: String) throws(SiteFileError) -> String {
        let text = try nonEmptyString(value, at: path)
        guard text.hasPrefix(prefix), text.count > prefix.count, !text.contains(where: \.isWhitespace) else {
            throw error(
                path,
                "\"\(text)\" is not of the form \(prefix)<uuid>, as the Forge CLI prints it (forge settings, manifest.yml's app.id)"
            )
        }
        return text
    }
}
