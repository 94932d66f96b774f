import Crypto
import Foundation
import UnderstudyCore

/// A Connect JWT taken apart but not yet trusted: what the verifier needs for each later step.
public struct ConnectToken: Sendable, Equatable {
    public let algorithm: String
    /// The app key the token claims to come from.
    public let issuer: String
    public let issuedAt: Double
    public let expiresAt: Double
    public let queryStringHash: String
    let signingInput: [UInt8]
    let signature: [UInt8]
}

/// Why a Connect JWT was refused, one case per verification step (spec 5.2). Each becomes a
/// `401` whose explanation names the step.
public enum ConnectJWTFailure: Error, Sendable, Equatable {
    case tooLong(Int)
    case malformed(String)
    case unsupportedAlgorithm(String)
    case missingClaim(String)
    case invalidClaim(String, String)
    case unknownIssuer(String)
    /// `iss` is the clientKey of an installed app instead of its key.
    case issuerIsClientKey(clientKey: String, appKey: String)
    case badSignature(appKey: String)
    case expired(expiresAt: Double, now: Double)
    case issuedInFuture(issuedAt: Double, now: Double)
    case queryStringHashMismatch(canonicalRequest: String, computed: String, received: String)

    /// The step that failed, as the explanation names it.
    public var step: String {
        switch self {
        case .tooLong, .malformed: "parsing the token"
        case .unsupportedAlgorithm: "checking the header's alg"
        case .missingClaim, .invalidClaim: "reading the claims"
        case .unknownIssuer, .issuerIsClientKey: "finding the app by iss"
        case .badSignature: "verifying the signature"
        case .expired, .issuedInFuture: "checking iat and exp"
        case .queryStringHashMismatch: "checking qsh"
        }
    }

    /// One sentence naming the cause and the fix.
    public var explanation: String {
        switch self {
        case .tooLong(let length):
            "JWT rejected while \(step): the token is \(length) characters, more than the \(ConnectJWT.maximumTokenLength) accepted."
        case .malformed(let problem):
            "JWT rejected while \(step): \(problem)."
        case .unsupportedAlgorithm(let algorithm):
            "JWT rejected while \(step): alg is \(algorithm); Jira accepts only HS256 signed with the app's shared secret."
        case .missingClaim(let claim):
            "JWT rejected while \(step): the required claim \(claim) is missing (iss, iat, exp and qsh are required)."
        case .invalidClaim(let claim, let problem):
            "JWT rejected while \(step): the claim \(claim) \(problem)."
        case .unknownIssuer(let issuer):
            "JWT rejected while \(step): no app installed on this site has the key '\(issuer)'; iss must be your app's descriptor key."
        case .issuerIsClientKey(let clientKey, let appKey):
            "Signed with iss=\(clientKey) which is this site's clientKey for app \(appKey); an app signs requests to Jira with its app key (iss=\(appKey))."
        case .badSignature(let appKey):
            "JWT rejected while \(step): the HS256 signature does not match the shared secret of app \(appKey); sign with the sharedSecret from the installed lifecycle event."
        case .expired(let expiresAt, let now):
            "JWT rejected while \(step): the token expired at \(Int64(expiresAt)) and the server time is \(Int64(now)) (30 s leeway); mint a fresh token per request."
        case .issuedInFuture(let issuedAt, let now):
            "JWT rejected while \(step): iat \(Int64(issuedAt)) is more than 30 s after the server time \(Int64(now)); check your clock."
        case .queryStringHashMismatch(let canonical, let computed, let received):
            "Query string hash mismatch: the server computed the canonical request \"\(canonical)\" (qsh \(computed)), the token carries \(received)."
        }
    }
}

/// Verifies Atlassian Connect JWTs: HS256 only, strict parsing, constant-time signature check,
/// the time claims with Jira's 30-second leeway, and the query string hash.
public enum ConnectJWT {
    /// Tokens longer than this are refused before any decoding.
    public static let maximumTokenLength = 8192
    /// Clock skew tolerated on `iat` and `exp`, in seconds.
    public static let leeway: Double = 30

    /// Steps "parse header" and "parse claims": splits, decodes and reads the token strictly.
    public static func parse(_ token: String) throws(ConnectJWTFailure) -> ConnectToken {
        guard token.utf8.count <= maximumTokenLength else { throw .tooLong(token.utf8.count) }
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3 else {
            throw .malformed("a JWT has three base64url segments separated by dots, this one has \(segments.count)")
        }
        guard let headerBytes = base64URLDecode(segments[0]) else {
            throw .malformed("the header is not base64url (A-Z a-z 0-9 - _, no padding)")
        }
        let header = try object(headerBytes, part: "header")
        guard case .string(let algorithm)? = header["alg"] else {
            throw .unsupportedAlgorithm("missing")
        }
        guard algorithm == "HS256" else { throw .unsupportedAlgorithm(algorithm) }

        guard let claimsBytes = base64URLDecode(segments[1]) else {
            throw .malformed("the claims are not base64url (A-Z a-z 0-9 - _, no padding)")
        }
        let claims = try object(claimsBytes, part: "claims")
        guard let signature = base64URLDecode(segments[2]) else {
            throw .malformed("the signature is not base64url (A-Z a-z 0-9 - _, no padding)")
        }
        let issuer = try stringClaim(claims, "iss")
        let issuedAt = try numberClaim(claims, "iat")
        let expiresAt = try numberClaim(claims, "exp")
        let queryStringHash = try stringClaim(claims, "qsh")
        return ConnectToken(
            algorithm: algorithm, issuer: issuer, issuedAt: issuedAt, expiresAt: expiresAt,
            queryStringHash: queryStringHash,
            signingInput: Array(segments[0].utf8) + [UInt8(ascii: ".")] + Array(segments[1].utf8),
            signature: signature)
    }

