import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The built `descent` executable: `$DESCENT_EXECUTABLE` when set, else next to the test bundle
/// in the build products folder (`swift build` builds it; scripts/test runs that first).
func descentExecutable() throws -> URL {
    if let path = ProcessInfo.processInfo.environment["DESCENT_EXECUTABLE"] {
        return URL(fileURLWithPath: path)
    }
    var candidates: [URL] = []
    let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    candidates.append(argument0.deletingLastPathComponent())
    candidates.append(Bundle.main.bundleURL)
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        candidates.append(bundle.bundleURL.deletingLastPathComponent())
    }
    for dir in candidates {
        // On macOS the test bundle sits in the products folder; its binary is nested inside.
        var d = dir
        for _ in 0..<4 {
            let url = d.appendingPathComponent("descent")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url
            }
            d = d.deletingLastPathComponent()
        }
    }
    throw ExecutableNotFound(searched: candidates.map(\.path))
}

struct ExecutableNotFound: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
        "the descent executable was not found next to the tests (run `swift build` first, or set DESCENT_EXECUTABLE); searched \(searched)"
    }
}

/// The result of running the executable.
struct Execution {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `descent` with `arguments`, waiting for it to exit.
/// `extraEnvironment` is added to the inherited environment (never OpenBLAS's own variables).
func descent(_ arguments: [String], in directory: URL? = nil, extraEnvironment: [String: String] = [:]) throws -> Execution {
    let process = Process()
    process.executableURL = try descentExecutable()
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = environment["OPENBLAS_NUM_THREADS"] ?? "1"
    environment.merge(extraEnvironment) { _, new in new }
    process.environment = environment
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes to the end before waiting, so a large output cannot block the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    let errData = errBox.data
    process.waitUntilExit()
    return Execution(status: process.terminationStatus,
                     stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

/// A fresh temporary folder, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("descent-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Parses XML text, failing when it is not well-formed.
func parseXML(_ text: String) throws -> XMLDocument {
    try XMLDocument(data: Data(text.utf8), options: [])
}

/// Every element named `name` below `node`, depth first.
func elements(_ node: XMLNode, named name: String) -> [XMLElement] {
    var found: [XMLElement] = []
    if let e = node as? XMLElement, e.name == name { found.append(e) }
    for child in node.children ?? [] { found += elements(child, named: name) }
    return found
}

/// An attribute's value (swift-corelibs-foundation's `attribute(forName:)` misses attributes of
/// elements in a default namespace).
func attribute(_ e: XMLElement, _ name: String) -> String? {
    e.attributes?.first { $0.name == name }?.stringValue
}
