import ArgumentParser
import DescentLinearAlgebra
import Foundation

/// `descent doctor`: what this machine and this build give Descent — OpenBLAS's kernel set
/// (and who chose it), threads and configuration, the processor's vector extensions, the
/// build, Open MPI and the data sets. Reads only; changes nothing.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what Descent runs on: BLAS kernels and threads, CPU flags, the build, Open MPI, data sets.",
        discussion: """
            When OpenBLAS falls back to its generic kernels on a processor with AVX2 and FMA and OPENBLAS_CORETYPE
            is unset, descent runs itself again with OPENBLAS_CORETYPE=Haswell before any BLAS call; a user's
            OPENBLAS_CORETYPE always wins, and DESCENT_BLAS_CORE=keep turns this off. This command says which happened.
            """)

    /// The CPU flags worth naming for BLAS kernels and the optimizers' loops.
    static let vectorFlags = ["sse2", "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "amx_tile"]

    func run() throws {
        for (key, value) in Self.report() { print(key.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
    }

    /// The report's lines as (label, value) pairs.
    static func report() -> [(String, String)] {
        let flags = OpenBLAS.cpuFlags()
        var lines: [(String, String)] = [
            ("descent:", "\(VersionInfo.number), \(VersionInfo.compiler), \(buildConfiguration)"),
            ("OpenBLAS:", OpenBLAS.summary),
            ("kernels:", KernelSelection.current.explanation),
            ("LAPACK:", VersionInfo.lapackLibrary),
            ("CPU:", cpuModel()),
            ("flags:", vectorFlags.map { flags.contains($0) ? $0 : "-\($0)" }.joined(separator: " ")),
            ("Open MPI:", openMPI()),
        ]
        lines += dataSets()
        lines.append(("hint:", OpenBLAS.machineKernelHint ?? "none"))
        return lines
    }

    /// Debug or release, the architecture, and the target CPU of the Swift code.
    static var buildConfiguration: String {
        #if DEBUG
        let mode = "debug build"
        #else
        let mode = "release build"
        #endif
        #if arch(x86_64)
        let arch = "x86_64 (the optimizers' loops use the compiler's target CPU: baseline x86-64 unless built with -Xswiftc -target-cpu -Xswiftc native)"
        #elseif arch(arm64)
        let arch = "arm64"
        #else
        let arch = "other architecture"
        #endif
        return "\(mode), \(arch)"
    }

    /// The `model name` of the first processor in /proc/cpuinfo, with the core count.
    static func cpuModel() -> String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
              let colon = line.firstIndex(of: ":") else { return "\(cores) core(s)" }
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) + ", \(cores) core(s) available"
    }

    /// Where `mpirun` is on PATH, or how to install Open MPI.
    static func openMPI() -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/mpirun"
            if FileManager.default.isExecutableFile(atPath: candidate) { return "mpirun at \(candidate) (descent run --distributed under mpirun -np P)" }
        }
        return "not installed (apt-get install openmpi-bin libopenmpi-dev; scripts/install-deps does it)"
    }

    /// The bundled data sets and Debian's Fashion-MNIST.
    static func dataSets() -> [(String, String)] {
        let fashion = "/usr/share/datasets/fashion-mnist"
        var isDirectory: ObjCBool = false
        let installed = FileManager.default.fileExists(atPath: fashion, isDirectory: &isDirectory) && isDirectory.boolValue
        return [
            ("data:", "bundled breast-cancer, digits"),
            ("", "fashion-mnist " + (installed ? "installed at \(fashion)" : "not installed (apt-get install dataset-fashion-mnist; scripts/install-deps does it)")),
        ]
    }
}
