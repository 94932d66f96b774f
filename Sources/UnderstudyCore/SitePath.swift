/// Paths a browser or an app's front end hands the site, checked on their bytes (spec 15, 16):
/// where to go after signing in, and what `AP.request` or `requestJira` may call. Browsers read
/// `//host`, `/\host` and a path with a tab or newline inside as somewhere else, so those never pass.
public enum SitePath {
    /// `next` when it is a path of this site, else `/`.
    public static func redirectTarget(_ next: String?) -> String {
        guard let next, isSiteRelative(next), !next.utf8.contains(UInt8(ascii: "\\")) else { return "/" }
        return next
    }

    /// Whether `url` is a path of this site: `/`, then anything but a second `/` or a `\`, with no
    /// spaces or control characters.
    public static func isSiteRelative(_ url: String) -> Bool {
        let bytes = Array(url.utf8)
        guard bytes.first == UInt8(ascii: "/") else { return false }
        if bytes.count > 1, bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\") { return false }
        return !bytes.contains { $0 < 0x21 || $0 == 0x7F }
    }
}
