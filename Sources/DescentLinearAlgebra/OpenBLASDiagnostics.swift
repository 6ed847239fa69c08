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

    /// The kernel set worth asking for when OpenBLAS runs its generic kernels (`core`) on a
    /// processor whose `/proc/cpuinfo` flags (`flags`) include AVX2 and FMA: `"Haswell"`; nil
    /// otherwise. Haswell rather than SkylakeX also on AVX-512 processors: OpenBLAS 0.3.21's
    /// Haswell kernels are the ones measured correct and fast on processors it does not know.
    public static func preferredCore(core: String, cpuFlags flags: Set<String>) -> String? {
        guard genericCores.contains(core.lowercased()), flags.contains("avx2"), flags.contains("fma") else { return nil }
        return "Haswell"
    }

    /// A one-line hint when OpenBLAS runs generic kernels (`core`) on a processor where
    /// ``preferredCore(core:cpuFlags:)`` names a faster set; nil otherwise. Pure: the caller reads
    /// the values and decides where to show the line (`descent doctor`, `descent bench`'s header).
    public static func kernelHint(core: String, cpuFlags flags: Set<String>) -> String? {
        guard let suggestion = preferredCore(core: core, cpuFlags: flags) else { return nil }
        return "OpenBLAS runs its generic \(core) kernels on a processor with AVX2 and FMA; "
            + "OPENBLAS_CORETYPE=\(suggestion) in the environment makes factorizations and solves ~2× faster"
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

    /// The decision a program makes before its first BLAS call about which kernel set to run:
    /// a user's `OPENBLAS_CORETYPE` always wins, `DESCENT_BLAS_CORE=keep` keeps what OpenBLAS
    /// chose, and otherwise a generic core on an AVX2/FMA processor is replaced by
    /// ``preferredCore(core:cpuFlags:)``. Pure: `environment` and the values are the caller's.
    public static func coreSelection(environment: [String: String], core: String, cpuFlags flags: Set<String>) -> CoreSelection {
        if let user = environment["OPENBLAS_CORETYPE"], !user.isEmpty {
            if let chosen = environment[CoreSelection.markerVariable], chosen == user { return .selected(user, replacing: environment[CoreSelection.replacedVariable] ?? "generic") }
            return .userSetting(user)
        }
        guard let preferred = preferredCore(core: core, cpuFlags: flags) else { return .openBLASChoice(core) }
        if environment["DESCENT_BLAS_CORE"] == "keep" { return .kept(core, preferred: preferred) }
        return .reexecute(with: preferred, replacing: core)
    }

    /// What ``coreSelection(environment:core:cpuFlags:)`` decided.
    public enum CoreSelection: Equatable, Sendable {
        /// `OPENBLAS_CORETYPE` was set by the user (or the environment): never overridden.
        case userSetting(String)
        /// OpenBLAS's own choice is already the fastest known (not a generic core, or a processor
        /// without AVX2/FMA).
        case openBLASChoice(String)
        /// A generic core kept because `DESCENT_BLAS_CORE=keep`.
        case kept(String, preferred: String)
        /// The process should run itself again with `OPENBLAS_CORETYPE` set to the first value.
        case reexecute(with: String, replacing: String)
        /// The process was run again by Descent with this kernel set, replacing the generic one.
        case selected(String, replacing: String)

        /// The environment variable a program sets, with the chosen kernel set, when it runs itself again.
        public static let markerVariable = "DESCENT_BLAS_CORE_SELECTED"
        /// The environment variable holding the generic core that was replaced.
        public static let replacedVariable = "DESCENT_BLAS_CORE_REPLACED"

        /// One line for `descent doctor`.
        public var explanation: String {
            switch self {
            case .userSetting(let core): return "\(core), from OPENBLAS_CORETYPE in the environment (a user's setting always wins)"
            case .openBLASChoice(let core): return "\(core), OpenBLAS's own choice"
            case .kept(let core, let preferred):
                return "\(core), kept because DESCENT_BLAS_CORE=keep (\(preferred) would be ~2× faster for factorizations)"
            case .reexecute(let core, let generic): return "\(generic) now; \(core) after descent runs itself again"
            case .selected(let core, let generic):
                return "\(core), set by descent (OpenBLAS chose its generic \(generic) kernels; DESCENT_BLAS_CORE=keep turns this off)"
            }
        }
    }
}
