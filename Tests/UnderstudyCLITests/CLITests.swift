import Foundation
import Testing

/// The command line as a new user meets it: help, mistakes, a seed file, a user and a server.
@Suite("The understudy command", .serialized)
struct CLITests {
    static let siteFile = """
        {"users": [{"accountId": "557058:ada", "emailAddress": "ada@example.com", "displayName": "Ada",
                    "apiTokens": ["ada-token"], "groups": ["site-admins"]}],
         "userProperties": [{"accountId": "557058:ada", "key": "seeded", "value": {"ok": true}}]}
        """

    @Test("--help names every command")
    func help() throws {
        let cli = try CLIProcess()
        let result = try cli.run(["--help"])
        #expect(result.status == 0)
        for command in ["serve", "seed", "user", "token", "app", "jwt"] {
            #expect(result.standardOutput.contains(command))
        }
        let serve = try cli.run(["serve", "--help"])
        for option in ["--host", "--port", "--database", "--seed", "--base-url", "--no-explain"] {
            #expect(serve.standardOutput.contains(option), "\(option)")
        }
    }

    @Test("Bad arguments give an error naming the problem and a non-zero exit")
    func badArguments() throws {
        let cli = try CLIProcess()
        let port = try cli.run(["serve", "--port", "70000"])
        #expect(port.status != 0)
        #expect(port.standardError.contains("--port must be between 0 and 65535"))
        let email = try cli.run(["user", "add", "--email", "nobody", "--name", "N"])
        #expect(email.status != 0)
        #expect(email.standardError.contains("--email must be an e-mail address"))
        let unknown = try cli.run(["serve", "--colour"])
        #expect(unknown.status != 0)
        #expect(unknown.standardError.contains("--colour"))
    }

    @Test("A bad site file: one line naming file, JSON path and problem; exit 2; nothing loaded")
    func badSeedFile() throws {
        let cli = try CLIProcess()
        let bad = try cli.write(
            "bad.json",
            """
            {"users": [{"accountId": "a", "emailAddress": "a@example.com", "displayName": "A", "apiTokens": ["t"]},
                       {"accountId": "a", "emailAddress": "b@example.com", "displayName": "B"}]}
            """)
        let result = try cli.run(["seed", bad, "--database", cli.path("site.sqlite")])
        #expect(result.status == 2)
        #expect(result.standardError == "understudy: error: \(bad): $.users[1].accountId: duplicate accountId \"a\"\n")
        let served = try cli.run(["serve", "--seed", bad, "--database", cli.path("site.sqlite")])
        #expect(served.status == 2, "serve exits before listening")
        #expect(!served.standardOutput.contains("listening"))
        let missing = try cli.run(["seed", cli.path("missing.json"), "--database", ":memory:"])
        #expect(missing.status == 2)
        #expect(missing.standardError.contains("missing.json: cannot read the site file"))
    }

    @Test("seed, user add and token create work on one database file, and seeding twice is harmless")
    func seedAndUsers() throws {
        let cli = try CLIProcess()
        let site = try cli.write("site.json", Self.siteFile)
        let database = cli.path("site.sqlite")
        #expect(try cli.run(["seed", site, "--database", database]).status == 0)
        #expect(try cli.run(["seed", site, "--database", database]).status == 0)
        let added = try cli.run([
            "user", "add", "--email", "grace@example.com", "--name", "Grace", "--groups", "jira-users,team-x",
            "--database",
            database,
        ])
        #expect(added.status == 0)
        #expect(added.standardOutput.contains("accountId: "))
        #expect(added.standardOutput.contains("apiToken:  ATATT3x"))
        let duplicate = try cli.run([
            "user", "add", "--email", "GRACE@example.com", "--name", "G2", "--database", database,
        ])
        #expect(duplicate.status == 1)
        #expect(duplicate.standardError.contains("already exists"))
        let token = try cli.run(["token", "create", "--email", "ada@example.com", "--database", database])
        #expect(token.status == 0)
        #expect(token.standardOutput.contains("accountId: 557058:ada"))
        let nobody = try cli.run(["token", "create", "--email", "nobody@example.com", "--database", database])
        #expect(nobody.status == 1)
        #expect(nobody.standardError.contains("no user has the e-mail address"))
        let secrets = try Data(contentsOf: URL(fileURLWithPath: database))
        #expect(secrets.range(of: Data("ada-token".utf8)) == nil, "tokens are stored only as hashes")
    }

