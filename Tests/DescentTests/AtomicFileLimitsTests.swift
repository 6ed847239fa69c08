import Descent
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// AtomicFile at the limits: names of up to 255 bytes, temporaries left by a killed writer whose
/// PID now belongs to another process, and reads of inputs that are not regular files.
@Suite struct AtomicFileLimitsTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-atomic-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every temporary name fits in 255 bytes; long names keep a recognizable prefix, the marker
    /// and the PID, and two long names differing only at the end get different temporaries.
    @Test func temporaryNamesFitTheLimit() throws {
        for length in [1, 200, 230, 240, 250, 255] {
            for unit in ["c", "é", "日"] {
                var name = ""
                while name.utf8.count + unit.utf8.count <= length { name += unit }
                let temporary = AtomicFile.temporaryName(for: name, pid: Int32.max)
                #expect(temporary.utf8.count <= AtomicFile.nameLimit, "\(length) bytes of \(unit)")
                #expect(temporary.hasPrefix("." + String(name.prefix(10))))
                #expect(temporary.hasSuffix(AtomicFile.temporaryMarker + "\(Int32.max)"))
            }
        }
        let a = String(repeating: "x", count: 254) + "a", b = String(repeating: "x", count: 254) + "b"
        #expect(AtomicFile.temporaryName(for: a, pid: 7) != AtomicFile.temporaryName(for: b, pid: 7))
        #expect(AtomicFile.temporaryName(for: "short", pid: 7) == ".short.descent-tmp-7")

        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = dir.appendingPathComponent(String(repeating: "é", count: 127))  // 254 bytes
        try AtomicFile.write("long", to: long)
        try AtomicFile.write("longer", to: long)
        #expect(try String(contentsOf: long, encoding: .utf8) == "longer")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [long.lastPathComponent])
    }

    /// A temporary of the same target whose PID is alive (PID 1: the reuse case) but that no
    /// writer holds is removed by the next write; one of another target with a live PID stays.
    @Test func unheldTemporaryOfTheSameTargetIsRemoved() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let reused = AtomicFile.temporaryName(for: "state.ckpt", pid: 1)
        try Data(count: 64).write(to: dir.appendingPathComponent(reused))
        let other = AtomicFile.temporaryName(for: "other.ckpt", pid: 1)
        try Data(count: 64).write(to: dir.appendingPathComponent(other))
        try AtomicFile.write("new", to: dir.appendingPathComponent("state.ckpt"))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["state.ckpt", other])
    }

    /// A held temporary (a writer still at work) is left alone.
    @Test func heldTemporaryStays() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let held = dir.appendingPathComponent(AtomicFile.temporaryName(for: "x.ckpt", pid: 1))
        try Data(count: 8).write(to: held)
        // flock locks belong to the open file description: a second open cannot take it.
        let fd = open(held.path, O_RDONLY)
        #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
        defer { close(fd) }
        let removed = AtomicFile.removeStaleTemporaries(in: dir, target: "x.ckpt")
        #expect(removed.isEmpty)
        #expect(FileManager.default.fileExists(atPath: held.path))
    }

    /// Reading refuses, by kind, what is not a regular file, and a file above the limit; the
    /// error names the path and the reason, at once (a FIFO without a writer blocked forever).
    @Test(.timeLimit(.minutes(1))) func readsOnlyRegularFilesWithinTheLimit() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o600) == 0)
        for (path, kind) in [(fifo, "a named pipe (FIFO)"), ("/dev/zero", "a character device"), (dir.path, "a directory")] {
            do {
                _ = try AtomicFile.readRegularFile(path, limit: 1 << 20)
                Issue.record("\(path) was read")
            } catch let error as AtomicFileError {
                #expect(error.reason == "is \(kind), not a regular file", "\(error)")
            }
            #expect(throws: AtomicFileError.self) { try AtomicFile.regularFileSize(path) }
        }
        let file = dir.appendingPathComponent("f.csv")
        try Data(repeating: 65, count: 1000).write(to: file)
        #expect(try AtomicFile.readRegularFile(file.path, limit: 1000).count == 1000)
        #expect(try AtomicFile.regularFileSize(file.path) == 1000)
        #expect(throws: AtomicFileError.self) { try AtomicFile.readRegularFile(file.path, limit: 999) }
        let long = "/" + String(repeating: "p", count: 5000)
        do {
            _ = try AtomicFile.readRegularFile(long, limit: 10)
        } catch let error as AtomicFileError {
            #expect(error.description.count < 200 && error.description.contains("(5001 characters)"))
        }
    }
}
