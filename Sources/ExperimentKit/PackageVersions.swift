// The exact versions of the Swift packages this artifact is built with. Package.swift pins them
// with `exact:` (Package.resolved cannot be committed on the project's machines), and a test
// checks that these constants say the same, so config.json records what was really linked.

/// Pinned Swift package versions and the compiler that built this binary.
public enum PackageVersions {
    /// Package URL's last component -> version, as pinned in Package.swift.
    public static let pinned: [String: String] = [
        "swift-argument-parser": "1.8.2",
        "swift-numerics": "1.1.1",
    ]

    /// The Swift compiler version that built this binary, to the patch level known here.
    public static let compiler: String = {
        #if compiler(>=6.4)
        return "6.4 or later"
        #elseif compiler(>=6.3.2)
        return "6.3.2"
        #elseif compiler(>=6.3.1)
        return "6.3.1"
        #elseif compiler(>=6.3)
        return "6.3.0"
        #else
        return "earlier than 6.3"
        #endif
    }()
}
