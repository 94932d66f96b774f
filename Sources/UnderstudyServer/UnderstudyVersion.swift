/// Understudy's own version: what `understudy --version` prints and what every package built from
/// this repository (the binary's archive, the Python wheel, the npm tarball) carries. `Scripts/package`
/// checks that they agree.
public enum UnderstudyVersion {
    public static let current = "0.3.0"
}
