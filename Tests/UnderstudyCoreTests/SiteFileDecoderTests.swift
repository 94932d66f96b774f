import Testing
import UnderstudyCore

/// A developer writes a site file by hand; every mistake must be named with its place in the file.
@Suite("Site files")
struct SiteFileDecoderTests {
    let decoder = SiteFileDecoder(hashAPIToken: { "hash(\($0))" })

    func decode(_ text: String) throws(SiteFileError) -> Site {
        try decoder.decode(Array(text.utf8), file: "site.json")
    }

    @Test("The spec's example loads with its defaults")
    func specExample() throws {
        let site = try decode(
            """
            {"users": [
               {"accountId": "557058:ada", "emailAddress": "ada@example.com", "displayName": "Ada Admin",
                "apiTokens": ["ada-token"], "groups": ["site-admins", "jira-software-users"],
                "timeZone": "Europe/London", "locale": "en_GB", "legacyProperties": {"slackhandle": "@ada"}},
               {"accountId": "557058:cara", "emailAddress": "cara@example.com", "displayName": "Cara",
                "apiTokenHashes": ["hmac-sha256:00"], "groups": [], "active": false}],
             "apps": [{"key": "com.example.tour", "name": "Product Tour", "clientKey": "jira:1",
                "sharedSecret": "s", "scopes": ["READ", "write"]}],
             "userProperties": [{"accountId": "557058:ada", "key": "tour.progress", "value": {"step": 2, "done": false}}],
             "appProperties": [{"appKey": "com.example.tour", "key": "settings", "value": [1, "two"]}]}
            """)
        let ada = try #require(site.users.first)
        #expect(ada.apiTokenHashes == ["hash(ada-token)"])
        #expect(ada.legacyProperties == ["slackhandle": "@ada"])
        #expect(ada.timeZone == "Europe/London")
        let cara = site.users[1]
        #expect(cara.active == false && cara.timeZone == "UTC" && cara.locale == "en_US")
        #expect(cara.apiTokenHashes == ["hmac-sha256:00"])
        let app = try #require(site.apps.first)
        #expect(app.scopes == [.read, .write])
        #expect(app.accountId == "557058:app-com.example.tour", "an app without accountId gets one")
        let appUser = try #require(site.appUsers.first)
        #expect(appUser.accountType == .app && appUser.emailAddress == nil && appUser.displayName == "Product Tour")
        #expect(appUser.groups == ConnectApp.defaultGroups)
        #expect(site.userProperties.first?.value.jsonText == "{\"step\":2,\"done\":false}")
        #expect(site.appProperties.first?.value.jsonText == "[1,\"two\"]")
    }

    @Test("Forge apps load with the installation and app user derived from the appId, and write back the same")
    func forgeApps() throws {
        let site = try decode(
            """
            {"users": [{"accountId": "557058:bob", "emailAddress": "bob@example.com", "displayName": "Bob"}],
             "userProperties": [{"accountId": "557058:forge-1f2e", "key": "seen", "value": true}],
             "forgeApps": [
               {"appId": "ari:cloud:ecosystem::app/1f2e", "name": "Tour", "scopes": ["read:jira-user"]},
               {"appId": "ari:cloud:ecosystem::app/9a9a", "name": "Admin", "connectKey": "com.example.tour",
                "scopes": ["manage:jira-configuration"], "installationId": "ari:cloud:ecosystem::installation/x",
                "accountId": "557058:admin-app"}]}
            """)
        let tour = site.forgeApps[0]
        #expect(tour.installationId == "ari:cloud:ecosystem::installation/1f2e")
        #expect(tour.accountId == "557058:forge-1f2e", "the app user may hold properties named in the same file")
        #expect(tour.connectKey == nil)
        #expect(tour.appUser.groups == ["jira-software-users"])
        let admin = site.forgeApps[1]
        #expect(admin.appUser.permissions.contains(.administerJira))
        #expect(admin.connectKey == "com.example.tour")
        let written = SiteFileEncoder.encode(site).jsonText
        #expect(try decode(written).forgeApps == site.forgeApps)
    }

