import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyCore

/// A Forge app's Custom UI files (spec 17), served from the resource's folder: `index.html` with the
/// bridge injected before the app's own scripts, and its assets. Files outside the folder are never
/// served, whatever the path or a symbolic link says. No session is needed, as on Forge's CDN: the
/// frame is sandboxed, so its own requests carry no cookie.
extension UnderstudyResponder {
    /// A Custom UI's files are a built web app; one larger than this is not served.
    static let maximumResourceFileBytes = 32 * 1024 * 1024

    static let contentTypes: [String: String] = [
        "html": "text/html;charset=UTF-8", "htm": "text/html;charset=UTF-8", "js": "text/javascript;charset=UTF-8",
        "mjs": "text/javascript;charset=UTF-8", "css": "text/css;charset=UTF-8", "json": "application/json",
        "map": "application/json", "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg",
        "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp", "ico": "image/x-icon", "woff": "font/woff",
        "woff2": "font/woff2", "ttf": "font/ttf", "txt": "text/plain;charset=UTF-8", "wasm": "application/wasm",
    ]

    func forgeResourceFile(
        _ request: Request, app named: String, resourceKey: String, file: [String], builder: ResponseBuilder
    ) async throws -> Response {
        func notFound(_ reason: String) -> Response {
            var response = builder.html(
                .notFound, HostPages.notFound(title: "Not found", message: reason, user: nil), explanation: reason)
            response.headers[.contentSecurityPolicy] = Self.resourcePolicy
            return response
        }
        guard request.method == .get || request.method == .head else {
            return notFound("A Custom UI's files are read with GET.")
        }
        guard let app = try await store.forge.forgeApp(appId: FrontEndRoute.appId(named)),
            let resource = app.resource(key: resourceKey)
        else {
            return notFound(
                "No Forge app \(FrontEndRoute.appId(named)) with a resource \(resourceKey) is on this site.")
        }
        var parts = file
        if parts.last == "" { parts[parts.count - 1] = "index.html" }
        guard
            parts.allSatisfy({ part in
                !part.isEmpty && part != "." && part != ".." && !part.contains("/") && !part.contains("\\")
                    && !part.unicodeScalars.contains { $0.value < 0x20 }
            })
        else {
            return notFound(
                "A Custom UI file is named by a plain path inside the resource's folder, without . or .. parts.")
        }
        let root = URL(fileURLWithPath: resource.path, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath()
        let wanted = parts.reduce(root) { $0.appendingPathComponent($1) }.resolvingSymlinksInPath()
        guard wanted.path.hasPrefix(root.path.hasSuffix("/") ? root.path : root.path + "/") else {
            return notFound("\(parts.joined(separator: "/")) leads outside resource \(resourceKey)'s folder.")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: wanted.path, isDirectory: &isDirectory), !isDirectory.boolValue
        else {
            return notFound(
                "Resource \(resourceKey) of Forge app \(app.name) has no file \(parts.joined(separator: "/")) in \(root.path)."
            )
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: wanted.path)
        if let size = attributes?[.size] as? Int, size > Self.maximumResourceFileBytes {
            return notFound("\(parts.joined(separator: "/")) is larger than \(Self.maximumResourceFileBytes) bytes.")
        }
        guard var bytes = FileManager.default.contents(atPath: wanted.path) else {
            return notFound("\(wanted.path) could not be read.")
        }
        let suffix = wanted.pathExtension.lowercased()
        let isHTML = suffix == "html" || suffix == "htm"
        if isHTML { bytes = Self.injectingBridge(into: bytes) }
        var headers = HTTPFields()
        headers.append(HTTPField(name: ResponseBuilder.requestIdHeader, value: builder.requestId))
        headers.append(
            HTTPField(name: .contentType, value: Self.contentTypes[suffix] ?? "application/octet-stream"))
        headers.append(HTTPField(name: .cacheControl, value: "no-cache"))
        headers.append(HTTPField(name: HTTPField.Name("X-Content-Type-Options")!, value: "nosniff"))
        if isHTML { headers.append(HTTPField(name: .contentSecurityPolicy, value: Self.resourcePolicy)) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A Custom UI page runs sandboxed (an opaque origin, whoever opens it) and only inside this site.
    static let resourcePolicy =
        "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; frame-ancestors 'self'"

    /// `index.html` with the bridge's script first in `<head>` (or first of all, without one).
    static func injectingBridge(into html: Data) -> Data {
        let tag = Array("<script src=\"\(HostScripts.bridgePath)\"></script>".utf8)
        let bytes = [UInt8](html)
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        let head = Array("<head".utf8)
        if let start = lower.firstRange(of: head),
            let close = lower[start.upperBound...].firstIndex(of: UInt8(ascii: ">")),
            start.upperBound == lower.count
                || [UInt8(ascii: ">"), 0x20, 0x09, 0x0A, 0x0D].contains(lower[start.upperBound])
        {
            return Data(bytes[...close] + tag + bytes[(close + 1)...])
        }
        return Data(tag + bytes)
    }
}
