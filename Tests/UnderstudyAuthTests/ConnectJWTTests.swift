import Crypto
import Foundation
import Testing
import UnderstudyAuth

/// Spec 5.2: each verification step and how it fails.
@Suite("Connect JWT verification")
struct ConnectJWTTests {
    static let secret = "tour-shared-secret"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Builds a token from raw header and claims JSON, signed with `secret` under HS256.
    static func token(header: String = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims: String, secret: String = secret)
        -> String
    {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(claims.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return input + "." + base64URL(Array(mac))
    }

    static func claims(iat: Int = 1_800_000_000, exp: Int = 1_800_000_180, qsh: String = "abc") -> String {
        "{\"iss\":\"com.example.tour\",\"iat\":\(iat),\"exp\":\(exp),\"qsh\":\"\(qsh)\"}"
    }

    @Test("A token signed by the helper parses and verifies against its own request")
    func roundTrip() throws {
        let token = ConnectJWT.sign(
            appKey: "com.example.tour", sharedSecret: Self.secret, method: "GET",
            target: "/rest/api/3/user/properties?accountId=557058%3Abob", issuedAt: Self.now)
        let parsed = try ConnectJWT.parse(token)
        #expect(parsed.issuer == "com.example.tour")
        try ConnectJWT.verifySignature(parsed, sharedSecret: Self.secret, appKey: "com.example.tour")
        try ConnectJWT.verifyTimes(parsed, now: Self.now)
        try ConnectJWT.verifyQueryStringHash(
            parsed, method: "GET", target: "/rest/api/3/user/properties?accountId=557058:bob&jwt=x", basePath: "")
    }

    @Test(
        "Malformed tokens are refused while parsing",
        arguments: [
            "", "a.b", "a.b.c.d", "not a token", "eyJhbGciOiJIUzI1NiJ9.e30", "@@@.e30.sig",
            "eyJhbGciOiJIUzI1NiJ9=.e30.c2ln", "eyJhbGciOiJIUzI1NiJ9.e30.c2l n",
        ])
    func malformed(token: String) {
        #expect(throws: ConnectJWTFailure.self) { try ConnectJWT.parse(token) }
    }

    @Test(
        "Only HS256: none, HS512, RS256 and a missing alg are refused", arguments: ["none", "HS512", "RS256", "hs256"])
    func algorithms(alg: String) {
        let token = Self.token(header: "{\"alg\":\"\(alg)\"}", claims: Self.claims())
        #expect(throws: ConnectJWTFailure.unsupportedAlgorithm(alg)) { try ConnectJWT.parse(token) }
        #expect(throws: ConnectJWTFailure.unsupportedAlgorithm("missing")) {
            try ConnectJWT.parse(Self.token(header: "{\"typ\":\"JWT\"}", claims: Self.claims()))
        }
    }

    @Test("Each required claim is required", arguments: ["iss", "iat", "exp", "qsh"])
    func missingClaims(claim: String) {
        var members = ["\"iss\":\"com.example.tour\"", "\"iat\":1", "\"exp\":2", "\"qsh\":\"abc\""]
        members.removeAll { $0.hasPrefix("\"\(claim)\"") }
        let token = Self.token(claims: "{" + members.joined(separator: ",") + "}")
        #expect(throws: ConnectJWTFailure.missingClaim(claim)) { try ConnectJWT.parse(token) }
    }

    @Test("Claims of the wrong type are refused")
    func wrongTypes() {
        let token = Self.token(claims: "{\"iss\":\"k\",\"iat\":\"yesterday\",\"exp\":2,\"qsh\":\"abc\"}")
        #expect(throws: ConnectJWTFailure.self) { try ConnectJWT.parse(token) }
        let numericIssuer = Self.token(claims: "{\"iss\":7,\"iat\":1,\"exp\":2,\"qsh\":\"abc\"}")
        #expect(throws: ConnectJWTFailure.self) { try ConnectJWT.parse(numericIssuer) }
    }

    @Test("Duplicate members in header or claims are refused")
    func duplicates() {
        let header = Self.token(header: "{\"alg\":\"none\",\"alg\":\"HS256\"}", claims: Self.claims())
        #expect(throws: ConnectJWTFailure.self) { try ConnectJWT.parse(header) }
        let claims = Self.token(claims: "{\"iss\":\"a\",\"iss\":\"b\",\"iat\":1,\"exp\":2,\"qsh\":\"x\"}")
        #expect(throws: ConnectJWTFailure.self) { try ConnectJWT.parse(claims) }
    }

