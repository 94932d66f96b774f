import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing
import UnderstudyCore

/// A shared database can go away (PostgreSQL restarted): requests are then answered quickly with
/// `503` in the resource's own error shape, and served again once it is back.
@Suite("Store outages")
struct StoreOutageTests {
    @Test("While the store is unavailable: 503 with Jira's body, Retry-After and the reason; then served again")
    func outage() async throws {
        let store = SwitchableStore(backing: try await TestSite.store())
        try await TestSite.test(store: store) { client in
            let target = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"
            try await client.execute(uri: target, method: .get, headers: .ada) { #expect($0.status == .ok) }
            store.isDown = true
            try await client.execute(uri: target, method: .get, headers: .ada) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorMessage == "The service is temporarily unavailable. Please try again later.")
                #expect(response.headers[.retryAfter] == "1")
                #expect(response.explanation?.contains("PostgreSQL at db:5432 did not answer") == true)
            }
            let appTarget = "/rest/atlassian-connect/1/addons/com.example.tour/properties/settings"
            try await client.execute(uri: appTarget, method: .get, headers: .jwt("com.example.tour", .get, appTarget)) {
                response in
                #expect(response.status == .serviceUnavailable)
                #expect(
                    response.text
                        == "{\"message\":\"The service is temporarily unavailable. Please try again later.\",\"statusCode\":503}"
                )
            }
            try await client.execute(uri: "/status", method: .get) { #expect($0.status == .ok) }
            store.isDown = false
            try await client.execute(uri: target, method: .get, headers: .ada) { #expect($0.status == .ok) }
        }
    }
}

/// A store that can be switched off, as a database server can.
final class SwitchableStore: SiteStore {
    private let backing: any SiteStore
    private let down = Atomic(false)

    init(backing: any SiteStore) { self.backing = backing }

    var isDown: Bool {
        get { down.load(ordering: .relaxed) }
        set { down.store(newValue, ordering: .relaxed) }
    }

    private func available() throws {
        if isDown { throw SiteStoreError.unavailable("PostgreSQL at db:5432 did not answer within 3 seconds") }
    }

    func isEmpty() async throws -> Bool {
        try available()
        return try await backing.isEmpty()
    }
    func user(accountId: String) async throws -> User? {
        try available()
        return try await backing.user(accountId: accountId)
    }
    func user(emailAddress: String) async throws -> User? {
        try available()
        return try await backing.user(emailAddress: emailAddress)
    }
    func app(key: String) async throws -> ConnectApp? {
        try available()
        return try await backing.app(key: key)
    }
    func app(clientKey: String) async throws -> ConnectApp? {
        try available()
        return try await backing.app(clientKey: clientKey)
    }
    func siteIdentity() async throws -> SiteIdentity? {
        try available()
        return try await backing.siteIdentity()
    }
    /// The OAuth side is not switched off: the outage tests are about the Jira resources.
    var oauth: any OAuthStore { backing.oauth }
    var forge: any ForgeStore { backing.forge }
    var connect: any ConnectInstallStore { backing.connect }
    func addUser(_ user: User) async throws {
        try available()
        try await backing.addUser(user)
    }
    func addAPITokenHash(_ hash: String, scopes: [String], emailAddress: String) async throws -> User {
        try available()
        return try await backing.addAPITokenHash(hash, scopes: scopes, emailAddress: emailAddress)
    }
    func load(_ site: Site) async throws {
        try available()
        try await backing.load(site)
    }
    func snapshot() async throws -> Site {
        try available()
        return try await backing.snapshot()
    }
    func replace(with site: Site) async throws {
        try available()
        try await backing.replace(with: site)
    }
    func saveState() async throws {
        try available()
        try await backing.saveState()
    }
    func restoreSavedState() async throws {
        try available()
        try await backing.restoreSavedState()
    }
    func userPropertyKeys(accountId: String) async throws -> [String] {
        try available()
        return try await backing.userPropertyKeys(accountId: accountId)
    }
    func userProperty(accountId: String, key: String) async throws -> PropertyValue? {
        try available()
        return try await backing.userProperty(accountId: accountId, key: key)
    }
    func userProperties(accountId: String, atMost limit: Int) async throws -> [String: PropertyValue]? {
        try available()
        return try await backing.userProperties(accountId: accountId, atMost: limit)
    }
    func setUserProperty(accountId: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try available()
        return try await backing.setUserProperty(accountId: accountId, key: key, value: value)
    }
    func deleteUserProperty(accountId: String, key: String) async throws -> Bool {
        try available()
        return try await backing.deleteUserProperty(accountId: accountId, key: key)
    }
    func appPropertyKeys(appKey: String) async throws -> [String] {
        try available()
        return try await backing.appPropertyKeys(appKey: appKey)
    }
    func appProperty(appKey: String, key: String) async throws -> PropertyValue? {
        try available()
        return try await backing.appProperty(appKey: appKey, key: key)
    }
    func setAppProperty(appKey: String, key: String, value: PropertyValue) async throws -> WriteOutcome {
        try available()
        return try await backing.setAppProperty(appKey: appKey, key: key, value: value)
    }
    func deleteAppProperty(appKey: String, key: String) async throws -> Bool {
        try available()
        return try await backing.deleteAppProperty(appKey: appKey, key: key)
    }
    func changeCounter() async throws -> Int? { try await backing.changeCounter() }
    func close() async throws { try await backing.close() }
}