    /// Step "verify signature": HMAC-SHA256 with the app's shared secret, compared in constant time.
    public static func verifySignature(_ token: ConnectToken, sharedSecret: String, appKey: String)
        throws(ConnectJWTFailure)
    {
        let key = SymmetricKey(data: Array(sharedSecret.utf8))
        guard HMAC<SHA256>.isValidAuthenticationCode(token.signature, authenticating: token.signingInput, using: key)
        else { throw .badSignature(appKey: appKey) }
    }

    /// Step "time claims": not expired beyond the leeway, not issued too far in the future.
    public static func verifyTimes(_ token: ConnectToken, now: Date) throws(ConnectJWTFailure) {
        let seconds = now.timeIntervalSince1970
        if seconds > token.expiresAt + leeway { throw .expired(expiresAt: token.expiresAt, now: seconds) }
        if token.issuedAt > seconds + leeway { throw .issuedInFuture(issuedAt: token.issuedAt, now: seconds) }
    }

    /// Step "qsh": the token's hash must be that of this request. The hash computed with a repeated
    /// parameter's values sorted by their decoded form is accepted too (atlassian-jwt does that).
    public static func verifyQueryStringHash(
        _ token: ConnectToken, method: String, target: Substring, basePath: String
    ) throws(ConnectJWTFailure) {
        let canonical = CanonicalRequest(method: method, target: target, basePath: basePath)
        let computed = canonical.queryStringHash
        if APITokens.constantTimeEqual(computed, token.queryStringHash) { return }
        let alternative = CanonicalRequest(method: method, target: target, basePath: basePath, valueOrder: .decoded)
        if alternative != canonical, APITokens.constantTimeEqual(alternative.queryStringHash, token.queryStringHash) {
            return
        }
        throw .queryStringHashMismatch(
            canonicalRequest: canonical.description, computed: computed, received: token.queryStringHash)
    }

    // MARK: Parsing helpers

    private static func object(_ bytes: [UInt8], part: String) throws(ConnectJWTFailure) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .malformed("the \(part) is not JSON (\(error))")
        }
        guard case .object(let members) = value else { throw .malformed("the \(part) is not a JSON object") }
        var result: [String: JSONValue] = [:]
        for member in members {
            // Two values for one name are ambiguous: parsers disagree on which one wins.
            guard result.updateValue(member.value, forKey: member.name) == nil else {
                throw .malformed("the \(part) has the member \"\(member.name)\" twice")
            }
        }
        return result
    }

    private static func stringClaim(_ claims: [String: JSONValue], _ name: String) throws(ConnectJWTFailure) -> String {
        guard let value = claims[name] else { throw .missingClaim(name) }
        guard case .string(let text) = value, !text.isEmpty else {
            throw .invalidClaim(name, "must be a non-empty string, not \(value.kindName)")
        }
        return text
    }

    private static func numberClaim(_ claims: [String: JSONValue], _ name: String) throws(ConnectJWTFailure) -> Double {
        guard let value = claims[name] else { throw .missingClaim(name) }
        guard case .number(let text) = value, let number = Double(text), number.isFinite else {
            throw .invalidClaim(name, "must be a number of seconds since 1970, not \(value.kindName)")
        }
        return number
    }

    /// Strict base64url: only the URL-safe alphabet, no padding, no whitespace.
    static func base64URLDecode(_ segment: Substring) -> [UInt8]? {
        var text = ""
        text.reserveCapacity(segment.utf8.count + 3)
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                text.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "-"): text += "+"
            case UInt8(ascii: "_"): text += "/"
            default: return nil
            }
        }
        if text.utf8.count % 4 == 1 { return nil }
        text += String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        return Data(base64Encoded: text).map { Array($0) }
    }

    /// A compact HS256 JWT of the claims (a JSON object's text), signed with the shared secret.
    static func signHS256(claims: String, sharedSecret: String) -> String {
        let signingInput =
            base64URLEncode(Array("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".utf8)) + "."
            + base64URLEncode(Array(claims.utf8))
        let signature = HMAC<SHA256>.authenticationCode(
            for: Array(signingInput.utf8), using: SymmetricKey(data: Array(sharedSecret.utf8)))
        return signingInput + "." + base64URLEncode(signature)
    }

    static func base64URLEncode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Signs a token for a request, as an app would: for `understudy jwt` and for tests.
    public static func sign(
        appKey: String, sharedSecret: String, method: String, target: Substring, basePath: String = "",
        issuedAt: Date = Date(), lifetime: TimeInterval = 180
    ) -> String {
        let qsh = CanonicalRequest(method: method, target: target, basePath: basePath).queryStringHash
        let iat = Int64(issuedAt.timeIntervalSince1970)
        var claims = "{\"iss\":"
        JSONValue.writeString(appKey, to: &claims)
        claims += ",\"iat\":\(iat),\"exp\":\(iat + Int64(lifetime)),\"qsh\":\"\(qsh)\"}"
        let signingInput =
            base64URLEncode(Array("{\"typ\":\"JWT\",\"alg\":\"HS256\"}".utf8)) + "."
            + base64URLEncode(Array(claims.utf8))
        let signature = HMAC<SHA256>.authenticationCode(
            for: Array(signingInput.utf8), using: SymmetricKey(data: Array(sharedSecret.utf8)))
        return signingInput + "." + base64URLEncode(signature)
    }
}