    @Test("Oversized tokens are refused before decoding")
    func oversized() {
        let huge = Self.token(
            claims: "{\"iss\":\"" + String(repeating: "k", count: 9000) + "\",\"iat\":1,\"exp\":2,\"qsh\":\"x\"}")
        #expect(throws: ConnectJWTFailure.tooLong(huge.utf8.count)) { try ConnectJWT.parse(huge) }
    }

    @Test("A signature made with another secret, or tampered claims, fail the signature step")
    func signatures() throws {
        let other = try ConnectJWT.parse(Self.token(claims: Self.claims(), secret: "another-apps-secret"))
        #expect(throws: ConnectJWTFailure.badSignature(appKey: "com.example.tour")) {
            try ConnectJWT.verifySignature(other, sharedSecret: Self.secret, appKey: "com.example.tour")
        }
        let genuine = Self.token(claims: Self.claims())
        let parts = genuine.split(separator: ".")
        let tampered = parts[0] + "." + Self.base64URL(Array(Self.claims(exp: 1_900_000_000).utf8)) + "." + parts[2]
        #expect(throws: ConnectJWTFailure.self) {
            try ConnectJWT.verifySignature(
                try ConnectJWT.parse(String(tampered)), sharedSecret: Self.secret, appKey: "com.example.tour")
        }
    }

    @Test("Leeway: expired 29 s ago is accepted, 31 s ago refused; iat up to 30 s ahead is accepted")
    func leeway() throws {
        let now = Int(Self.now.timeIntervalSince1970)
        let recent = try ConnectJWT.parse(Self.token(claims: Self.claims(iat: now - 200, exp: now - 29)))
        try ConnectJWT.verifyTimes(recent, now: Self.now)
        let stale = try ConnectJWT.parse(Self.token(claims: Self.claims(iat: now - 200, exp: now - 31)))
        #expect(throws: ConnectJWTFailure.expired(expiresAt: Double(now - 31), now: Double(now))) {
            try ConnectJWT.verifyTimes(stale, now: Self.now)
        }
        let soon = try ConnectJWT.parse(Self.token(claims: Self.claims(iat: now + 30, exp: now + 200)))
        try ConnectJWT.verifyTimes(soon, now: Self.now)
        let future = try ConnectJWT.parse(Self.token(claims: Self.claims(iat: now + 31, exp: now + 200)))
        #expect(throws: ConnectJWTFailure.issuedInFuture(issuedAt: Double(now + 31), now: Double(now))) {
            try ConnectJWT.verifyTimes(future, now: Self.now)
        }
    }

    @Test("A token replayed on another path or query fails qsh, and the explanation quotes both hashes")
    func replay() throws {
        let token = ConnectJWT.sign(
            appKey: "com.example.tour", sharedSecret: Self.secret, method: "PUT",
            target: "/rest/api/3/user/properties/tour?accountId=557058:bob", issuedAt: Self.now)
        let parsed = try ConnectJWT.parse(token)
        let failure = #expect(throws: ConnectJWTFailure.self) {
            try ConnectJWT.verifyQueryStringHash(
                parsed, method: "PUT", target: "/rest/api/3/user/properties/tour?accountId=557058:ada", basePath: "")
        }
        let canonical = "PUT&/rest/api/3/user/properties/tour&accountId=557058%3Aada"
        let computed = CanonicalRequest(method: "PUT", target: "/rest/api/3/user/properties/tour?accountId=557058:ada")
            .queryStringHash
        #expect(
            failure?.explanation
                == "Query string hash mismatch: the server computed the canonical request \"\(canonical)\" (qsh \(computed)), the token carries \(parsed.queryStringHash)."
        )
        #expect(throws: ConnectJWTFailure.self) {
            try ConnectJWT.verifyQueryStringHash(
                parsed, method: "DELETE", target: "/rest/api/3/user/properties/tour?accountId=557058:bob", basePath: "")
        }
    }

    @Test("A qsh computed with values sorted by their decoded form is accepted")
    func decodedOrderAccepted() throws {
        let target: Substring = "/rest/api/3/myself?v=~&v=%C3%A9"
        let decodedHash = CanonicalRequest(method: "GET", target: target, valueOrder: .decoded).queryStringHash
        let parsed = try ConnectJWT.parse(Self.token(claims: Self.claims(qsh: decodedHash)))
        try ConnectJWT.verifyQueryStringHash(parsed, method: "GET", target: target, basePath: "")
    }
}
