import Foundation
import Testing
import UnderstudyCore

/// The OAuth side of every store (spec 9): the same codes, families and rotations whichever
/// database holds them. The rules themselves are `OAuthTokenRules`'; these check that each store
/// applies them atomically and keeps what it should.
@Suite("OAuth store conformance")
struct OAuthStoreConformanceTests {
    static let app = OAuthApp(
        clientId: "client-1", name: "Sync", clientSecretHash: "hmac-sha256:secret",
        callbackUrls: ["https://app.example.com/cb"], scopes: ["read:jira-user", "offline_access", "read:me"])
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let site = Site(
        identity: SiteIdentity(cloudId: "0f6b5a5e-4c5d-4e8f-9a1b-2c3d4e5f6a7b", name: "Test"),
        users: Fixture.site.users, oauthApps: [app])

    static func code(_ hash: String, scopes: [String] = ["read:jira-user", "offline_access"]) -> AuthorizationCode {
        AuthorizationCode(
            codeHash: hash, clientId: app.clientId, accountId: Fixture.bob.accountId,
            redirectUri: "https://app.example.com/cb", scopes: scopes,
            expiresAt: start.addingTimeInterval(OAuthTokenRules.codeLifetime))
    }

    /// Tokens issued `seconds` after `start`, the access token valid for an hour from then.
    static func tokens(_ name: String, issuedAfter seconds: TimeInterval = 0) -> IssuedTokens {
        IssuedTokens(
            accessTokenHash: "access-\(name)", accessTokenExpiresAt: start.addingTimeInterval(seconds + 3600),
            refreshTokenHash: "refresh-\(name)")
    }

    /// Exchanges code `hash` for `tokens` in family `familyId`, as the token endpoint does.
    static func redeem(
        _ store: any SiteStore, _ hash: String, familyId: String, tokens name: String,
        redirectUri: String = "https://app.example.com/cb", after seconds: TimeInterval = 0
    ) async throws -> CodeRedemption {
        try await store.oauth.redeemCode(
            codeHash: hash, clientId: "client-1", redirectUri: redirectUri, now: start.addingTimeInterval(seconds),
            familyId: familyId, tokens: tokens(name))
    }

    func withStore(_ kind: StoreKind, _ body: (any SiteStore) async throws -> Void) async throws {
        try await kind.withStore(loading: Self.site, body)
    }

