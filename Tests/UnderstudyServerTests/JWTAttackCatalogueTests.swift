import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import UnderstudyAuth

/// Issue 5's catalogue of attacks on Connect JWT authentication, each sent over HTTP to a resource
/// that needs a caller: every one is refused with Jira's 401, and the explanation names the step
/// that refused it (so the refusal is the token's, not merely the lack of credentials).
@Suite("JWT attack catalogue")
struct JWTAttackCatalogueTests {
    static let target = "/rest/api/3/user/properties?accountId=557058:bob"
    static let secret = TestSite.secrets["com.example.tour"]!

    /// A token assembled from raw JSON texts, so that headers and claims can be anything at all.
    static func token(header: String, claims: String, secret: String = secret) -> String {
        let signingInput = base64URL(Data(header.utf8)) + "." + base64URL(Data(claims.utf8))
        let signature = HMAC<SHA256>.authenticationCode(
            for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64URL(Data(signature))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func claims(
        issuer: String = "com.example.tour", issuedAt: Int? = nil, expiresAt: Int? = nil, target: String = target,
        method: String = "GET"
    ) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let qsh = CanonicalRequest(method: method, target: Substring(target)).queryStringHash
        return "{\"iss\":\"\(issuer)\",\"iat\":\(issuedAt ?? now),\"exp\":\(expiresAt ?? now + 180),\"qsh\":\"\(qsh)\"}"
    }

    static let hs256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

    /// One attack: a name, the request target, the Authorization header (if any), and a fragment
    /// the explanation must contain.
    struct Attack: Sendable, CustomTestStringConvertible {
        let name: String
        let target: String
        let authorization: String?
        let explanation: String
        var testDescription: String { name }

        init(_ name: String, target: String = JWTAttackCatalogueTests.target, jwt: String?, _ explanation: String) {
            self.name = name
            self.target = target
            self.authorization = jwt.map { "JWT " + $0 }
            self.explanation = explanation
        }
    }

    static let now = Int(Date().timeIntervalSince1970)
    static let valid = token(header: hs256, claims: claims())
    static let validParts = valid.split(separator: ".").map(String.init)

    static let attacks: [Attack] = [
        Attack(
            "alg none, no signature", jwt: base64URL(Data("{\"alg\":\"none\"}".utf8)) + "." + validParts[1] + ".",
            "alg is none"),
        Attack(
            "alg switched to HS512, signed with HS512",
            jwt: {
                let header = base64URL(Data("{\"alg\":\"HS512\",\"typ\":\"JWT\"}".utf8))
                let input = header + "." + validParts[1]
                let mac = HMAC<SHA512>.authenticationCode(
                    for: Data(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
                return input + "." + base64URL(Data(mac))
            }(), "alg is HS512"),
        Attack(
            "alg switched to RS256", jwt: token(header: "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims: claims()),
            "alg is RS256"),
        Attack("alg missing", jwt: token(header: "{\"typ\":\"JWT\"}", claims: claims()), "alg is missing"),
        Attack(
            "signed with another app's shared secret",
            jwt: token(header: hs256, claims: claims(), secret: TestSite.secrets["com.example.reader"]!),
            "verifying the signature"),
        Attack(
            "another app's key in iss, signed with its own secret (impersonation needs that app's secret)",
            jwt: token(header: hs256, claims: claims(issuer: "com.example.reader")), "verifying the signature"),
        Attack(
            "claims changed after signing",
            jwt: validParts[0] + "." + base64URL(Data(claims(issuer: "com.example.tour", expiresAt: now + 99_999).utf8))
                + "." + validParts[2], "verifying the signature"),
        Attack(
            "signature truncated", jwt: validParts[0] + "." + validParts[1] + "." + validParts[2].dropLast(4),
            "verifying the signature"),
        Attack("empty signature", jwt: validParts[0] + "." + validParts[1] + ".", "verifying the signature"),
        Attack(
            "replayed on another path", target: "/rest/api/3/user/properties?accountId=557058:cara", jwt: valid,
            "Query string hash mismatch"),
        Attack(
            "replayed with an extra query parameter", target: target + "&expand=x", jwt: valid,
            "Query string hash mismatch"),
        Attack(
            "made for DELETE, sent with GET",
            jwt: token(header: hs256, claims: claims(method: "DELETE")), "Query string hash mismatch"),
        Attack(
            "expired beyond the 30 s leeway",
            jwt: token(header: hs256, claims: claims(issuedAt: now - 300, expiresAt: now - 31)), "checking iat and exp"),
        Attack(
            "issued far in the future",
            jwt: token(header: hs256, claims: claims(issuedAt: now + 3_600, expiresAt: now + 3_780)),
            "checking iat and exp"),
        Attack(
            "missing qsh",
            jwt: token(header: hs256, claims: "{\"iss\":\"com.example.tour\",\"iat\":\(now),\"exp\":\(now + 60)}"),
            "the required claim qsh is missing"),
        Attack(
            "missing exp",
            jwt: token(header: hs256, claims: "{\"iss\":\"com.example.tour\",\"iat\":\(now),\"qsh\":\"x\"}"),
            "the required claim exp is missing"),
        Attack(
            "exp as a string",
            jwt: token(
                header: hs256,
                claims: "{\"iss\":\"com.example.tour\",\"iat\":\(now),\"exp\":\"\(now + 60)\",\"qsh\":\"x\"}"),
            "the claim exp"),
        Attack(
            "duplicate alg in the header",
            jwt: token(header: "{\"alg\":\"none\",\"alg\":\"HS256\"}", claims: claims()), "parsing the token"),
        Attack(
            "duplicate iss in the claims",
            jwt: token(header: hs256, claims: "{\"iss\":\"com.example.reader\"," + claims().dropFirst()),
            "parsing the token"),
        Attack(
            "oversized token (9 KiB)",
            jwt: token(
                header: hs256, claims: "{\"pad\":\"\(String(repeating: "x", count: 9_000))\"," + claims().dropFirst()),
            "more than the 8192 accepted"),
        Attack("non-base64url characters", jwt: validParts[0] + ".e30+/." + validParts[2], "parsing the token"),
        Attack("base64 padding", jwt: validParts[0] + "=." + validParts[1] + "." + validParts[2], "parsing the token"),
        Attack("two segments", jwt: validParts[0] + "." + validParts[1], "parsing the token"),
        Attack(
            "claims that are not JSON", jwt: token(header: hs256, claims: "iss=com.example.tour"), "parsing the token"),
        Attack("claims that are a JSON array", jwt: token(header: hs256, claims: "[1,2]"), "parsing the token"),
        Attack(
            "token in both the header and the query", target: target + "&jwt=" + valid, jwt: valid,
            "send the credentials one way only"),
    ]

    @Test("Each attack is refused with 401 and the step that refused it", arguments: attacks)
    func refused(attack: Attack) async throws {
        try await TestSite.test { client in
            var headers = HTTPFields()
            if let authorization = attack.authorization { headers[.authorization] = authorization }
            try await client.execute(uri: attack.target, method: .get, headers: headers) { response in
                #expect(response.status == .unauthorized)
                #expect(
                    response.errorMessage
                        == "You are not authenticated. Authentication required to perform this operation.")
                #expect(
                    response.explanation?.contains(attack.explanation) == true,
                    "explanation: \(response.explanation ?? "none")")
            }
        }
    }

    @Test("The untampered token of the catalogue is accepted, so each refusal above is the attack's doing")
    func controlTokenIsAccepted() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: Self.target, method: .get, headers: [.authorization: "JWT " + Self.valid]
            ) { #expect($0.status == .ok) }
        }
    }
}
