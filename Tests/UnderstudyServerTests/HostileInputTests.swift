import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Random and malformed requests never crash the server or make it answer 5xx: every one gets a
/// Jira answer, and stored data is untouched by the refused writes.
@Suite("Hostile input")
struct HostileInputTests {
    /// A small deterministic generator, so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let fragments = [
        "/rest/api/3/user/properties/", "/rest/api/2/myself", "/rest/atlassian-connect/1/addons/", "?accountId=",
        "557058:bob", "&", "=", "%", "%zz", "%C3", "%00", "%2F", "/", "..", "+", "jwt=", "username=", "userKey=",
        "é", "😀", "\u{0301}", " ", "properties", "tour.progress", "?", "#", "\\", "'", "\"",
    ]

    static func randomTarget(_ generator: inout SplitMix) -> String {
        var target = ""
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            target += fragments.randomElement(using: &generator)!
        }
        // The request line must stay one line of URL characters; escape the rest as a client would.
        let allowed = CharacterSet.urlQueryAllowed.union(CharacterSet(charactersIn: "%#/?&="))
        let encoded = target.addingPercentEncoding(withAllowedCharacters: allowed) ?? target
        return encoded.hasPrefix("/") ? encoded : "/" + encoded
    }

    @Test("2,000 random requests: no 5xx, no crash, the seeded property unchanged")
    func randomRequests() async throws {
        try await TestSite.test { client in
            var generator = SplitMix(state: 20_261_129)
            let methods: [HTTPRequest.Method] = [.get, .put, .post, .delete, .patch, .options, .head]
            let bodies = [
                "", "{", "{}", "null", "\"x\"", String(repeating: "[", count: 600), "\u{FEFF}{}", "{\"a\":1}",
            ]
            let headerChoices: [HTTPFields] = [
                [:], .bob, .ada, [.authorization: "Basic"], [.authorization: "JWT a.b.c"],
                [.authorization: "Basic " + String(repeating: "=", count: 40)], [.authorization: "Bearer x"],
            ]
            var seededPropertyWritten = false
            for _ in 0..<2000 {
                let target = Self.randomTarget(&generator)
                let method = methods.randomElement(using: &generator)!
                let body = bodies.randomElement(using: &generator)!
                let headers = headerChoices.randomElement(using: &generator)!
                try await client.execute(uri: target, method: method, headers: headers, body: ByteBuffer(text: body)) {
                    response in
                    #expect(response.status.code < 500, "\(method) \(target) -> \(response.status)")
                    #expect(response.headers[HTTPField.Name("X-AREQUESTID")!] != nil)
                    if (method == .put || method == .delete), response.status.code < 300,
                        target.contains("tour.progress")
                    {
                        seededPropertyWritten = true
                    }
                }
            }
            guard !seededPropertyWritten else { return }
            try await client.execute(
                uri: "/rest/api/3/user/properties/tour.progress?accountId=557058:bob", method: .get, headers: .bob
            ) { response in
                #expect(response.text == "{\"key\":\"tour.progress\",\"value\":{\"step\":2,\"done\":false}}")
            }
        }
    }
}
