import Foundation
import Testing

/// `descent doctor` reports the machine, and the kernel choice never reaches the user's streams:
/// `run` and `compare` print their results only, on any kernel set.
@Suite struct DoctorTests {
    @Test func doctorReportsKernelsThreadsFlagsMPIAndData() throws {
        let result = try descent(["doctor"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        for label in ["descent:", "OpenBLAS:", "kernels:", "LAPACK:", "CPU:", "flags:", "Open MPI:", "data:", "hint:"] {
            #expect(result.stdout.contains("\n\(label)") || result.stdout.hasPrefix(label), "missing \(label) in \(result.stdout)")
        }
        #expect(result.stdout.contains("fashion-mnist"))
    }

    /// With the switch off, the report says the generic kernels were kept (on a machine where
    /// OpenBLAS chose generic kernels) or names OpenBLAS's or the user's choice — never that
    /// descent set them.
    @Test func keepSwitchNeverReplacesTheKernels() throws {
        let result = try descent(["doctor"], extraEnvironment: ["DESCENT_BLAS_CORE": "keep"])
        #expect(result.status == 0)
        let kernels = result.stdout.split(separator: "\n").first { $0.hasPrefix("kernels:") } ?? ""
        #expect(!kernels.contains("set by descent"), "\(kernels)")
    }

    /// A run's standard error is empty on success, whatever OpenBLAS chose (the kernel hint lives
    /// in `descent doctor` and `descent bench`'s header only).
    @Test(arguments: [[:], ["DESCENT_BLAS_CORE": "keep"]])
    func runPrintsNothingOnStandardError(_ environment: [String: String]) throws {
        let result = try descent(["run", "--problem", "logistic", "--optimizer", "adam", "--steps", "3", "--quiet"],
                                 extraEnvironment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.contains("final loss:"))
    }

    /// One error line, nothing before it.
    @Test func anErrorIsOneLine() throws {
        let result = try descent(["run", "--problem", "logistic", "--optimizer", "adam", "--lr", "-1"],
                                 extraEnvironment: ["DESCENT_BLAS_CORE": "keep"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("descent: error:"))
    }
}