    @Test("Identity, apps and consents load, read back and appear in the snapshot", arguments: StoreKind.available)
    func loadAndSnapshot(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.siteIdentity() == Self.site.identity)
            #expect(try await store.oauth.oauthApp(clientId: "client-1") == Self.app)
            await #expect(throws: SiteStoreError.duplicateClientId("client-1")) {
                try await store.oauth.addOAuthApp(Self.app)
            }
            try await store.oauth.recordConsent(Self.code("c1", scopes: ["read:jira-user"]))
            try await store.oauth.recordConsent(Self.code("c2", scopes: ["read:me", "read:jira-user"]))
            let consents = try await store.oauth.oauthConsents()
            #expect(
                consents == [
                    OAuthConsent(
                        clientId: "client-1", accountId: Fixture.bob.accountId, scopes: ["read:jira-user", "read:me"])
                ], "a later consent widens the earlier one")
            let snapshot = try await store.snapshot()
            #expect(snapshot.identity == Self.site.identity)
            #expect(snapshot.oauthApps == [Self.app])
            #expect(snapshot.oauthConsents == consents)
            await #expect(throws: SiteStoreError.unknownAccountId("ghost")) {
                var code = Self.code("c3")
                code.accountId = "ghost"
                try await store.oauth.recordConsent(code)
            }
        }
    }

    @Test(
        "A code is exchanged once, by its client, with its redirect URI, before it expires",
        arguments: StoreKind.available)
    func codeExchange(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.oauth.recordConsent(Self.code("c1"))
            let wrongRedirect = try await Self.redeem(
                store, "c1", familyId: "f0", tokens: "0", redirectUri: "https://app.example.com/cb/")
            guard case .refused = wrongRedirect else { Issue.record("redirect_uri must match"); return }
            let redeemed = try await Self.redeem(store, "c1", familyId: "f1", tokens: "1")
            #expect(redeemed == .redeemed(Self.code("c1")))
            let again = try await Self.redeem(store, "c1", familyId: "f2", tokens: "2")
            guard case .refused = again else { Issue.record("a code is single-use"); return }
            let grant = try await store.oauth.accessToken(hash: "access-1")
            #expect(grant?.accountId == Fixture.bob.accountId)
            #expect(grant?.scopes == ["read:jira-user", "offline_access"])
            #expect(grant?.expiresAt == Self.start.addingTimeInterval(3600))
            #expect(try await store.oauth.accessToken(hash: "access-2") == nil)

            try await store.oauth.recordConsent(Self.code("late"))
            let late = try await Self.redeem(store, "late", familyId: "f3", tokens: "3", after: 601)
            guard case .refused = late else { Issue.record("a code expires after 10 minutes"); return }
        }
    }

    @Test("Without offline_access no refresh token is kept", arguments: StoreKind.available)
    func noRefreshWithoutOfflineAccess(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.oauth.recordConsent(Self.code("c1", scopes: ["read:jira-user"]))
            _ = try await Self.redeem(store, "c1", familyId: "f1", tokens: "1")
            let refreshed = try await store.oauth.refresh(
                refreshTokenHash: "refresh-1", clientId: "client-1", now: Self.start, tokens: Self.tokens("2"))
            #expect(refreshed == .refused(OAuthTokenRules.unknownRefreshToken))
        }
    }

    @Test(
        "Rotation with the leeway, then family revocation; revoking the consent removes every token",
        arguments: StoreKind.available)
    func rotationAndRevocation(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.oauth.recordConsent(Self.code("c1"))
            _ = try await Self.redeem(store, "c1", familyId: "f1", tokens: "1")
            let first = try await store.oauth.refresh(
                refreshTokenHash: "refresh-1", clientId: "client-1", now: Self.start.addingTimeInterval(60),
                tokens: Self.tokens("2"))
            guard case .rotated(let family) = first else { Issue.record("\(first)"); return }
            #expect(family.lastRefreshedAt == Self.start.addingTimeInterval(60))
            let otherClient = try await store.oauth.refresh(
                refreshTokenHash: "refresh-2", clientId: "client-2", now: Self.start.addingTimeInterval(61),
                tokens: Self.tokens("x"))
            guard case .refused = otherClient else { Issue.record("another client's refresh"); return }
            let reuse = try await store.oauth.refresh(
                refreshTokenHash: "refresh-1", clientId: "client-1", now: Self.start.addingTimeInterval(400),
                tokens: Self.tokens("3"))
            guard case .rotated = reuse else { Issue.record("reuse within the leeway: \(reuse)"); return }
            let late = try await store.oauth.refresh(
                refreshTokenHash: "refresh-1", clientId: "client-1", now: Self.start.addingTimeInterval(700),
                tokens: Self.tokens("4"))
            guard case .refused(let reason) = late else { Issue.record("reuse after the leeway"); return }
            #expect(reason.contains("revoked"))
            let newest = try await store.oauth.refresh(
                refreshTokenHash: "refresh-3", clientId: "client-1", now: Self.start.addingTimeInterval(701),
                tokens: Self.tokens("5"))
            guard case .refused = newest else { Issue.record("the whole family is revoked"); return }
            #expect(try await store.oauth.accessToken(hash: "access-3") != nil, "issued access tokens stay")

            #expect(try await store.oauth.revokeConsent(clientId: "client-1", accountId: Fixture.bob.accountId))
            #expect(try await store.oauth.accessToken(hash: "access-3") == nil)
            #expect(try await store.oauth.oauthConsents().isEmpty)
            #expect(try await !store.oauth.revokeConsent(clientId: "client-1", accountId: Fixture.bob.accountId))
        }
    }

    @Test("Purging removes only what stopped working a day ago or more", arguments: StoreKind.available)
    func purge(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Family f1: refreshed at day 50 (alive until day 140); f2: revoked at once; a spare code.
            try await store.oauth.recordConsent(Self.code("c1"))
            try await store.oauth.recordConsent(Self.code("c2"))
            try await store.oauth.recordConsent(Self.code("spare"))
            _ = try await Self.redeem(store, "c1", familyId: "f1", tokens: "1")
            _ = try await Self.redeem(store, "c2", familyId: "f2", tokens: "2")
            _ = try await store.oauth.refresh(
                refreshTokenHash: "refresh-1", clientId: "client-1", now: Self.start.addingTimeInterval(50 * 86_400),
                tokens: Self.tokens("3", issuedAfter: 50 * 86_400))
            _ = try await store.oauth.refresh(
                refreshTokenHash: "refresh-2", clientId: "client-1", now: Self.start.addingTimeInterval(60),
                tokens: Self.tokens("4"))
            _ = try await store.oauth.refresh(
                refreshTokenHash: "refresh-2", clientId: "client-1", now: Self.start.addingTimeInterval(2000),
                tokens: Self.tokens("5"))  // reused after the leeway: f2 revoked

            #expect(
                try await store.oauth.purgeExpired(now: Self.start.addingTimeInterval(3600)) == 0, "nothing a day dead")
            let removed = try await store.oauth.purgeExpired(now: Self.start.addingTimeInterval(50 * 86_400 + 7200))
            // The codes (3), f2 with its tokens (one family), and f1's first access token; f1's latest
            // access token (issued on day 50, expired an hour later) is within its day of grace.
            #expect(removed == 5)
            #expect(try await store.oauth.accessToken(hash: "access-1") == nil)
            #expect(try await store.oauth.accessToken(hash: "access-3") != nil)
            #expect(try await store.oauth.accessToken(hash: "access-4") == nil, "f2 is gone")
            let alive = try await store.oauth.refresh(
                refreshTokenHash: "refresh-3", clientId: "client-1", now: Self.start.addingTimeInterval(52 * 86_400),
                tokens: Self.tokens("6"))
            guard case .rotated = alive else {
                Issue.record("a living family keeps working after a purge: \(alive)")
                return
            }
            #expect(try await store.oauth.oauthConsents().count == 1, "consents are not purged")
        }
    }

    @Test("Reset returns to the saved OAuth state; replacing the site drops its tokens", arguments: StoreKind.available)
    func resetAndReplace(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.saveState()
            try await store.oauth.recordConsent(Self.code("c1"))
            _ = try await Self.redeem(store, "c1", familyId: "f1", tokens: "1")
            #expect(try await store.oauth.accessToken(hash: "access-1") != nil)
            try await store.restoreSavedState()
            #expect(try await store.oauth.accessToken(hash: "access-1") == nil)
            #expect(try await store.oauth.oauthConsents().isEmpty)
            #expect(try await store.oauth.oauthApp(clientId: "client-1") == Self.app)
            #expect(try await store.siteIdentity() == Self.site.identity)
        }
    }

    @Test("Scoped API tokens are stored with their scopes and added to a user", arguments: StoreKind.available)
    func scopedTokens(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let updated = try await store.addAPITokenHash(
                "h-scoped", scopes: ["read:jira-user"], emailAddress: "bob@example.com")
            #expect(updated.scopedAPITokens == [ScopedAPIToken(hash: "h-scoped", scopes: ["read:jira-user"])])
            #expect(try await store.user(accountId: Fixture.bob.accountId)?.scopedAPITokens == updated.scopedAPITokens)
            #expect(
                try await store.snapshot().users.first { $0.accountId == Fixture.bob.accountId }?.scopedAPITokens
                    == updated.scopedAPITokens)
        }
    }
}