    @Test("oauth-app add and token create --scopes: credentials printed once, used live through the gateway")
    func oauthAppsAndScopedTokens() async throws {
        let cli = try CLIProcess()
        let site = try cli.write("site.json", Self.siteFile)
        let database = cli.path("site.sqlite")
        #expect(try cli.run(["seed", site, "--database", database]).status == 0)
        let added = try cli.run([
            "oauth-app", "add", "--name", "Sync", "--callback", "http://localhost:9000/cb", "--scopes",
            "read:jira-user offline_access", "--client-id", "sync-client", "--database", database,
        ])
        #expect(added.status == 0)
        #expect(added.standardOutput.contains("clientId:     sync-client"))
        let secret = try #require(
            added.standardOutput.split(separator: "\n").first { $0.hasPrefix("clientSecret: ") }?.dropFirst(14))
        let again = try cli.run([
            "oauth-app", "add", "--name", "Sync", "--callback", "http://localhost:9000/cb", "--scopes",
            "read:jira-user",
            "--client-id", "sync-client", "--database", database,
        ])
        #expect(again.status == 1)
        #expect(again.standardError.contains("already exists"))
        let bad = try cli.run([
            "oauth-app", "add", "--name", "Bad", "--callback", "ftp://x", "--scopes", "read:jira-user", "--database",
            database,
        ])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("callbackUrls[0]"))
        let scoped = try cli.run([
            "token", "create", "--email", "ada@example.com", "--scopes", "read:jira-user", "--database", database,
        ])
        #expect(scoped.status == 0)
        let token = try #require(
            scoped.standardOutput.split(separator: "\n").first { $0.hasPrefix("apiToken:  ") }?.dropFirst(11))
        let listed = try cli.run(["oauth-app", "list", "--database", database])
        #expect(listed.standardOutput.contains("sync-client  Sync"))
        #expect(!listed.standardOutput.contains(String(secret)))

        let (server, printed) = try cli.serve(["--database", database, "--control-token", "cli-control-token"])
        defer { server.stopIfRunning() }
        let cloudId = try #require(printed.split(separator: "Site cloudId ").last?.prefix(36))
        let minted = try await http(
            "POST", "\(server.baseURL)/_understudy/oauth/tokens", authorization: "Bearer cli-control-token",
            body: #"{"clientId": "sync-client", "accountId": "557058:ada", "scopes": ["read:jira-user"]}"#)
        #expect(minted.status == 201)
        let accessToken = try #require(minted.body.split(separator: "\"")[safe: 3])
        let throughGateway = try cli.run([
            "props", "list", "--site", "\(server.baseURL)/ex/jira/\(cloudId)", "--account-id", "557058:ada", "--bearer",
            String(accessToken),
        ])
        #expect(throughGateway.status == 0, "\(throughGateway.standardError)")
        #expect(throughGateway.standardOutput.contains("seeded"))
        let onSite = try cli.run([
            "props", "list", "--site", server.baseURL, "--account-id", "557058:ada", "--bearer", String(accessToken),
        ])
        #expect(onSite.status == 4, "a Bearer token on the site URL is not authenticated")
        let tenant = try await http("GET", "\(server.baseURL)/_edge/tenant_info")
        #expect(tenant.body == "{\"cloudId\":\"\(cloudId)\"}")
        let myself = try await http(
            "GET", "\(server.baseURL)/ex/jira/\(cloudId)/rest/api/3/myself", email: "ada@example.com",
            token: String(token))
        #expect(myself.status == 200)
        let scopedOnSite = try await http(
            "GET", "\(server.baseURL)/rest/api/3/myself", email: "ada@example.com", token: String(token))
        #expect(scopedOnSite.status == 401)
        #expect(
            scopedOnSite.headers["x-understudy-explain"]?.contains("/ex/jira/\(cloudId)/rest/api/3/myself") == true)
        #expect(server.stop() == 0)

        let (restarted, printedAgain) = try cli.serve(["--database", database])
        defer { restarted.stopIfRunning() }
        #expect(printedAgain.contains("Site cloudId \(cloudId)"), "a database keeps its cloudId")
        #expect(restarted.stop() == 0)
    }

    @Test("forge-app add, list and forge token: a Forge app's tokens used live, as the app and as a user")
    func forgeApps() async throws {
        let cli = try CLIProcess()
        let site = try cli.write("site.json", Self.siteFile)
        let database = cli.path("site.sqlite")
        #expect(try cli.run(["seed", site, "--database", database]).status == 0)
        let appId = "ari:cloud:ecosystem::app/5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
        let added = try cli.run([
            "forge-app", "add", "--name", "Tour", "--scopes", "read:jira-user write:jira-work", "--app-id", appId,
            "--database", database,
        ])
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput.contains("installationId: ari:cloud:ecosystem::installation/5a4b3c2d"))
        #expect(added.standardOutput.contains("(Jira access only)"))
        let again = try cli.run([
            "forge-app", "add", "--name", "Tour", "--scopes", "read:jira-user", "--app-id", appId, "--database",
            database,
        ])
        #expect(again.status == 1)
        #expect(again.standardError.contains("already installed"))
        let bad = try cli.run([
            "forge-app", "add", "--name", "Bad", "--scopes", "read:jira-user", "--app-id", "12345", "--database",
            database,
        ])
        #expect(bad.status == 2)
        #expect(bad.standardError.contains("ari:cloud:ecosystem::app/<uuid>"))
        #expect(try cli.run(["forge-app", "list", "--database", database]).standardOutput.contains("\(appId)  Tour"))

        let system = try cli.run(["forge", "token", "--app", appId, "--database", database])
        #expect(system.status == 0)
        let user = try cli.run(["forge", "token", "--app", appId, "--user", "557058:ada", "--database", database])
        #expect(user.status == 0)
        let unknown = try cli.run(["forge", "token", "--app", appId, "--user", "557058:nobody", "--database", database])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("No active person of this site has accountId '557058:nobody'"))

        let (server, printed) = try cli.serve(["--database", database])
        defer { server.stopIfRunning() }
        let cloudId = try #require(printed.split(separator: "Site cloudId ").last?.prefix(36))
        let gateway = "\(server.baseURL)/ex/jira/\(cloudId)"
        let asApp = try await http(
            "GET", "\(gateway)/rest/api/3/myself",
            authorization: "Bearer \(system.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(asApp.status == 200)
        #expect(asApp.body.contains(#""accountType":"app""#))
        let asAda = try await http(
            "GET", "\(gateway)/rest/api/3/user/properties/seeded?accountId=557058:ada",
            authorization: "Bearer \(user.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))")
        #expect(asAda.status == 200)
        #expect(server.stop() == 0)
    }

    @Test("An unusable database path gives one line and exit 1")
    func badDatabase() throws {
        let cli = try CLIProcess()
        let result = try cli.run([
            "seed", try cli.write("site.json", Self.siteFile), "--database", "/nonexistent/dir/x.sqlite",
        ])
        #expect(result.status == 1)
        #expect(
            result.standardError.hasPrefix(
                "understudy: error: cannot create the database file /nonexistent/dir/x.sqlite"))
        let corrupt = try cli.write("corrupt.sqlite", String(repeating: "not a database ", count: 300))
        let opened = try cli.run(["seed", cli.path("site.json"), "--database", corrupt])
        #expect(opened.status == 1)
        #expect(opened.standardError.split(separator: "\n").count == 1)
    }

    @Test("serve: demo site on an empty database, a real request, SIGTERM, and the data is still there")
    func serveLive() async throws {
        let cli = try CLIProcess()
        let database = cli.path("site.sqlite")
        let (server, printed) = try cli.serve(["--database", database])
        defer { server.stopIfRunning() }
        #expect(printed.contains("ada@example.com  ada-demo-token  557058:ada"))
        let put = try await http(
            "PUT", "\(server.baseURL)/rest/api/3/user/properties/live?accountId=557058:bob", email: "bob@example.com",
            token: "bob-demo-token", body: "{\"live\":true}")
        #expect(put.status == 201)
        let mistake = try await http(
            "POST", "\(server.baseURL)/rest/api/3/user/properties/live?accountId=557058:bob", email: "bob@example.com",
            token: "bob-demo-token", body: "{}")
        #expect(mistake.status == 405)
        #expect(mistake.headers["allow"] == "GET, PUT, DELETE")
        #expect(server.stop() == 0)

        let (again, printedAgain) = try cli.serve(["--database", database])
        defer { again.stopIfRunning() }
        #expect(!printedAgain.contains("demo-token"), "the demo site is loaded only into an empty database")
        let get = try await http(
            "GET", "\(again.baseURL)/rest/api/2/user/properties/live?accountId=557058:bob", email: "ada@example.com",
            token: "ada-demo-token")
        #expect(get.status == 200)
        #expect(get.body == "{\"key\":\"live\",\"value\":{\"live\":true}}")
        let keys = try await http(
            "GET", "\(again.baseURL)/rest/api/3/user/properties?accountId=557058:bob", email: "bob@example.com",
            token: "bob-demo-token")
        #expect(
            keys.body.contains("\"self\":\"\(again.baseURL)/rest/api/3/user/properties/live?accountId=557058:bob\""))
        #expect(again.stop() == 0)
    }

    @Test("serve --seed --base-url --no-explain: the seeded site, links on the base URL, no explanations")
    func serveSeeded() async throws {
        let cli = try CLIProcess()
        let site = try cli.write("site.json", Self.siteFile)
        let (server, _) = try cli.serve([
            "--database", ":memory:", "--seed", site, "--base-url", "https://jira.example.test/", "--no-explain",
        ])
        defer { server.stopIfRunning() }
        let myself = try await http(
            "GET", "\(server.baseURL)/rest/api/3/myself", email: "ada@example.com", token: "ada-token")
        #expect(myself.status == 200)
        #expect(myself.body.contains("\"self\":\"https://jira.example.test/rest/api/3/user?accountId=557058:ada\""))
        let refused = try await http(
            "GET", "\(server.baseURL)/rest/api/3/myself", email: "ada@example.com", token: "nope")
        #expect(refused.status == 401)
        #expect(refused.headers["x-understudy-explain"] == nil)
        #expect(server.stop() == 0)
    }

    @Test("A port already in use: one line and a non-zero exit")
    func portInUse() async throws {
        let cli = try CLIProcess()
        let (server, _) = try cli.serve(["--database", ":memory:"])
        defer { server.stopIfRunning() }
        let port = String(server.baseURL.split(separator: ":").last!)
        let second = try cli.run(["serve", "--database", ":memory:", "--port", port])
        #expect(second.status != 0)
        #expect(
            second.standardError
                == "understudy: error: cannot listen on 127.0.0.1:\(port): the address is already in use (is another server running?)\n"
        )
        #expect(server.stop() == 0)
    }
}

