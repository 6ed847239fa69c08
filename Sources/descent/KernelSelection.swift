import DescentLinearAlgebra
import Foundation

/// Runs the `descent` process again with OpenBLAS's fast kernels when OpenBLAS fell back to its
/// generic ones (``OpenBLAS/coreSelection(environment:core:cpuFlags:)``), before any BLAS call:
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, when it is loaded, so the variable can only take
/// effect in a new process image. `execv` keeps the process id, so a launcher (a shell, mpirun)
/// sees one process. A user's `OPENBLAS_CORETYPE` always wins; `DESCENT_BLAS_CORE=keep` turns
/// this off; `descent doctor` says which happened.
enum KernelSelection {
    /// The decision for this process (what `descent doctor` prints).
    static var current: OpenBLAS.CoreSelection {
        OpenBLAS.coreSelection(environment: ProcessInfo.processInfo.environment, core: OpenBLAS.coreName,
                               cpuFlags: OpenBLAS.cpuFlags())
    }

    /// Re-executes the process with the preferred kernel set when the decision says so; returns
    /// (and runs on the generic kernels) if `execv` fails.
    static func reexecuteIfGeneric() {
        guard case .reexecute(let core, let generic) = current else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv(OpenBLAS.CoreSelection.markerVariable, core, 1)
        setenv(OpenBLAS.CoreSelection.replacedVariable, generic, 1)
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // Not reached unless execv failed: leave the environment as it was.
        for p in argv { free(p) }
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(OpenBLAS.CoreSelection.markerVariable)
        unsetenv(OpenBLAS.CoreSelection.replacedVariable)
    }
}
