import Crypto
import Foundation
import UnderstudyCore

/// API tokens: how they are made and how they are kept. Tokens are 192-bit random strings, so a
/// fast keyed hash (HMAC-SHA256) is as safe at rest as a slow password hash and keeps Basic
/// authentication off the slow path. The key is fixed so that a snapshot's hashes load anywhere.
public enum APITokens {
    private static let hashKeyBytes = Array("understudy api-token v1".utf8)
    /// Every stored hash starts with this, so that a site file's hash is recognisable as one.
    public static let hashPrefix = "hmac-sha256:"

    /// The stored form of a token.
    public static func hash(_ token: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(token.utf8), using: SymmetricKey(data: hashKeyBytes))
        return hashPrefix + Hex.lowercase(code)
    }

    /// Whether `tokenHash` (from `hash(_:)`) is one of `hashes`, compared in constant time.
    public static func matches(tokenHash: String, hashes: [String]) -> Bool {
        var found = false
        for stored in hashes where constantTimeEqual(stored, tokenHash) { found = true }
        return found
    }

    /// Equality of two strings in time that depends only on their lengths, for secrets and hashes.
    public static func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// A new random API token, in the style of Atlassian's (`ATATT3x…`).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        let body = (0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] }
        return "ATATT3x" + String(body)
    }

    /// A new random shared secret for a Connect app: 256 bits as hex.
    public static func generateSharedSecret() -> String { randomHex(byteCount: 32) }

    /// `byteCount` random bytes from the system's secure generator, as unpadded base64url.
    public static func randomBase64URL(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return ConnectJWT.base64URLEncode((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// `byteCount` random bytes from the system's secure generator, as lowercase hex.
    public static func randomHex(byteCount: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.lowercase((0..<byteCount).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