/// `app add` and `jwt`: installing an app and calling Understudy as it, from a shell.
@Suite("Connect apps from the command line", .serialized)
struct ConnectCLITests {
    @Test("app add prints the installation's credentials; jwt signs a request the server accepts")
    func appAndJWT() async throws {
        let cli = try CLIProcess()
        let database = cli.path("site.sqlite")
        let added = try cli.run([
            "app", "add", "--key", "com.example.cli", "--name", "CLI App", "--scopes", "read,write",
            "--shared-secret", "cli-secret-0123456789", "--database", database,
        ])
        #expect(added.status == 0, "\(added.standardError)")
        #expect(added.standardOutput.contains("clientKey:    jira:"))
        #expect(added.standardOutput.contains("sharedSecret: cli-secret-0123456789"))
        let again = try cli.run([
            "app", "add", "--key", "com.example.cli", "--name", "X", "--scopes", "READ", "--database", database,
        ])
        #expect(again.status == 1)
        #expect(again.standardError.contains("already installed"))
        let badScope = try cli.run(["app", "add", "--key", "k", "--name", "N", "--scopes", "READ,EVERYTHING"])
        #expect(badScope.status != 0)
        #expect(badScope.standardError.contains("unknown scope 'EVERYTHING'"))

        let (server, _) = try cli.serve(["--database", database])
        defer { server.stopIfRunning() }
        let target = "/rest/api/3/myself?expand=groups"
        let signed = try cli.run([
            "jwt", "--app", "com.example.cli", "--url", target, "--canonical", "--database", database,
        ])
        #expect(signed.status == 0)
        #expect(signed.standardError.contains("canonical request: GET&/rest/api/3/myself&expand=groups"))
        let token = signed.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let myself = try await http("GET", server.baseURL + target, authorization: "JWT " + token)
        #expect(myself.status == 200)
        #expect(myself.body.contains("\"displayName\":\"CLI App\""))
        #expect(myself.body.contains("\"accountType\":\"app\""))
        let replay = try await http("GET", server.baseURL + "/rest/api/3/myself", authorization: "JWT " + token)
        #expect(replay.status == 401)
        #expect(replay.headers["x-understudy-explain"]?.hasPrefix("Query string hash mismatch") == true)
        #expect(server.stop() == 0)

        let missing = try cli.run(["jwt", "--app", "com.example.none", "--url", "/x", "--database", database])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("no app with key \"com.example.none\""))
    }
}

