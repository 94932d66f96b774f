import Foundation
import Testing
import UnderstudyCore

/// Spec 8.2 as a table: which scopes pass which operation, and what a mismatch says.
@Suite("Gateway scopes")
struct GatewayScopeTests {
    static let cases: [(JiraOperation, [String], Bool)] = [
        (.getUserProperty, ["read:jira-user"], true),
        (.getUserProperty, ["read:user.property:jira"], true),
        (.getUserProperty, ["write:jira-work"], false),
        (.getUserPropertyKeys, ["read:user.property:jira"], true),
        (.setUserProperty, ["write:jira-work"], true),
        (.setUserProperty, ["write:user.property:jira"], true),
        (.setUserProperty, ["read:jira-user", "delete:user.property:jira"], false),
        (.deleteUserProperty, ["write:jira-work"], true),
        (.deleteUserProperty, ["delete:user.property:jira"], true),
        (.deleteUserProperty, ["write:user.property:jira"], false),
        (.getCurrentUser, ["read:jira-user"], true),
        (
            .getCurrentUser, ["read:application-role:jira", "read:group:jira", "read:user:jira", "read:avatar:jira"],
            true
        ),
        (.getCurrentUser, ["read:group:jira", "read:user:jira", "read:avatar:jira"], false),
        (.getUser, ["read:me", "offline_access"], false),
        (.getServerInfo, [], true),
        (.appProperties, [], true),
    ]

    @Test("A token passes when it holds every scope of one set", arguments: cases)
    func table(operation: JiraOperation, held: [String], passes: Bool) {
        #expect(GatewayScopes.satisfies(operation, held: held) == passes)
    }

    @Test("offline_access and read:me never satisfy an operation")
    func identityScopes() {
        for operation in JiraOperation.allCases where !(GatewayScopes.table[operation] ?? []).isEmpty {
            #expect(!GatewayScopes.satisfies(operation, held: GatewayScopes.identityScopes))
        }
    }

    @Test("Every operation has a row, and every scope of the table has plain words for the consent page")
    func completeness() {
        for operation in JiraOperation.allCases {
            #expect(GatewayScopes.table[operation] != nil, "\(operation)")
            for set in GatewayScopes.table[operation] ?? [] {
                for scope in set.scopes { #expect(GatewayScopes.meaning(of: scope) != nil, "\(scope)") }
            }
        }
    }
}

/// The token endpoint's body (spec 9.3): JSON or a form, only its own parameters, and a reason for
/// every refusal.
@Suite("Token request bodies")
struct OAuthTokenRequestTests {
    @Test("JSON and form bodies give the same parameters; other names are ignored")
    func bothShapes() throws {
        let json = try OAuthTokenRequest.parameters(
            contentType: "application/json; charset=utf-8",
            body: Array(#"{"grant_type":"refresh_token","refresh_token":"r 1","extra":[1]}"#.utf8))
        let form = try OAuthTokenRequest.parameters(
            contentType: "application/x-www-form-urlencoded",
            body: Array("grant_type=refresh_token&refresh_token=r+1&extra=1&extra=2".utf8))
        #expect(json == ["grant_type": "refresh_token", "refresh_token": "r 1"])
        #expect(form == json)
        let sniffed = try OAuthTokenRequest.parameters(contentType: nil, body: Array(#" {"code":"c"}"#.utf8))
        #expect(sniffed == ["code": "c"])
    }

    @Test(
        "Refusals name the problem",
        arguments: [
            ("application/json", "[1]", "The request body is not a JSON object"),
            ("application/json", #"{"code": 5}"#, "The parameter code must be a string"),
            ("application/x-www-form-urlencoded", "code=a&code=b", "The parameter code is repeated"),
            ("application/x-www-form-urlencoded", "code=%zz", "The request body is not a valid form"),
        ])
    func refusals(contentType: String, body: String, description: String) {
        #expect(throws: OAuthTokenRequest.Refusal.self) {
            try OAuthTokenRequest.parameters(contentType: contentType, body: Array(body.utf8))
        }
        do {
            _ = try OAuthTokenRequest.parameters(contentType: contentType, body: Array(body.utf8))
        } catch {
            #expect(error.description == description)
            #expect(!error.explanation.isEmpty)
        }
    }

    @Test("A body that is not UTF-8 is refused as a form")
    func notUTF8() {
        #expect(throws: OAuthTokenRequest.Refusal.self) {
            try OAuthTokenRequest.parameters(
                contentType: "application/x-www-form-urlencoded", body: [0x63, 0xFF, 0x3D])
        }
    }
}

/// The rotation rule of spec 9.3 as a pure function of the stored state and the clock.
@Suite("Refresh-token rules")
struct OAuthTokenRuleTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let family = TokenFamily(
        familyId: "f", clientId: "c", accountId: "a", scopes: ["offline_access"], startedAt: start,
        lastRefreshedAt: start)

    static func decide(firstUsedAfter: TimeInterval?, at seconds: TimeInterval, family: TokenFamily = family)
        -> OAuthTokenRules.RefreshDecision
    {
        OAuthTokenRules.refresh(
            RefreshTokenState(familyId: "f", firstUsedAt: firstUsedAfter.map { start.addingTimeInterval($0) }),
            of: family, clientId: "c", now: start.addingTimeInterval(seconds))
    }

    @Test("Unused: rotates; reused within 600 s: rotates; later: revokes the family")
    func leeway() {
        #expect(Self.decide(firstUsedAfter: nil, at: 10) == .rotate)
        #expect(Self.decide(firstUsedAfter: 10, at: 610) == .rotate)
        guard case .revokeFamily = Self.decide(firstUsedAfter: 10, at: 611) else {
            Issue.record("reuse after the leeway revokes the family")
            return
        }
    }

    @Test("90 idle days and 365 days in all end a family; a revoked family and another client are refused")
    func endings() {
        var refreshed = Self.family
        refreshed.lastRefreshedAt = Self.start.addingTimeInterval(300 * 86_400)
        #expect(Self.decide(firstUsedAfter: nil, at: 90 * 86_400, family: Self.family) == .rotate)
        guard case .refuse = Self.decide(firstUsedAfter: nil, at: 90 * 86_400 + 1) else {
            Issue.record("idle for more than 90 days")
            return
        }
        #expect(Self.decide(firstUsedAfter: nil, at: 365 * 86_400, family: refreshed) == .rotate)
        guard case .refuse = Self.decide(firstUsedAfter: nil, at: 365 * 86_400 + 1, family: refreshed) else {
            Issue.record("older than 365 days")
            return
        }
        var revoked = Self.family
        revoked.revokedAt = Self.start
        guard case .refuse = Self.decide(firstUsedAfter: nil, at: 1, family: revoked) else {
            Issue.record("revoked")
            return
        }
        guard
            case .refuse = OAuthTokenRules.refresh(
                RefreshTokenState(familyId: "f", firstUsedAt: nil), of: Self.family, clientId: "other",
                now: Self.start)
        else {
            Issue.record("another client")
            return
        }
    }
}
