import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing files atomically, so that a reader sees either the old file or the whole new one.
///
/// The bytes go to a named temporary in the target's folder, `.NAME.descent-tmp-PID` (NAME cut
/// to keep it within 255 bytes, see ``temporaryName(for:pid:)``), are flushed
/// to the disk (`fsync`) and renamed over the target; the folder is then synced so that the rename
/// itself survives a crash. A failed write removes its temporary and leaves the old file intact.
/// A process killed mid-write (`kill -9`) leaves its temporary behind: the next write to the same
/// folder removes the temporaries of processes that no longer run (``removeStaleTemporaries(in:target:)``).
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

    /// The longest file name (in UTF-8 bytes) the common file systems take (`NAME_MAX`).
    public static let nameLimit = 255

    /// The temporary name used for `name` by the process `pid`: `.NAME.descent-tmp-PID`, within
    /// ``nameLimit`` bytes. When that is too long, NAME is cut (at a character boundary) and
    /// followed by `~` and 8 hex digits of a hash of the whole name, so that a target whose name
    /// takes the full 255 bytes still has a temporary beside it, distinct from other targets'.
    public static func temporaryName(for name: String, pid: Int32 = getpid()) -> String {
        let suffix = temporaryMarker + String(pid)
        let full = "." + name + suffix
        guard full.utf8.count > nameLimit else { return full }
        // FNV-1a over the name's bytes: stable across runs and platforms.
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let tag = "~" + String(hash, radix: 16).leftPadded(to: 8)
        let room = nameLimit - 1 - tag.utf8.count - suffix.utf8.count
        var prefix = ""
        for character in name {
            guard prefix.utf8.count + String(character).utf8.count <= room else { break }
            prefix.append(character)
        }
        return "." + prefix + tag + suffix
    }

    /// What kind of node `mode` (`st_mode`) is, for messages: "a directory", "a named pipe (FIFO)", ….
    public static func kindDescription(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// Throws ``AtomicFileError`` unless `path` names a regular file (or a symbolic link to one)
    /// that exists; returns its size in bytes. Devices, pipes and sockets are refused by name
    /// ("is a named pipe (FIFO), not a regular file"): reading one could block forever
    /// (a FIFO without a writer) or never end (`/dev/zero`, `/dev/urandom`).
    /// - Complexity: one `stat`.
    @discardableResult
    public static func regularFileSize(_ path: String) throws -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { throw AtomicFileError(path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw AtomicFileError(path: path, reason: "is \(kindDescription(info.st_mode)), not a regular file")
        }
        return Int(info.st_size)
    }

    /// The bytes of the regular file at `path`, at most `limit` of them.
    ///
    /// The file is opened without blocking and checked with `fstat` on the open descriptor (no
    /// race with a rename): a directory, device, pipe or socket is refused by name, and a file
    /// larger than `limit` (or growing past it while read) is refused with its size.
    /// - Throws: ``AtomicFileError`` with the system's reason or the file's kind.
    /// - Complexity: one pass over the file.
    public static func readRegularFile(_ path: String, limit: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFileError(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw AtomicFileError(path: path, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw AtomicFileError(path: path, reason: "is \(kindDescription(info.st_mode)), not a regular file")
        }
        let size = Int(info.st_size)
        func tooLarge(_ bytes: Int) -> AtomicFileError {
            AtomicFileError(path: path, reason: "is \(bytes) bytes, more than the \(limit) bytes that can be read into memory")
        }
        guard size <= limit else { throw tooLarge(size) }
        var data = Data(count: size)
        var filled = 0
        try data.withUnsafeMutableBytes { buffer in
            while filled < size {
                let n = read(fd, buffer.baseAddress! + filled, Swift.min(size - filled, 1 << 30))
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw AtomicFileError(path: path, errno: errno)
                }
                if n == 0 { break }
                filled += n
            }
        }
        data.count = filled
        // A file that grew since fstat: read the rest, within the limit.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw AtomicFileError(path: path, errno: errno)
            }
            if n == 0 { break }
            guard data.count + n <= limit else { throw tooLarge(data.count + n) }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
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
        removeStaleTemporaries(in: url.deletingLastPathComponent(), target: name)
        let temporary = (folder as NSString).appendingPathComponent(temporaryName(for: name))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: path, errno: errno) }
        // Held until the descriptor closes (or the process dies): marks the temporary as in use.
        _ = flock(fd, LOCK_EX | LOCK_NB)
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

    /// Throws ``AtomicFileError`` unless ``write(to:_:)`` could write `url` now: the target is
    /// absent or a regular file, and its temporary can be created in the folder (which exists,
    /// is writable, and takes the name). The temporary is created and removed again; nothing
    /// else changes. For callers that must know before a long computation that its result can be
    /// saved.
    /// - Complexity: one `stat`, one `open` and one `unlink`.
    public static func checkWritable(_ url: URL) throws {
        let path = url.path
        let name = url.lastPathComponent
        guard !name.isEmpty, name != "/", name != ".", name != ".." else {
            throw AtomicFileError(path: path, reason: "is not a file name")
        }
        try checkReplaceable(path)
        let folder = url.deletingLastPathComponent().path
        let temporary = (folder as NSString).appendingPathComponent(temporaryName(for: name))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { return }  // this process is writing it already
            throw AtomicFileError(path: path, errno: code)
        }
        close(fd)
        unlink(temporary)
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

    /// Removes the temporaries `.NAME.descent-tmp-PID` in `folder` whose process no longer runs,
    /// and, for `target` (a file name in `folder`), its temporaries that no writer holds: a writer
    /// keeps an `flock` on its temporary until it renames or dies, so a temporary left by a
    /// process killed mid-write is found even when its PID was reused. Returns the names
    /// removed. Errors are ignored (another process may remove them first).
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL, target: String? = nil) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let marker = name.range(of: temporaryMarker, options: .backwards),
                  let pid = Int32(name[marker.upperBound...]), pid > 0, pid != getpid() else { continue }
            let path = (folder.path as NSString).appendingPathComponent(name)
            if kill(pid, 0) != 0, errno == ESRCH {
                if unlink(path) == 0 { removed.append(name) }
            } else if let target, name == temporaryName(for: target, pid: pid) {
                let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                guard fd >= 0 else { continue }
                if flock(fd, LOCK_EX | LOCK_NB) == 0, unlink(path) == 0 { removed.append(name) }
                close(fd)
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

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
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

    public var description: String { "\(MessageValue.clip(path)): \(reason)" }
    public var errorDescription: String? { description }
}
