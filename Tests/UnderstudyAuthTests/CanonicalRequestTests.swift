import Testing
import UnderstudyAuth

/// Spec 5.3: the canonical request that `qsh` hashes, as every common library computes it.
@Suite("Query string hash")
struct CanonicalRequestTests {
    @Test(
        "The spec's hashes",
        arguments: [
            ("GET", "/", "GET&/&", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
            (
                "GET", "/rest/api/3/myself", "GET&/rest/api/3/myself&",
                "c790e863cecddbf1369d5e058d5f71d9d19741a497a6e4681351909109759513"
            ),
            (
                "GET", "/rest/api/3/user/properties?accountId=5b10ac8d82e05b22cc7d4ef5",
                "GET&/rest/api/3/user/properties&accountId=5b10ac8d82e05b22cc7d4ef5",
                "8f76f1a3f8ee399c6e276ef1d396cee56d10397ec75f07f9376e5f3ce058fe74"
            ),
            (
                "put", "/rest/api/3/user/properties/my-app.settings?accountId=5b10ac8d82e05b22cc7d4ef5",
                "PUT&/rest/api/3/user/properties/my-app.settings&accountId=5b10ac8d82e05b22cc7d4ef5",
                "d04e474d53c599b2ea5adf9935137a115e1979f0216f5a0b502841e85edd52dd"
            ),
            ("GET", "/path", "GET&/path&", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
        ])
    func hashes(method: String, target: String, canonical: String, qsh: String) {
        let request = CanonicalRequest(method: method, target: Substring(target))
        #expect(request.description == canonical)
        #expect(request.queryStringHash == qsh)
    }

    @Test(
        "Canonical forms",
        arguments: [
            (
                "GET", "/test?param=some+spaces+in+this+parameter",
                "GET&/test&param=some%20spaces%20in%20this%20parameter"
            ),
            ("GET", "/test?title=1+%2B+1+equals+3", "GET&/test&title=1%20%2B%201%20equals%203"),
            ("GET", "/test?query=connect*", "GET&/test&query=connect%2A"),
            ("GET", "/test?eta=in+%7E3+days", "GET&/test&eta=in%20~3%20days"),
            ("GET", "/test?ids=-1&ids=1&ids=10&ids=2&ids=20", "GET&/test&ids=-1,1,10,2,20"),
            (
                "GET", "/test?tuples=1%2C2%2C3&tuples=6%2C5%2C4&tuples=7%2C9%2C8",
                "GET&/test&tuples=1%2C2%2C3,6%2C5%2C4,7%2C9%2C8"
            ),
            ("GET", "/test?c=&c=+&c=%2520&c=%2B", "GET&/test&c=,%20,%2520,%2B"),
            ("GET", "/test?a10=1&a1=2&b1=3&b10=4", "GET&/test&a1=2&a10=1&b1=3&b10=4"),
            ("GET", "/test?A=A&a=a&b=b&B=B", "GET&/test&A=A&B=B&a=a&b=b"),
            (
                "GET",
                "/path/to/service?zee_last=param&repeated=parameter%201&first=param&repeated=parameter%202&repeated=Parameter%202",
                "GET&/path/to/service&first=param&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param"
            ),
            ("GET", "/hello-world?a&b=foo&c", "GET&/hello-world&a=&b=foo&c="),
            ("GET", "/endsWithDelimiter/?a=b", "GET&/endsWithDelimiter&a=b"),
            ("POST", "/rest/api/2/project&a=b?x=y", "POST&/rest/api/2/project%26a=b&x=y"),
            ("GET", "/path!$&'()*+,;=?a=b", "GET&/path!$%26'()*+,;=&a=b"),
            ("GET", "/rest/api/3/myself?jwt=abc.def.ghi", "GET&/rest/api/3/myself&"),
            ("GET", "/rest/api/3/myself?", "GET&/rest/api/3/myself&"),
            ("GET", "", "GET&/&"),
            ("GET", "/a//", "GET&/a&"),
            ("GET", "/x?%C3%A9t%C3%A9=caf%C3%A9", "GET&/x&%C3%A9t%C3%A9=caf%C3%A9"),
            ("GET", "/x?emoji=%F0%9F%98%80&space=a%20b", "GET&/x&emoji=%F0%9F%98%80&space=a%20b"),
            ("GET", "/x?bad=%FF", "GET&/x&bad=%EF%BF%BD"),
            ("GET", "/x?broken=%zz&pct=100%", "GET&/x&broken=%25zz&pct=100%25"),
            ("GET", "/x?reserved=%3A%2F%3F%23%5B%5D%40", "GET&/x&reserved=%3A%2F%3F%23%5B%5D%40"),
            ("GET", "/x?literal=:/@!", "GET&/x&literal=%3A%2F%40%21"),
            ("GET", "/x?a=1&&b=2", "GET&/x&a=1&b=2"),
            ("GET", "/x?=v", "GET&/x&=v"),
            ("GET", "/x?eq=a=b", "GET&/x&eq=a%3Db"),
            (
                "DELETE", "/rest/api/3/user/properties/a%20b?accountId=557058%3Abob",
                "DELETE&/rest/api/3/user/properties/a%20b&accountId=557058%3Abob"
            ),
        ])
    func canonicalForms(method: String, target: String, canonical: String) {
        #expect(CanonicalRequest(method: method, target: Substring(target)).description == canonical)
    }

    @Test("The base URL's path is left out")
    func basePath() {
        let request = CanonicalRequest(
            method: "POST", target: "/jira/rest/api/2/project/jira&a=b&c=d?x=y", basePath: "/jira")
        #expect(request.description == "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y")
        #expect(CanonicalRequest(method: "GET", target: "/jira", basePath: "/jira/").description == "GET&/&")
        #expect(CanonicalRequest(method: "GET", target: "/jiraX/y", basePath: "/jira").description == "GET&/jiraX/y&")
    }

    @Test("A combining mark after a slash does not hide the slash (found by fuzzing)")
    func combiningMarkAfterSlash() {
        // "/" followed by U+0315 is one Character; the canonicaliser works on bytes.
        #expect(CanonicalRequest(method: "GET", target: "/\u{0315}x/").path == "/\u{0315}x")
        #expect(CanonicalRequest(method: "GET", target: "\u{0315}x").path == "/\u{0315}x")
        #expect(CanonicalRequest(method: "GET", target: "/\u{0301}/").path == "/\u{0301}")
        #expect(
            CanonicalRequest(method: "GET", target: "/jira\u{0301}/x", basePath: "/jira").path == "/jira\u{0301}/x")
    }

    @Test("Repeated values can also be ordered by their decoded form, as atlassian-jwt does")
    func decodedOrder() {
        // Decoded "a b" < "a+b"? ' ' (0x20) < '+' (0x2B); encoded "a%20b" > "a%2Bb"? '2','0' vs '2','B': 0 < B.
        let target: Substring = "/x?v=a%2Bb&v=a+b&v=a*"
        #expect(CanonicalRequest(method: "GET", target: target).query == "v=a%20b,a%2A,a%2Bb")
        #expect(CanonicalRequest(method: "GET", target: target, valueOrder: .decoded).query == "v=a%20b,a%2A,a%2Bb")
        let differs: Substring = "/x?v=%7E&v=%21"
        #expect(CanonicalRequest(method: "GET", target: differs).query == "v=%21,~")
        #expect(CanonicalRequest(method: "GET", target: differs, valueOrder: .decoded).query == "v=%21,~")
        let upper: Substring = "/x?v=b&v=_"
        #expect(CanonicalRequest(method: "GET", target: upper).query == "v=_,b")
        let tilde: Substring = "/x?v=~&v=%C3%A9"
        #expect(CanonicalRequest(method: "GET", target: tilde).query == "v=%C3%A9,~")
        #expect(CanonicalRequest(method: "GET", target: tilde, valueOrder: .decoded).query == "v=~,%C3%A9")
    }
}
