import Crypto
import Foundation
import UnderstudyCore

/// Answers PostgreSQL's password challenges: cleartext, MD5, and SCRAM-SHA-256 (RFC 5802 and
/// 7677, without channel binding, as libpq does over a connection without TLS).
struct PostgresAuthentication {
    let user: String
    let password: String?

    private var scram: SCRAMClient?

    init(user: String, password: String?) {
        self.user = user
        self.password = password
    }

    private func requiredPassword() throws(PostgresPipelineError) -> String {
        guard let password else {
            throw .cannotConnect("PostgreSQL asks for a password and the URL gives none")
        }
        return password
    }

    func cleartext() throws(PostgresPipelineError) -> String { try requiredPassword() }

    /// `md5` + md5(md5(password + user) + salt), in lowercase hex.
    func md5(salt: [UInt8]) throws(PostgresPipelineError) -> String {
        let inner = Hex.lowercase(Insecure.MD5.hash(data: Array((try requiredPassword() + user).utf8)))
        return "md5" + Hex.lowercase(Insecure.MD5.hash(data: Array(inner.utf8) + salt))
    }

    /// The client-first message, once the server offered SCRAM-SHA-256.
    mutating func scramFirst() throws(PostgresPipelineError) -> [UInt8] {
        let client = SCRAMClient(password: try requiredPassword())
        scram = client
        return Array(("n,," + client.firstBare).utf8)
    }

    /// The client-final message with the proof, from the server-first message.
    mutating func scramFinal(serverFirst: String) throws(PostgresPipelineError) -> [UInt8] {
        guard var client = scram else { throw .protocolViolation("SASLContinue before SASL") }
        let final = try client.final(serverFirst: serverFirst)
        scram = client
        return Array(final.utf8)
    }

    /// Checks the server's signature: the server knew the password too.
    func scramVerify(serverFinal: String) throws(PostgresPipelineError) {
        guard let client = scram else { throw .protocolViolation("SASLFinal before SASL") }
        try client.verify(serverFinal: serverFinal)
    }
}

/// One SCRAM-SHA-256 exchange. The password is used as given (no SASLprep), which is the same for
/// passwords in ASCII.
struct SCRAMClient {
    let password: String
    /// libpq leaves the user name empty: the server takes the start-up message's.
    let user: String
    let nonce: String
    private(set) var serverSignature: [UInt8] = []

    init(password: String, user: String = "", nonce: String? = nil) {
        self.password = password
        self.user = user
        var generator = SystemRandomNumberGenerator()
        self.nonce =
            nonce
            ?? Data((0..<18).map { _ in UInt8.random(in: .min ... .max, using: &generator) }).base64EncodedString()
    }

    var firstBare: String { "n=\(user),r=\(nonce)" }

    mutating func final(serverFirst: String) throws(PostgresPipelineError) -> String {
        var attributes: [Character: String] = [:]
        for part in serverFirst.split(separator: ",") where part.count >= 2 {
            attributes[part.first!] = String(part.dropFirst(2))
        }
        guard let serverNonce = attributes["r"], serverNonce.hasPrefix(nonce),
            let saltText = attributes["s"], let salt = Data(base64Encoded: saltText),
            let iterationsText = attributes["i"], let iterations = Int(iterationsText), iterations > 0
        else { throw .cannotConnect("PostgreSQL's SCRAM challenge is malformed: \(serverFirst)") }
        let withoutProof = "c=biws,r=\(serverNonce)"
        let salted = Self.saltedPassword(password, salt: Array(salt), iterations: iterations)
        let clientKey = Self.hmac(key: salted, Array("Client Key".utf8))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let authMessage = Array("\(firstBare),\(serverFirst),\(withoutProof)".utf8)
        let signature = Self.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, signature).map { $0 ^ $1 }
        serverSignature = Self.hmac(key: Self.hmac(key: salted, Array("Server Key".utf8)), authMessage)
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    func verify(serverFinal: String) throws(PostgresPipelineError) {
        guard serverFinal.hasPrefix("v="), let signature = Data(base64Encoded: String(serverFinal.dropFirst(2))),
            Array(signature) == serverSignature
        else {
            throw .cannotConnect("PostgreSQL's SCRAM signature does not match: the server does not know the password")
        }
    }

    private static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// PBKDF2 with HMAC-SHA-256, one block (Hi in RFC 5802).
    private static func saltedPassword(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: Array(password.utf8))
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in result.indices { result[index] ^= block[index] }
        }
        return result
    }
}
