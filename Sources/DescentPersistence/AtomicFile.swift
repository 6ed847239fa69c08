import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing files atomically, so that a reader sees either the old file or the whole new one.
///
/// The bytes go to a named temporary in the target's folder, `.NAME.descent-tmp-PID`, are flushed
/// to the disk (`fsync`) and renamed over the target; the folder is then synced so that the rename
/// itself survives a crash. A failed write removes its temporary and leaves the old file intact.
/// A process killed mid-write (`kill -9`) leaves its temporary behind: the next write to the same
/// folder removes the temporaries of processes that no longer run (``removeStaleTemporaries(in:)``).
///
/// Only regular files are replaced: a target that is a folder, a device (`/dev/null`), a pipe or
/// a socket is refused with ``AtomicFileError``, since renaming over it would replace the node
/// itself rather than write into it.
///
/// Every file Descent's command line writes (traces, plots, pages, checkpoints) goes through here.
///
/// - Complexity: one pass over the bytes, two `fsync`s and a directory listing of the folder.
package enum AtomicFile {
    /// The marker in temporary names: `.NAME` + marker + `PID`.
    package static let temporaryMarker = ".descent-tmp-"

    /// The temporary name used for `name` by the process `pid`.
    package static func temporaryName(for name: String, pid: Int32 = getpid()) -> String {
        "." + name + temporaryMarker + String(pid)
    }

    /// Writes `text` as UTF-8 to `url` atomically.
    package static func write(_ text: String, to url: URL) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0), to: url) }
    }

    /// Writes `data` to `url` atomically.
    package static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write($0, to: url) }
    }

    /// Writes `bytes` to `url` atomically (see the type's description).
    package static func write(_ bytes: UnsafeRawBufferPointer, to url: URL) throws {
        try write(to: url) { emit in try emit(bytes) }
    }

    /// Writes to `url` atomically from several buffers in sequence: `body` calls `emit` with each
    /// (a header, then arrays straight from their storage), so a large file is never gathered
    /// into one buffer first. Same conventions as the single-buffer write: named temporary,
    /// `fsync`, rename, folder sync; on any error (`body`'s included) the temporary is removed
    /// and `url` is untouched.
    /// - Complexity: one pass over the bytes, in writes of at most 1 GiB.
    package static func write(to url: URL, _ body: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        guard !name.isEmpty, name != "/", name != ".", name != ".." else {
            throw AtomicFileError(path: path, reason: "is not a file name")
        }
        try checkReplaceable(path)
        removeStaleTemporaries(in: url.deletingLastPathComponent())
        let temporary = (folder as NSString).appendingPathComponent(temporaryName(for: name))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, errno: errno) }
        var closed = false
        do {
            defer { if !closed { close(fd) } }
            try body { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc_write(fd, bytes.baseAddress! + offset, Swift.min(bytes.count - offset, 1 << 30))
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw AtomicFileError(path: path, errno: errno)
                    }
                    offset += written
                }
            }
            guard fsync(fd) == 0 else { throw AtomicFileError(path: path, errno: errno) }
            closed = true
            guard close(fd) == 0 else { throw AtomicFileError(path: path, errno: errno) }
            try checkReplaceable(path)
            guard rename(temporary, path) == 0 else { throw AtomicFileError(path: path, errno: errno) }
        } catch {
            unlink(temporary)
            throw error
        }
        syncFolder(folder.isEmpty ? "." : folder)
    }

    /// Throws when `path` exists and is not a regular file (or a symbolic link to one): the check
    /// ``write(_:to:)-(UnsafeRawBufferPointer,_)`` makes, for callers that want to fail before working.
    package static func checkReplaceable(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { return }  // absent (or unreachable: the open reports it)
        let kind = info.st_mode & S_IFMT
        switch kind {
        case S_IFREG: return
        case S_IFDIR: throw AtomicFileError(path: path, reason: "is a directory")
        case S_IFCHR, S_IFBLK:
            throw AtomicFileError(path: path, reason: "is a device, not a regular file (files are written by replacing them)")
        case S_IFIFO: throw AtomicFileError(path: path, reason: "is a pipe, not a regular file (files are written by replacing them)")
        default: throw AtomicFileError(path: path, reason: "is not a regular file")
        }
    }

    /// Removes the temporaries `.NAME.descent-tmp-PID` in `folder` whose process no longer runs.
    /// Returns the names removed. Errors are ignored (another process may remove them first).
    @discardableResult
    package static func removeStaleTemporaries(in folder: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let marker = name.range(of: temporaryMarker, options: .backwards),
                  let pid = Int32(name[marker.upperBound...]), pid > 0 else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH {
                if unlink((folder.path as NSString).appendingPathComponent(name)) == 0 { removed.append(name) }
            }
        }
        return removed
    }

    static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

@inline(__always)
private func Glibc_write(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, pointer, count)
    #else
    return Darwin.write(fd, pointer, count)
    #endif
}

/// A file that could not be written: the path and the reason (the system's, e.g. "Permission
/// denied", or "is a directory").
public struct AtomicFileError: Error, LocalizedError, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    init(path: String, errno code: Int32) {
        self.init(path: path, reason: String(cString: strerror(code)))
    }

    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}