@Suite("understudy props")
struct PropsCLITests {
    @Test("props set, get, list and delete against a live site, with exit codes a script can rely on")
    func props() async throws {
        let cli = try CLIProcess()
        let (server, _) = try cli.serve(["--database", ":memory:"])
        defer { server.stopIfRunning() }
        let bob = ["--site", server.baseURL, "--account-id", "557058:bob", "--email", "bob@example.com"]
        let auth = bob + ["--token", "bob-demo-token"]

        let set = try cli.run(["props", "set"] + auth + ["theme", #"{"dark": true}"#])
        #expect(set.status == 0, "\(set.standardError)")
        #expect(set.standardOutput == "{\"key\":\"theme\",\"outcome\":\"created\"}\n")
        let again = try cli.run(["props", "set"] + auth + ["theme", #"{"dark": false}"#])
        #expect(again.standardOutput.contains("\"outcome\":\"updated\""))
        let get = try cli.run(["props", "get"] + auth + ["theme"])
        #expect(get.status == 0)
        #expect(get.standardOutput == "{\"dark\":false}\n")
        let list = try cli.run(["props", "list"] + auth)
        #expect(list.standardOutput.contains("\"theme\""))
        let delete = try cli.run(["props", "delete"] + auth + ["theme"])
        #expect(delete.status == 0)

        let missing = try cli.run(["props", "get"] + auth + ["theme"])
        #expect(missing.status == 3, "not found")
        #expect(missing.standardError.hasPrefix("understudy: error: GET /rest/api/3/user/properties/theme: 404"))
        let wrongToken = try cli.run(["props", "list"] + bob + ["--token", "nope"])
        #expect(wrongToken.status == 4, "not authenticated")
        let forbidden = try cli.run(
            [
                "props", "set", "--site", server.baseURL, "--account-id", "557058:ada", "--email", "bob@example.com",
                "--token", "bob-demo-token", "k", "1",
            ])
        #expect(forbidden.status == 4, "not permitted")
        #expect(forbidden.standardError.contains("Administer Jira"), "the explanation is shown")
        let notJSON = try cli.run(["props", "set"] + auth + ["k", "plain text"])
        #expect(notJSON.status == 64, "usage")
        let noCredentials = try cli.run(["props", "list", "--site", server.baseURL, "--account-id", "557058:bob"])
        #expect(noCredentials.status == 64)
        #expect(server.stop() == 0)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
