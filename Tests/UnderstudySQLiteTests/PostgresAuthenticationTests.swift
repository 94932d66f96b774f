import Testing

@testable import UnderstudyPostgres

/// The answers to PostgreSQL's password challenges, checked against values worked out elsewhere;
/// SCRAM against a live server is in "PostgreSQL pipelined connections".
@Suite("PostgreSQL sign-in")
struct PostgresAuthenticationTests {
    @Test("MD5: md5 of (md5 of password and user, in hex) and the salt, as PostgreSQL computes it")
    func md5() throws {
        let authentication = PostgresAuthentication(user: "understudy", password: "secret")
        // Python: "md5" + md5(md5(b"secretunderstudy").hexdigest().encode() + bytes([1, 2, 3, 4])).hexdigest()
        #expect(try authentication.md5(salt: [1, 2, 3, 4]) == "md57d72a3bf607e7e0a764b35ae6336d674")
    }

    @Test("SCRAM-SHA-256: RFC 7677's example exchange, proof and server signature")
    func scramExample() throws {
        var client = SCRAMClient(password: "pencil", user: "user", nonce: "rOprNGfwEbeRWgbNEkqO")
        let final = try client.final(
            serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        #expect(
            final
                == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        )
        try client.verify(serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        #expect(throws: PostgresPipelineError.self) {
            try client.verify(serverFinal: "v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        }
    }

    @Test("A challenge that is not the server's answer to this nonce, or asks for a password the URL lacks, is refused")
    func refusals() throws {
        var client = SCRAMClient(password: "pencil", nonce: "abc")
        #expect(throws: PostgresPipelineError.self) { try client.final(serverFirst: "r=xyz,s=AAAA,i=4096") }
        #expect(throws: PostgresPipelineError.self) { try client.final(serverFirst: "r=abcdef,s=AAAA,i=0") }
        #expect(throws: PostgresPipelineError.self) { try client.final(serverFirst: "garbage") }
        let passwordless = PostgresAuthentication(user: "understudy", password: nil)
        let error = #expect(throws: PostgresPipelineError.self) { try passwordless.cleartext() }
        #expect(error?.description == "PostgreSQL asks for a password and the URL gives none")
    }
}
