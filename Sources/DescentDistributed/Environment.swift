internal import CMPI
import Foundation

/// The process's MPI runtime: initialized once, on first use (`MPI_Init_thread` with
/// `MPI_THREAD_SERIALIZED`: any thread may call MPI, one at a time), finalized once at exit (or
/// by ``finalize()``). Without `mpirun` Open MPI starts as a singleton: one rank.
public enum MPIEnvironment {
    /// The outcome of the one initialization (a Swift global: initialized once, thread-safely).
    private static let initialization: Result<Void, MPIError> = {
        var provided: Int32 = 0
        let rc = MPI_Init_thread(nil, nil, cmpi_thread_serialized(), &provided)
        if rc != cmpi_success() { return .failure(.call(function: "MPI_Init_thread", code: rc, message: errorString(rc))) }
        // Errors of calls on MPI_COMM_WORLD come back as codes from now on.
        let rc2 = MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return())
        if rc2 != cmpi_success() { return .failure(.call(function: "MPI_Comm_set_errhandler", code: rc2, message: errorString(rc2))) }
        atexit { MPIEnvironment.finalize() }
        return .success(())
    }()

    /// Initializes MPI if nothing did yet. - Throws: ``MPIError`` when MPI cannot start.
    public static func initialize() throws {
        if isFinalized { throw MPIError.finalized }
        try initialization.get()
    }

    /// True once `MPI_Finalize` ran.
    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// True once MPI is initialized (by this type or by someone else).
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// Finalizes MPI (collective: every rank must call it, or exit normally, which calls it).
    /// Idempotent; does nothing if MPI never started.
    public static func finalize() {
        guard isInitialized, !isFinalized else { return }
        MPI_Finalize()
    }

    /// The rank of this process in the job as set by `mpirun` (from the environment, before MPI
    /// starts), or nil outside `mpirun`.
    public static var launcherRank: Int? {
        for key in ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"] {
            if let v = ProcessInfo.processInfo.environment[key], let r = Int(v) { return r }
        }
        return nil
    }

    /// True when this process was started by `mpirun` as a rank other than 0: such a rank
    /// prints nothing, so that a message appears once.
    public static var isSecondaryRank: Bool { (launcherRank ?? 0) != 0 }

    /// Writes `message` once on stderr, prefixed with the rank, then ends every rank of the job
    /// with `MPI_Abort` (exit status `code`): a rank that fails never leaves the others waiting
    /// in a collective.
    public static func abort(_ message: String, code: Int32 = 1) -> Never {
        var rank: Int32 = 0
        if isInitialized && !isFinalized { MPI_Comm_rank(cmpi_comm_world(), &rank) }
        FileHandle.standardError.write(Data("descent: rank \(rank): error: \(message); aborting all ranks\n".utf8))
        if isInitialized && !isFinalized { MPI_Abort(cmpi_comm_world(), code) }
        exit(code)
    }

    /// Open MPI's message for an error code.
    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        let rc = MPI_Error_string(code, &buffer, &length)
        guard rc == cmpi_success() else { return "unknown MPI error" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Throws ``MPIError/call(function:code:message:)`` unless `code` is `MPI_SUCCESS`.
    @inline(__always)
    static func check(_ code: Int32, _ function: @autoclosure () -> String) throws {
        if code != 0 { throw MPIError.call(function: function(), code: code, message: errorString(code)) }
    }
}
