import CBLAS
import Foundation

/// What OpenBLAS runs on: the kernel set it chose (`openblas_get_corename()`), its threads and
/// its build configuration. Read-only: nothing here changes OpenBLAS's settings.
public enum OpenBLAS {
    /// The kernel set OpenBLAS selected at load time, e.g. "Haswell", "SkylakeX", or "Prescott"
    /// (the generic x86-64 kernels an OpenBLAS release falls back to on a processor it does not
    /// recognize; `OPENBLAS_CORETYPE` overrides the choice).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The number of threads OpenBLAS uses (`openblas_get_num_threads()`).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The processors OpenBLAS sees (`openblas_get_num_procs()`).
    public static var processors: Int { Int(openblas_get_num_procs()) }

    /// OpenBLAS's build configuration string (`openblas_get_config()`), e.g. its version.
    public static var configuration: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p).trimmingCharacters(in: .whitespaces)
    }

    /// One line: core, threads, configuration.
    public static var summary: String {
        "OpenBLAS core \(coreName), \(threads) thread(s) of \(processors) processor(s); \(configuration)"
    }

    /// The generic kernel sets, chosen when OpenBLAS does not recognize the processor.
    public static let genericCores: Set<String> = ["prescott", "core2", "nehalem", "katmai", "coppermine", "northwood", "banias", "generic"]

    /// A one-line hint when OpenBLAS runs generic kernels (`core`) on a processor whose
    /// `/proc/cpuinfo` `flags` include AVX-512 or AVX2 (given as `flags`); nil otherwise.
    /// Pure: the caller reads the values and prints the line.
    public static func kernelHint(core: String, cpuFlags flags: Set<String>) -> String? {
        guard genericCores.contains(core.lowercased()) else { return nil }
        let suggestion: String
        if flags.contains("avx512f") {
            suggestion = "SkylakeX"
        } else if flags.contains("avx2") && flags.contains("fma") {
            suggestion = "Haswell"
        } else {
            return nil
        }
        return "hint: OpenBLAS runs its generic \(core) kernels on a processor with \(suggestion == "SkylakeX" ? "AVX-512" : "AVX2"); "
            + "setting OPENBLAS_CORETYPE=\(suggestion) (or Haswell) typically makes factorizations ~2× faster (Descent does not change it)"
    }

    /// The `flags` of the first processor in `/proc/cpuinfo` (empty when unreadable, e.g. not Linux).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// ``kernelHint(core:cpuFlags:)`` for this machine and this OpenBLAS.
    public static var machineKernelHint: String? { kernelHint(core: coreName, cpuFlags: cpuFlags()) }
}
