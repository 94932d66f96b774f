extension InMemorySiteStore: ConnectInstallStore {
    public nonisolated var connect: any ConnectInstallStore { self }

    public func installKey(kid: String) -> ConnectInstallKey? { installKeys.first { $0.kid == kid } }

    public func currentInstallKey() -> ConnectInstallKey? { installKeys.last }

    public func addInstallKeyIfNone(_ key: ConnectInstallKey) -> ConnectInstallKey {
        if let current = installKeys.last { return current }
        installKeys.append(key)
        return key
    }

    public func installedApps() -> [ConnectApp] {
        snapshot().apps.filter { $0.installation != nil }
    }
}
