import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import UnderstudyCore

/// Spec 4: the four user-property operations, row by row of 4.3 and 4.4.
@Suite("User properties")
struct UserPropertyContractTests {
    static let bobProperty = "/rest/api/3/user/properties/tour.progress?accountId=557058:bob"

    func expectError(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ message: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.errorMessage == message, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json;charset=UTF-8", sourceLocation: sourceLocation)
        #expect(
            response.headers[.cacheControl] == "no-cache, no-store, no-transform", "errors are never cached too",
            sourceLocation: sourceLocation)
        #expect(response.explanation?.isEmpty == false, sourceLocation: sourceLocation)
    }

    // MARK: Happy paths

    @Test("PUT creates (201, empty body), PUT again updates (200), GET returns the value verbatim")
    func putAndGet() async throws {
        try await TestSite.test { client in
            let uri = "/rest/api/3/user/properties/tour?accountId=557058:ada"
            try await client.execute(uri: uri, method: .put, headers: .ada, body: ByteBuffer(text: "{\"step\": 1}")) {
                response in
                #expect(response.status == .created)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.cacheControl] == "no-cache, no-store, no-transform")
                #expect(response.headers[HTTPField.Name("X-AAccountId")!] == "557058:ada")
                #expect(response.explanation == nil, "successes carry no explanation")
            }
            try await client.execute(uri: uri, method: .put, headers: .ada, body: ByteBuffer(text: "[\"é\", 2.50]")) {
                response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: uri, method: .get, headers: .ada) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"key\":\"tour\",\"value\":[\"é\", 2.50]}")
                #expect(response.headers[.cacheControl] == "no-cache, no-store, no-transform")
            }
        }
    }

    @Test("Any JSON text is a value: strings, numbers, booleans and null")
    func scalarValues() async throws {
        try await TestSite.test { client in
            for (index, value) in ["\"text\"", "42", "-0.5e3", "true", "null", "[]", "{}"].enumerated() {
                let uri = "/rest/api/2/user/properties/k\(index)?accountId=557058:bob"
                try await client.execute(uri: uri, method: .put, headers: .bob, body: ByteBuffer(text: value)) {
                    #expect($0.status == .created, "\(value)")
                }
                try await client.execute(uri: uri, method: .get, headers: .bob) { response in
                    #expect(response.text == "{\"key\":\"k\(index)\",\"value\":\(value)}")
                }
            }
        }
    }

    @Test("The key list is sorted, with self links for the version called, percent-encoded")
    func keyList() async throws {
        try await TestSite.test { client in
            for key in ["b", "a%20b", "%C3%A9t%C3%A9", "a"] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties/\(key)?accountId=557058:ada", method: .put, headers: .ada,
                    body: ByteBuffer(text: "1")
                ) { #expect($0.status == .created) }
            }
            for uri in [
                "/rest/api/2/user/properties?accountId=557058:ada", "/rest/api/2/user/properties/?accountId=557058:ada",
            ] {
                try await client.execute(uri: uri, method: .get, headers: .ada) { response in
                    #expect(response.status == .ok)
                    let base = "\(TestSite.baseURL)/rest/api/2/user/properties"
                    #expect(
                        response.text
                            == "{\"keys\":[{\"key\":\"a\",\"self\":\"\(base)/a?accountId=557058:ada\"},{\"key\":\"a b\",\"self\":\"\(base)/a%20b?accountId=557058:ada\"},{\"key\":\"b\",\"self\":\"\(base)/b?accountId=557058:ada\"},{\"key\":\"été\",\"self\":\"\(base)/%C3%A9t%C3%A9?accountId=557058:ada\"}]}"
                    )
                }
            }
        }
    }

    @Test("An empty key list is {\"keys\":[]}")
    func emptyKeyList() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties?accountId=557058:ada", method: .get, headers: .ada
            ) {
                response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"keys\":[]}")
                #expect(response.explanation == nil)
            }
        }
    }

    @Test("DELETE answers 204; the property is then gone")
    func delete() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.bobProperty, method: .delete, headers: .bob) { response in
                #expect(response.status == .noContent)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: Self.bobProperty, method: .get, headers: .bob) { response in
                expectError(response, .notFound, "The property with key 'tour.progress' does not exist.")
            }
        }
    }

    // MARK: Spec 4.3, step by step

    @Test("Step 1: no credentials is 401 on every operation")
    func step1() async throws {
        try await TestSite.test { client in
            for method in [HTTPRequest.Method.get, .put, .delete] {
                try await client.execute(uri: Self.bobProperty, method: method, body: ByteBuffer(text: "1")) {
                    response in
                    expectError(
                        response, .unauthorized,
                        "You are not authenticated. Authentication required to perform this operation.")
                }
            }
        }
    }

    @Test("Step 3: POST on a property is 405 with Allow: GET, PUT, DELETE and a hint to use PUT")
    func step3() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/2/user/properties/tour?accountId=557058:bob", method: .post, headers: .bob,
                body: ByteBuffer(text: "{}")
            ) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, PUT, DELETE")
                #expect(
                    response.explanation
                        == "POST is not an operation of this resource; to create or update a user property use PUT.")
            }
        }
    }

    @Test("Step 4: accountId missing is 400, before anything else")
    func step4Missing() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties/k", method: .put, headers: .cara, body: ByteBuffer(text: "not json")
            ) { response in
                expectError(response, .badRequest, "The accountId query parameter needs to be provided.")
            }
        }
    }

    @Test("Step 4: username or userKey instead of accountId names the parameter; the hint says where to find accountId")
    func step4RemovedParameters() async throws {
        try await TestSite.test { client in
            for name in ["username", "userKey"] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties?\(name)=bob", method: .get, headers: .bob
                ) { response in
                    expectError(
                        response, .badRequest, "The query parameter '\(name)' is not supported in GDPR strict mode.")
                    #expect(response.explanation?.contains("GET /rest/api/3/myself") == true)
                }
            }
            // With accountId present, the removed parameters are ignored.
            try await client.execute(
                uri: "/rest/api/3/user/properties?accountId=557058:bob&username=ada", method: .get, headers: .bob
            ) { #expect($0.status == .ok) }
        }
    }

    @Test("The query is read as a servlet reads it: escapes, +, empty parts, a name alone, the first of two values")
    func queryForms() async throws {
        try await TestSite.test { client in
            let path = "/rest/api/3/user/properties/tour.progress?"
            let expected = try await client.execute(uri: path + "accountId=557058:bob", method: .get, headers: .bob)
            #expect(expected.status == .ok)
            for query in [
                "accountId=557058%3Abob", "accountId=557058%3abob", "&&accountId=557058:bob&", "account%49d=557058:bob",
                "expand&accountId=557058:bob", "accountId=557058:bob&accountId=557058:ada",
                "x=a+b&accountId=557058:bob",
                "accountIdx=1&xaccountId=2&accountId=557058:bob",
            ] {
                try await client.execute(uri: path + query, method: .get, headers: .bob) { response in
                    #expect(response.status == .ok, "\(query)")
                    #expect(response.text == expected.text, "\(query)")
                }
            }
            for (query, status): (String, HTTPResponse.Status) in [
                ("accountIdx=557058:bob", .badRequest), ("accountId", .notFound), ("accountId=", .notFound),
                ("accountId=557058%zzbob", .badRequest),
            ] {
                try await client.execute(uri: path + query, method: .get, headers: .bob) { response in
                    #expect(response.status == status, "\(query)")
                }
            }
        }
    }

    @Test("Step 4: an accountId over 128 characters is 400")
    func step4TooLong() async throws {
        try await TestSite.test { client in
            let id = String(repeating: "a", count: 129)
            try await client.execute(uri: "/rest/api/3/user/properties?accountId=\(id)", method: .get, headers: .ada) {
                response in
                expectError(response, .badRequest, "The accountId must not be longer than 128 characters.")
            }
        }
    }

    @Test("Step 5: a body over 32768 bytes is 400 naming its Content-Length, before the user is looked up")
    func step5() async throws {
        try await TestSite.test { client in
            let body = ByteBuffer(text: "\"" + String(repeating: "x", count: 39998) + "\"")
            try await client.execute(
                uri: "/rest/api/3/user/properties/k?accountId=557058:nobody", method: .put, headers: .ada, body: body
            ) { response in
                expectError(response, .badRequest, "The property value is too long: 40000 bytes, the maximum is 32768.")
                #expect(response.headers[.connection] == "close")
            }
            let exactly = ByteBuffer(text: "\"" + String(repeating: "x", count: 32766) + "\"")
            try await client.execute(
                uri: "/rest/api/3/user/properties/k?accountId=557058:ada", method: .put, headers: .ada, body: exactly
            ) { #expect($0.status == .created, "32768 bytes is allowed") }
        }
    }

    @Test("A large body refused before it is read (here for want of credentials) closes the connection")
    func largeUnreadBodyClosesTheConnection() async throws {
        try await TestSite.test { client in
            let body = ByteBuffer(text: "\"" + String(repeating: "x", count: 39998) + "\"")
            try await client.execute(
                uri: "/rest/api/3/user/properties/k?accountId=557058:ada", method: .put, body: body
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.connection] == "close", "not drained: the client may be sending megabytes")
            }
            let small = ByteBuffer(text: "1")
            try await client.execute(
                uri: "/rest/api/3/user/properties/k?accountId=557058:ada", method: .put, body: small
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.connection] == nil, "a small body is cheap to drain; the connection stays")
            }
        }
    }

    @Test("Step 6: an unknown accountId is 404, before the permission check")
    func step6() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties/k?accountId=557058:nobody", method: .get, headers: .bob
            ) { response in
                expectError(response, .notFound, "The user with accountId '557058:nobody' does not exist.")
            }
        }
    }

    @Test("Step 7: a Jira user cannot touch another user's properties; the explanation names both")
    func step7NotAdmin() async throws {
        try await TestSite.test { client in
            for method in [HTTPRequest.Method.get, .put, .delete] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties/tour?accountId=557058:ada", method: method, headers: .bob,
                    body: ByteBuffer(text: "{}")
                ) { response in
                    expectError(
                        response, .forbidden, "You do not have permission to access the properties of this user.")
                    #expect(
                        response.explanation
                            == "Caller 557058:bob is not an administrator and the property belongs to 557058:ada; using another user's properties (reading, setting or deleting) needs the Administer Jira global permission."
                    )
                }
            }
        }
    }

    @Test("Step 7: a user without Jira access cannot use properties, not even their own")
    func step7NoAccess() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties?accountId=557058:cara", method: .get, headers: .cara
            ) {
                response in
                expectError(response, .forbidden, "You do not have permission to access the properties of this user.")
                #expect(response.explanation?.contains("no access to Jira") == true)
            }
        }
    }

    @Test("Step 7: an administrator may use anyone's properties")
    func step7Admin() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.bobProperty, method: .get, headers: .ada) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"key\":\"tour.progress\",\"value\":{\"step\":2,\"done\":false}}")
            }
        }
    }

    @Test("Step 8: an empty or whitespace-only body is 400 'cannot be empty'")
    func step8Empty() async throws {
        try await TestSite.test { client in
            for body in ["", "  \n"] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties/k?accountId=557058:bob", method: .put, headers: .bob,
                    body: ByteBuffer(text: body)
                ) { response in
                    expectError(response, .badRequest, "The property value cannot be empty.")
                }
            }
        }
    }

    @Test(
        "Step 8: invalid JSON is 400, and nothing is stored",
        arguments: ["{'a':1}", "NaN", "01", "[1,]", "{} {}", "tru"])
    func step8InvalidJSON(body: String) async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.bobProperty, method: .put, headers: .bob, body: ByteBuffer(text: body)) {
                response in
                expectError(response, .badRequest, "The property value must be valid JSON.")
            }
            try await client.execute(uri: Self.bobProperty, method: .get, headers: .bob) { response in
                #expect(response.text == "{\"key\":\"tour.progress\",\"value\":{\"step\":2,\"done\":false}}")
            }
        }
    }

    @Test("Step 8: a key over 255 characters is 400, counted in UTF-16 as Java does")
    func step8KeyTooLong() async throws {
        try await TestSite.test { client in
            let key = String(repeating: "k", count: 300)
            try await client.execute(
                uri: "/rest/api/3/user/properties/\(key)?accountId=557058:bob", method: .put, headers: .bob,
                body: ByteBuffer(text: "1")
            ) { response in
                expectError(response, .badRequest, "The property key is too long: 300 characters, the maximum is 255.")
            }
            let fine = String(repeating: "k", count: 255)
            try await client.execute(
                uri: "/rest/api/3/user/properties/\(fine)?accountId=557058:bob", method: .put, headers: .bob,
                body: ByteBuffer(text: "1")
            ) { #expect($0.status == .created) }
        }
    }

    @Test("A NUL character in the key (%00) is refused on PUT with the reason, and such a key is never found")
    func nulInKey() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties/a%00b?accountId=557058:bob", method: .put, headers: .bob,
                body: ByteBuffer(text: "1")
            ) { response in
                expectError(response, .badRequest, "The property key cannot contain the character U+0000.")
                #expect(response.explanation?.contains("NUL character (%00 in the URL)") == true)
            }
            for method in [HTTPRequest.Method.get, .delete] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties/a%00b?accountId=557058:bob", method: method, headers: .bob
                ) { response in
                    expectError(response, .notFound, "The property with key 'a\u{0}b' does not exist.")
                }
            }
            try await client.execute(
                uri: "/rest/api/3/user/properties?accountId=557058:bob", method: .get, headers: .bob
            ) {
                #expect(String(buffer: $0.body).contains("\\u0000") == false)
            }
        }
    }

    @Test("Step 9: GET or DELETE of a key that is not set is 404")
    func step9() async throws {
        try await TestSite.test { client in
            for method in [HTTPRequest.Method.get, .delete] {
                try await client.execute(
                    uri: "/rest/api/3/user/properties/missing?accountId=557058:bob", method: method, headers: .bob
                ) { response in
                    expectError(response, .notFound, "The property with key 'missing' does not exist.")
                }
            }
        }
    }

    @Test("A malformed percent-escape in the key is 400, not a crash")
    func malformedKey() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/3/user/properties/a%zz?accountId=557058:bob", method: .put, headers: .bob,
                body: ByteBuffer(text: "1")
            ) { response in
                expectError(response, .badRequest, "The property key is not valid.")
            }
        }
    }

    // MARK: Spec 4.5, the classic mistakes

    @Test("Admin-UI properties are never listed; the explanation counts them")
    func legacyProperties() async throws {
        try await TestSite.test { client in
            try await client.execute(uri: Self.bobProperty, method: .delete, headers: .bob) {
                #expect($0.status == .noContent)
            }
            try await client.execute(
                uri: "/rest/api/2/user/properties?accountId=557058:bob", method: .get, headers: .bob
            ) {
                response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"keys\":[]}")
                #expect(response.explanation?.contains("has 2 admin-UI") == true, "\(response.explanation ?? "none")")
            }
            try await client.execute(
                uri: "/rest/api/2/user/properties/slackhandle?accountId=557058:bob", method: .get, headers: .bob
            ) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test("POST /rest/api/2/userProperties/ is 404, and the explanation names the right resource")
    func guessedResource() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/2/userProperties/", method: .post, headers: .bob, body: ByteBuffer(text: "{}")
            ) {
                response in
                #expect(response.status == .notFound)
                #expect(response.errorMessage != nil)
                #expect(
                    response.explanation?.contains("PUT /rest/api/{2,3}/user/properties/{propertyKey}?accountId=")
                        == true)
            }
        }
    }

    @Test("v2 and v3 share one store")
    func versionsShareData() async throws {
        try await TestSite.test { client in
            try await client.execute(
                uri: "/rest/api/2/user/properties/shared?accountId=557058:bob", method: .put, headers: .bob,
                body: ByteBuffer(text: "\"v2\"")
            ) { #expect($0.status == .created) }
            try await client.execute(
                uri: "/rest/api/3/user/properties/shared?accountId=557058:bob", method: .get, headers: .bob
            ) {
                #expect($0.text == "{\"key\":\"shared\",\"value\":\"v2\"}")
            }
        }
    }
}
