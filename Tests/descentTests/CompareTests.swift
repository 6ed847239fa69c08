import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `descent compare --quiet` on a small subset: tables on stdout, well-formed SVGs with one
/// curve and one trajectory per optimizer, and an index.html that shows them all.
@Suite struct CompareTests {
    @Test func writesPlotsAndIndexForASubset() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cmp")
        let optimizers = ["sgd", "momentum", "adam", "rmsprop"]
        let result = try descent(["compare", "--problems", "rosenbrock,saddle,logistic", "--optimizers", optimizers.joined(separator: ","),
                                  "--steps", "40", "--out", out.path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        for problem in ["rosenbrock", "saddle", "logistic"] {
            #expect(result.stdout.contains("\(problem) — "))
        }
        for name in optimizers { #expect(result.stdout.contains("\n\(name) ")) }

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        #expect(files == ["index.html", "summary.md", "rosenbrock-loss.svg", "rosenbrock-paths.svg",
                          "saddle-loss.svg", "saddle-paths.svg", "logistic-loss.svg"])

        for file in files where file.hasSuffix(".svg") {
            let text = try String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)
            let root = try #require(try parseXML(text).rootElement(), "\(file)")
            #expect(root.name == "svg")
            let paths = elements(root, named: "path")
            if file.hasSuffix("-paths.svg") {
                let trajectories = paths.filter { attribute($0, "class") == "trajectory" }
                #expect(trajectories.compactMap { attribute($0, "data-name") } == optimizers, "\(file)")
                #expect(paths.contains { attribute($0, "class") == "contour" }, "\(file)")
                #expect(elements(root, named: "circle").filter { attribute($0, "class") == "start" }.count == optimizers.count)
            } else {
                let series = paths.filter { attribute($0, "class") == "series" }
                #expect(series.count == optimizers.count, "\(file)")
                #expect(series.allSatisfy { !(attribute($0, "d") ?? "").isEmpty }, "\(file)")
            }
        }

        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        let body = try #require(html.components(separatedBy: "<!DOCTYPE html>\n").last)
        let root = try #require(try parseXML(body).rootElement())
        let images = elements(root, named: "img").compactMap { attribute($0, "src") }
        #expect(Set(images) == files.filter { $0.hasSuffix(".svg") })
    }

    @Test func unknownNamesListTheValidOnes() throws {
        let r1 = try descent(["compare", "--problems", "rosenbrock,nope", "--quiet"])
        #expect(r1.status != 0)
        #expect(r1.stderr.contains("'nope'") && r1.stderr.contains("quadratic, rosenbrock"))
        let r2 = try descent(["compare", "--optimizers", "adam,lbfgs", "--quiet"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("'lbfgs'") && r2.stderr.contains("sgd, momentum, nesterov"))
    }
}