    @Test(
        "Mistakes are named with file, JSON path and problem",
        arguments: [
            (
                "{\"user\": []}", "$",
                "unknown field \"user\" (allowed: site, users, apps, userProperties, appProperties, oauthApps, oauthConsents, forgeApps)"
            ),
            ("[]", "$", "expected an object, found an array"),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\", \"admin\": true}]}",
                "$.users[0]",
                "unknown field \"admin\" (allowed: accountId, emailAddress, displayName, apiTokens, apiTokenHashes, groups, active, timeZone, locale, legacyProperties)"
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}, {\"accountId\": \"a\", \"emailAddress\": \"b@x\", \"displayName\": \"B\"}]}",
                "$.users[1].accountId", "duplicate accountId \"a\""
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}, {\"accountId\": \"b\", \"emailAddress\": \"A@X\", \"displayName\": \"B\"}]}",
                "$.users[1].emailAddress", "duplicate e-mail address \"A@X\""
            ),
            ("{\"users\": [{\"accountId\": \"a\", \"displayName\": \"A\"}]}", "$.users[0].emailAddress", "is required"),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\", \"active\": \"yes\"}]}",
                "$.users[0].active", "expected true or false, found a string"
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\", \"groups\": [1]}]}",
                "$.users[0].groups[0]", "expected a string, found a number"
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"accountId\": \"b\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}]}",
                "$.users[0]", "the field \"accountId\" appears twice"
            ),
            (
                "{\"apps\": [{\"key\": \"k\", \"name\": \"N\", \"clientKey\": \"c\", \"sharedSecret\": \"s\", \"scopes\": [\"READ\", \"EVERYTHING\"]}]}",
                "$.apps[0].scopes[1]", "unknown scope \"EVERYTHING\" (known: READ, WRITE, DELETE, PROJECT_ADMIN, ADMIN)"
            ),
            (
                "{\"userProperties\": [{\"accountId\": \"ghost\", \"key\": \"k\", \"value\": 1}]}",
                "$.userProperties[0].accountId", "no user or app in this file has accountId \"ghost\""
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}], \"userProperties\": [{\"accountId\": \"a\", \"key\": \"k\"}]}",
                "$.userProperties[0].value", "is required"
            ),
            (
                #"{"users": [{"accountId": "a", "emailAddress": "a@x", "displayName": "A"}], "userProperties": [{"accountId": "a", "key": "a\u0000b", "value": 1}]}"#,
                "$.userProperties[0].key", "a property key cannot contain U+0000"
            ),
            (
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}], \"userProperties\": [{\"accountId\": \"a\", \"key\": \"k\", \"value\": 1}, {\"accountId\": \"a\", \"key\": \"k\", \"value\": 2}]}",
                "$.userProperties[1].key", "the property \"k\" of \"a\" is given twice"
            ),
            (
                #"{"forgeApps": [{"appId": "8a3c", "name": "F", "scopes": []}]}"#, "$.forgeApps[0].appId",
                #""8a3c" is not of the form ari:cloud:ecosystem::app/<uuid>, as the Forge CLI prints it (forge settings, manifest.yml's app.id)"#
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "installationId": "1"}]}"#,
                "$.forgeApps[0].installationId",
                #""1" is not of the form ari:cloud:ecosystem::installation/<uuid>, as the Forge CLI prints it (forge settings, manifest.yml's app.id)"#
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "scopes": ["read:jira-user write:jira-work"]}]}"#,
                "$.forgeApps[0].scopes[0]", "a scope has no spaces; list each scope as its own string"
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F"}, {"appId": "ari:cloud:ecosystem::app/1", "name": "G"}]}"#,
                "$.forgeApps[1].appId", #"duplicate appId "ari:cloud:ecosystem::app/1""#
            ),
            (
                #"{"users": [{"accountId": "a", "emailAddress": "a@x", "displayName": "A"}], "forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "accountId": "a"}]}"#,
                "$.forgeApps[0].accountId", #"duplicate accountId "a""#
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "manifest": {}}]}"#,
                "$.forgeApps[0]",
                #"unknown field "manifest" (allowed: appId, name, scopes, installationId, connectKey, accountId, resources, modules)"#
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "resources": [{"key": "ui/main", "path": "ui"}]}]}"#,
                "$.forgeApps[0].resources[0].key",
                #""ui/main" is not a resource key: letters, digits, - and _, at most 64"#
            ),
            (
                #"{"forgeApps": [{"appId": "ari:cloud:ecosystem::app/1", "name": "F", "resources": [{"key": "main", "path": "ui"}], "modules": [{"key": "page", "resource": "other"}]}]}"#,
                "$.forgeApps[0].modules[0].resource", #""other" is not a key of this app's resources (main)"#
            ),
            ("{\"users\": [", "$", "not valid JSON: expected a JSON value at byte 11"),
        ])
    func mistakes(text: String, path: String, problem: String) {
        #expect(throws: SiteFileError(file: "site.json", path: path, problem: problem)) { try decode(text) }
    }

    @Test("Property keys and values obey the API's limits")
    func limits() {
        let longKey = String(repeating: "k", count: 256)
        #expect(throws: SiteFileError.self) {
            try decode(
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}], \"userProperties\": [{\"accountId\": \"a\", \"key\": \"\(longKey)\", \"value\": 1}]}"
            )
        }
        let longValue = String(repeating: "v", count: 32768)
        #expect(throws: SiteFileError.self) {
            try decode(
                "{\"users\": [{\"accountId\": \"a\", \"emailAddress\": \"a@x\", \"displayName\": \"A\"}], \"userProperties\": [{\"accountId\": \"a\", \"key\": \"k\", \"value\": \"\(longValue)\"}]}"
            )
        }
    }
}
