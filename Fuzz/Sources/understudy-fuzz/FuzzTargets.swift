import Foundation
import UnderstudyAuth
import UnderstudyCore

/// One libFuzzer entry point for every parser; `UNDERSTUDY_FUZZ_TARGET` picks which one runs, so
/// one instrumented build serves them all. A trap, an assertion below or a sanitizer report is a
/// finding.
enum FuzzTarget: String, CaseIterable {
    case json, jwt, canonicalRequest = "canonical-request", percentDecoding = "percent-decoding", siteFile = "site-file"
    case tokenRequest = "token-request"
    case forgeProxyAuthorization = "forge-proxy-authorization"
    case connectDescriptor = "connect-descriptor"
    case sitePaths = "site-paths"

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["UNDERSTUDY_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("set UNDERSTUDY_FUZZ_TARGET to one of: \(names)")
        }
        return target
    }()

    func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .json: Self.json(bytes)
        case .jwt: Self.jwt(bytes)
        case .canonicalRequest: Self.canonicalRequest(bytes)
        case .percentDecoding: Self.percentDecoding(bytes)
        case .siteFile: Self.siteFile(bytes)
        case .tokenRequest: Self.tokenRequest(bytes)
        case .forgeProxyAuthorization: Self.forgeProxyAuthorization(bytes)
        case .connectDescriptor: Self.connectDescriptor(bytes)
        case .sitePaths: Self.sitePaths(bytes)
        }
    }

    /// Whatever parses prints back to text that parses to the same value.
    static func json(_ bytes: UnsafeRawBufferPointer) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let reparsed = try? JSONParser.parse(value.jsonText)
        check(reparsed == value, "JSON text written from a parsed value parses back to it")
    }

    /// The input is a token; every step of verification runs on it, against a request made of it.
    static func jwt(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let token = try? ConnectJWT.parse(text) else { return }
        try? ConnectJWT.verifySignature(token, sharedSecret: "fuzz-shared-secret", appKey: "com.example.fuzz")
        try? ConnectJWT.verifyTimes(token, now: Date(timeIntervalSince1970: 1_800_000_000))
        try? ConnectJWT.verifyQueryStringHash(
            token, method: "GET", target: Substring("/rest/api/3/myself?" + token.issuer), basePath: "")
    }

    /// First line: method; the rest: a request target. The order of the parameters does not matter.
    static func canonicalRequest(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let newline = text.firstIndex(of: "\n") ?? text.startIndex
        let method = String(text[..<newline])
        let target = text[newline...].dropFirst()
        let queryStart = target.firstIndex(of: "?")
        let path = queryStart.map { target[..<$0] } ?? target
        let query = queryStart.map { target[target.index(after: $0)...] } ?? ""
        let reordered = path + "?" + query.split(separator: "&").reversed().joined(separator: "&")
        for order in [CanonicalRequest.ValueOrder.encoded, .decoded] {
            let canonical = CanonicalRequest(method: method, target: target, basePath: "/jira", valueOrder: order)
            check(canonical.path.utf8.first == UInt8(ascii: "/"), "the canonical path starts with a slash")
            check(!canonical.path.utf8.contains(UInt8(ascii: "&")), "the canonical path has no bare ampersand")
            let shuffled = CanonicalRequest(
                method: method, target: Substring(reordered), basePath: "/jira", valueOrder: order)
            check(shuffled == canonical, "parameter order changes nothing: \(canonical) vs \(shuffled)")
            _ = canonical.queryStringHash
        }
    }

    /// Strict decoding either refuses or gives text that encodes and decodes back to itself;
    /// lenient decoding never fails.
    static func percentDecoding(_ bytes: UnsafeRawBufferPointer) {
        let text = Substring(String(decoding: bytes, as: UTF8.self))
        for plusIsSpace in [false, true] {
            _ = PercentEncoding.decodeLeniently(text, plusIsSpace: plusIsSpace)
            guard let decoded = try? PercentEncoding.decode(text, plusIsSpace: plusIsSpace) else { continue }
            let encoded = PercentEncoding.encode(decoded)
            check(encoded.utf8.allSatisfy { $0 < 0x80 }, "an encoded text is ASCII")
            let roundTrip = try? PercentEncoding.decode(Substring(encoded), plusIsSpace: plusIsSpace)
            check(roundTrip == decoded, "encoding then decoding gives the decoded text back")
        }
    }

    /// A site file either decodes or names what is wrong at a JSON path.
    static func siteFile(_ bytes: UnsafeRawBufferPointer) {
        let decoder = SiteFileDecoder(hashAPIToken: { "fuzz:" + $0 })
        do {
            _ = try decoder.decode(bytes, file: "fuzz.json")
        } catch {
            check(error.path.hasPrefix("$"), "a site-file error names a JSON path")
            check(!error.problem.isEmpty, "a site-file error says what is wrong")
        }
    }

    /// The body of `POST /oauth/token`, read as JSON and as a form: either refused with a reason,
    /// or only the endpoint's own parameters, which written back as a form read the same.
    static func tokenRequest(_ bytes: UnsafeRawBufferPointer) {
        let body = Array(bytes)
        for contentType in ["application/json", "application/x-www-form-urlencoded", nil] {
            let parameters: [String: String]
            do {
                parameters = try OAuthTokenRequest.parameters(contentType: contentType, body: body)
            } catch {
                check(!error.description.isEmpty && !error.explanation.isEmpty, "a refusal says why")
                continue
            }
            check(parameters.keys.allSatisfy(OAuthTokenRequest.parameterNames.contains), "only token parameters")
            let form = parameters.map { "\(PercentEncoding.encode($0.key))=\(PercentEncoding.encode($0.value))" }
                .joined(separator: "&")
            let again = try? OAuthTokenRequest.parameters(
                contentType: "application/x-www-form-urlencoded", body: Array(form.utf8))
            check(again == parameters, "parameters written as a form read back the same")
        }
        if let text = String(validating: body, as: UTF8.self), let fields = try? FormFields(Substring(text)) {
            check(fields.repeatedNames.allSatisfy { fields.fields[$0] != nil }, "a repeated name was seen first")
        }
    }

    /// A container's `forge-proxy-authorization` header: refused with a reason, or an installation
    /// and a principal that, written back as a header, read the same.
    static func forgeProxyAuthorization(_ bytes: UnsafeRawBufferPointer) {
        guard let value = String(validating: Array(bytes), as: UTF8.self) else { return }
        do {
            let parsed = try ForgeProxyAuthorization(value)
            check(!parsed.installationId.isEmpty, "an installation is named")
            if case .user(let accountId) = parsed.acting { check(!accountId.isEmpty, "as=user names a user") }
            check(
                (try? ForgeProxyAuthorization(parsed.headerValue)) == parsed, "the header written back reads the same")
        } catch {
            check(!error.explanation.isEmpty, "a refusal says why")
        }
    }

    /// A descriptor that reads has what an install relies on, and its installation survives the
    /// stored form; the lifecycle qsh is computed for every declared path.
    static func connectDescriptor(_ bytes: UnsafeRawBufferPointer) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        let descriptor: ConnectDescriptor
        do {
            descriptor = try ConnectDescriptor.read(value)
        } catch {
            check(!error.problems.isEmpty, "a refused descriptor names at least one problem")
            check(error.problems.allSatisfy { $0.path.hasPrefix("$") }, "every problem has a JSON path")
            return
        }
        check(!descriptor.key.isEmpty && descriptor.key.count <= 64, "the key has 1 to 64 characters")
        let lower = descriptor.baseUrl.lowercased()
        check(lower.hasPrefix("http://") || lower.hasPrefix("https://"), "the baseUrl is http(s)")
        check(!descriptor.baseUrl.hasSuffix("/"), "the baseUrl has no trailing slash")
        for path in descriptor.lifecycle.values {
            check(
                path.utf8.first == UInt8(ascii: "/") && !path.utf8.starts(with: "//".utf8) && !path.contains("://"),
                "a lifecycle path is relative: \(path)")
            _ = ConnectLifecycleJWT.Call(
                clientKey: "c", appBaseUrl: descriptor.baseUrl, lifecyclePath: path, subject: "s"
            ).queryStringHash()
        }
        let installation = ConnectInstallation(
            descriptorUrl: descriptor.baseUrl + "/atlassian-connect.json", baseUrl: descriptor.baseUrl,
            authentication: descriptor.authentication, lifecycle: descriptor.lifecycle, signing: .signed,
            state: .incomplete(reason: descriptor.name), installedBy: descriptor.key)
        check(ConnectInstallation(json: installation.json) == installation, "an installation reads back")
    }

    /// Whatever the sign-in form's `next` is, the browser is sent to a path of this site: the input
    /// itself or `/`; and whatever passes as an `AP.request` URL names no other host.
    static func sitePaths(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        let target = Array(SitePath.redirectTarget(text).utf8)
        check(target.first == UInt8(ascii: "/"), "a redirect target starts with /")
        check(
            target.count == 1 || (target[1] != UInt8(ascii: "/") && target[1] != UInt8(ascii: "\\")),
            "a redirect target never starts with // or /\\")
        check(!target.contains { $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }, "no space, control or \\")
        check(target == [UInt8(ascii: "/")] || target == Array(text.utf8), "the input itself, or /")
        if SitePath.isSiteRelative(text) {
            let utf8 = Array(text.utf8)
            check(utf8.first == UInt8(ascii: "/") && (utf8.count == 1 || utf8[1] != UInt8(ascii: "/")), "a path")
            check(URLHostProbe.host(of: text) == nil, "a site-relative path parses without a host")
        }
    }

    static func check(_ condition: @autoclosure () -> Bool, _ property: @autoclosure () -> String) {
        if !condition() { fatalError("property violated: \(property())") }
    }
}

/// What a URL parser makes of a string, relative to a site: the host it names, if any.
enum URLHostProbe {
    static func host(of text: String) -> String? {
        guard let base = URL(string: "https://site.example/"), let url = URL(string: text, relativeTo: base) else {
            return nil
        }
        let host = url.absoluteURL.host
        return host == "site.example" ? nil : host
    }
}
