import Testing
import UnderstudyCore

/// What a Connect developer's `atlassian-connect.json` must be for Understudy to install it
/// (spec 13, step 2), and how a wrong one is reported: every problem at its JSON path.
@Suite("Connect descriptors")
struct ConnectDescriptorTests {
    func read(_ text: String) throws -> ConnectDescriptor {
        try ConnectDescriptor.read(try JSONParser.parse(text))
    }

    func problems(_ text: String) throws -> [String] {
        let value = try JSONParser.parse(text)
        do {
            _ = try ConnectDescriptor.read(value)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("A typical descriptor: key, baseUrl, jwt, scopes in any case, lifecycle paths")
    func typical() throws {
        let descriptor = try read(
            """
            {"key": "com.example.tour", "name": "Product Tour", "baseUrl": "https://tour.example.com/app/",
             "authentication": {"type": "JWT"}, "scopes": ["read", "WRITE", "act_as_user", "read"],
             "apiVersion": 1, "apiMigrations": {"signed-install": true, "context-qsh": true, "gdpr": true},
             "lifecycle": {"installed": "/installed", "uninstalled": "uninstalled"},
             "modules": {"generalPages": [{"key": "tour-page", "url": "tour?p={project.key}", "name": {"value": "Tour"}}],
                         "adminPages": [{"key": "tour-admin", "url": "/admin"}],
                         "webhooks": [{"event": "user_created", "url": "hooks/user"}]}}
            """)
        #expect(descriptor.key == "com.example.tour")
        #expect(descriptor.name == "Product Tour")
        #expect(descriptor.baseUrl == "https://tour.example.com/app", "without the trailing slash")
        #expect(descriptor.authentication == "jwt")
        #expect(descriptor.scopes == [.read, .write], "ACT_AS_USER is accepted and not kept; duplicates once")
        #expect(descriptor.lifecycle == [.installed: "/installed", .uninstalled: "/uninstalled"])
        #expect(descriptor.apiMigrations["signed-install"] == true)
        #expect(descriptor.webhooks == [ConnectWebhook(event: "user_created", url: "/hooks/user")])
        #expect(
            descriptor.pages == [
                ConnectPage(kind: .generalPages, key: "tour-page", url: "/tour?p={project.key}", name: "Tour"),
                ConnectPage(kind: .adminPages, key: "tour-admin", url: "/admin", name: "tour-admin"),
            ], "a page without a name is named by its key")
    }

    @Test("The smallest descriptor: a name defaults to the key, version 1, no scopes, no lifecycle")
    func smallest() throws {
        let descriptor = try read(
            #"{"key": "k", "baseUrl": "http://localhost:3000", "authentication": {"type": "none"}}"#)
        #expect(descriptor.name == "k")
        #expect(descriptor.apiVersion == 1)
        #expect(descriptor.scopes.isEmpty)
        #expect(descriptor.lifecycle.isEmpty)
        #expect(descriptor.authentication == "none")
    }

    @Test(
        "Each problem is named at its JSON path",
        arguments: [
            (#"{"baseUrl": "http://a", "authentication": {"type": "jwt"}}"#, "$.key: required"),
            (
                #"{"key": "my app", "baseUrl": "http://a", "authentication": {"type": "jwt"}}"#,
                #"$.key: "my app" does not match ^[a-zA-Z0-9-._]+$"#
            ),
            (
                #"{"key": "\#(String(repeating: "k", count: 65))", "baseUrl": "http://a", "authentication": {"type": "jwt"}}"#,
                "$.key: 65 characters, at most 64 are allowed"
            ),
            (
                #"{"key": 7, "baseUrl": "http://a", "authentication": {"type": "jwt"}}"#,
                "$.key: must be a string, found a number"
            ),
            (#"{"key": "k", "authentication": {"type": "jwt"}}"#, "$.baseUrl: required"),
            (
                #"{"key": "k", "baseUrl": "ftp://a", "authentication": {"type": "jwt"}}"#,
                #"$.baseUrl: "ftp://a" is not an http or https URL"#
            ),
            (
                #"{"key": "k", "baseUrl": "http://a/\#(String(repeating: "p", count: 200))", "authentication": {"type": "jwt"}}"#,
                "$.baseUrl: 209 characters, at most 200 are allowed"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a?x=1", "authentication": {"type": "jwt"}}"#,
                "must not contain spaces, a query or a fragment"
            ),
            (#"{"key": "k", "baseUrl": "http://a"}"#, "$.authentication: required"),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "oauth2"}}"#,
                #"$.authentication.type: "oauth2" is not one of jwt, none"#
            ),
            (#"{"key": "k", "baseUrl": "http://a", "authentication": {}}"#, "$.authentication.type: required"),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "scopes": ["read", "root"]}"#,
                #"$.scopes[1]: "root" is not a Connect scope"#
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "scopes": "read"}"#,
                "$.scopes: must be an array of scope names, found a string"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "lifecycle": {"installed": "https://evil.example.com/x"}}"#,
                "$.lifecycle.installed: \"https://evil.example.com/x\" must be a path relative to baseUrl"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "lifecycle": {"installed": "//evil.example.com/x"}}"#,
                "$.lifecycle.installed: \"//evil.example.com/x\" must be a path relative to baseUrl"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "lifecycle": {"upgraded": "/u"}}"#,
                "$.lifecycle.upgraded: not a lifecycle event"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "apiVersion": "2"}"#,
                "$.apiVersion: must be an integer"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "apiMigrations": {"gdpr": "yes"}}"#,
                "$.apiMigrations.gdpr: must be a boolean, found a string"
            ),
            ("[]", "$: a descriptor is a JSON object, found an array"),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "modules": {"webhooks": [{"event": "user_created"}]}}"#,
                "$.modules.webhooks[0].url: required"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "modules": {"webhooks": [{"event": "user_created", "url": "https://evil.example.com"}]}}"#,
                "$.modules.webhooks[0].url: \"https://evil.example.com\" must be a path relative to baseUrl"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "modules": {"generalPages": [{"key": "p", "url": "//evil.example/x"}]}}"#,
                "$.modules.generalPages[0].url: must be a path relative to baseUrl"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "modules": {"adminPages": [{"key": "a page", "url": "/x"}]}}"#,
                "$.modules.adminPages[0].key: required: letters, digits and -"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "modules": {"generalPages": [{"key": "p", "url": "/x"}, {"key": "p", "url": "/y"}]}}"#,
                "$.modules.generalPages[1].key: the module key \"p\" is used twice"
            ),
            (
                #"{"key": "k", "baseUrl": "http://a", "modules": {"generalPages": {"key": "p"}}}"#,
                "$.modules.generalPages: must be an array, found an object"
            ),
        ])
    func problem(descriptor: String, expected: String) throws {
        let found = try problems(descriptor)
        #expect(found.contains { $0.contains(expected) }, "\(found)")
    }

    @Test("A combining mark after a lifecycle path's slash does not hide the slash (found by fuzzing)")
    func combiningMarkAfterSlash() throws {
        let descriptor = try read(
            #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "lifecycle": {"installed": "/\u061Ax"}}"#
        )
        #expect(descriptor.lifecycle[.installed]?.utf8.first == UInt8(ascii: "/"))
        #expect(descriptor.lifecycle[.installed]?.utf8.count == 4, "no second slash is added")
        #expect(throws: ConnectDescriptor.Invalid.self, "a baseUrl of slashes has no host (found by fuzzing)") {
            try read(#"{"key": "k", "baseUrl": "http:////", "authentication": {"type": "jwt"}}"#)
        }
        #expect(throws: ConnectDescriptor.Invalid.self) {
            try read(
                #"{"key": "k", "baseUrl": "http://a", "authentication": {"type": "jwt"}, "lifecycle": {"installed": "//\u061Aevil.example.com"}}"#
            )
        }
    }

    @Test("All problems are reported at once, in document order")
    func allAtOnce() throws {
        let found = try problems(#"{"key": "a b", "baseUrl": "x", "authentication": {"type": "?"}}"#)
        #expect(found.count == 3)
        #expect(
            found.map { String($0.prefix(while: { $0 != ":" })) } == ["$.key", "$.baseUrl", "$.authentication.type"])
    }

    @Test("An installation reads back from the form stores keep, and refuses anything else")
    func installationRoundTrip() throws {
        let installation = ConnectInstallation(
            descriptorUrl: "http://localhost:3000/atlassian-connect.json", baseUrl: "http://localhost:3000",
            lifecycle: [.installed: "/installed", .disabled: "/disabled"], signing: .legacy,
            state: .incomplete(reason: "the app answered 500"), installedBy: "557058:ada")
        #expect(ConnectInstallation(json: installation.json) == installation)
        #expect(ConnectInstallation(json: try JSONParser.parse(#"{"baseUrl": "x"}"#)) == nil)
        var app = ConnectApp(
            key: "k", name: "K", clientKey: "c", sharedSecret: "s", scopes: [], accountId: "a",
            installation: installation)
        #expect(app.unusableBecause?.contains("incomplete: the app answered 500") == true)
        app.installation?.state = .uninstalled
        #expect(app.unusableBecause?.contains("uninstalled") == true)
        app.installation = nil
        #expect(app.unusableBecause == nil, "an app added by hand is always usable")
    }
}

/// Which changes to the site's people Jira's user webhooks report (spec 14).
@Suite("User changes")
struct UserChangeTests {
    @Test("Created, updated and deleted people, by accountId; app users and token changes are not reported")
    func between() {
        let ada = User(accountId: "a", emailAddress: "ada@example.com", displayName: "Ada", groups: ["site-admins"])
        let bob = User(accountId: "b", emailAddress: "bob@example.com", displayName: "Bob")
        let appUser = User(accountId: "app", accountType: .app, emailAddress: nil, displayName: "App")
        var renamed = ada
        renamed.displayName = "Ada Lovelace"
        var newToken = bob
        newToken.apiTokenHashes = ["h"]
        let cara = User(accountId: "c", emailAddress: "cara@example.com", displayName: "Cara")
        let changes = UserChange.between([ada, bob, appUser], [renamed, newToken, cara])
        #expect(changes == [UserChange(kind: .updated, user: renamed), UserChange(kind: .created, user: cara)])
        #expect(UserChange.between([ada, appUser], []) == [UserChange(kind: .deleted, user: ada)])
        #expect(UserChange.between([ada], [ada]).isEmpty)
    }
}
