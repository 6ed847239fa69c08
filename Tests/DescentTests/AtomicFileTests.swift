import Descent
import Foundation
import Testing
import DescentTestSupport

/// AtomicFile: named temporaries, stale ones cleaned, failures leave the old file intact.
@Suite struct AtomicFileTests {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func writesAndLeavesNoTemporary() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a.txt")
        try AtomicFile.write("one", to: file)
        try AtomicFile.write("two", to: file)
        #expect(try String(contentsOf: file, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["a.txt"])
    }

    @Test func staleTemporaryOfADeadProcessIsRemoved() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Above Linux's largest pid_max (2^22): no process has this id.
        let stale = AtomicFile.temporaryName(for: "b.dat", pid: 4_194_305)
        #expect(stale == ".b.dat.descent-tmp-4194305")
        try Data(count: 100).write(to: dir.appendingPathComponent(stale))
        let live = AtomicFile.temporaryName(for: "c.dat", pid: getpid())
        try Data(count: 1).write(to: dir.appendingPathComponent(live))
        try AtomicFile.write("x", to: dir.appendingPathComponent("other.txt"))
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(left == ["other.txt", live])
    }

    @Test func failedWriteKeepsTheOldFile() throws {
        let dir = try folder()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        let file = dir.appendingPathComponent("keep.txt")
        try AtomicFile.write("old", to: file)
        // A directory where the file should be: refused by kind, nothing written.
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        #expect(throws: AtomicFileError(path: sub.path, reason: "is a directory")) { try AtomicFile.write("new", to: sub) }
        #expect(throws: AtomicFileError.self) { try AtomicFile.write("new", to: URL(fileURLWithPath: "/dev/null")) }
        // A folder that cannot take the temporary (read-only; root bypasses modes, so also a
        // missing folder): the old file stays.
        #expect(throws: AtomicFileError.self) {
            try AtomicFile.write("new", to: dir.appendingPathComponent("missing/keep.txt"))
        }
        chmod(dir.path, 0o555)
        if getuid() != 0 {
            #expect(throws: AtomicFileError.self) { try AtomicFile.write("new", to: file) }
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "old")
        chmod(dir.path, 0o755)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir.path)) == ["keep.txt", "sub"])
    }
}
