import DescentLinearAlgebra
import Foundation

/// `descent --version`: the tool's version, the Swift compiler it was built with, OpenBLAS's
/// kernel set and threads, and the LAPACK library that `potrf` resolves to at run time.
enum VersionInfo {
    /// The tool's version.
    static let number = "0.9.0-dev"

    /// The Swift compiler's language version at build time (`#if compiler(…)`).
    static var compiler: String {
        #if compiler(>=6.5)
        return "Swift 6.5 or later"
        #elseif compiler(>=6.4)
        return "Swift 6.4"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #elseif compiler(>=6.1)
        return "Swift 6.1"
        #else
        return "Swift 6.0"
        #endif
    }

    /// The LAPACK shared libraries mapped into this process (from /proc/self/maps, symlinks
    /// resolved), e.g. LAPACKE and the LAPACK that Debian's alternatives chose (OpenBLAS's own
    /// or the reference one).
    static var lapackLibrary: String {
        // /proc files report size 0: read to the end rather than by the size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps") else { return "unknown (no /proc/self/maps)" }
        defer { try? handle.close() }
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        var seen: [String] = []
        for line in maps.split(separator: "\n") {
            guard let slash = line.firstIndex(of: "/") else { continue }
            let path = String(line[slash...])
            guard path.lowercased().contains("lapack") || path.contains("libopenblas") else { continue }
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if !seen.contains(real) { seen.append(real) }
        }
        return seen.isEmpty ? "unknown (no LAPACK library mapped)" : seen.joined(separator: ", ")
    }

    /// The lines `descent --version` prints.
    static var text: String {
        """
        descent \(number)
        compiler: \(compiler)
        OpenBLAS: core \(OpenBLAS.coreName), \(OpenBLAS.threads) thread(s) of \(OpenBLAS.processors) processor(s); \(OpenBLAS.configuration)
        LAPACK: \(lapackLibrary)
        """
    }
}
