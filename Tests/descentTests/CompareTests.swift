import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// `descent compare --quiet` on small subsets: tables on stdout, well-formed SVGs with one curve
/// and one trajectory per optimizer, loss against steps and against wall time for every section,
/// a file per section, and an index.html that inlines them all with legend toggles.
@Suite struct CompareTests {
    /// Every id in the document, in order.
    func identifiers(_ node: XMLNode) -> [String] {
        var found: [String] = []
        if let e = node as? XMLElement, let id = attribute(e, "id") { found.append(id) }
        for child in node.children ?? [] { found += identifiers(child) }
        return found
    }

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
        // The verdicts once per section on stdout.
        #expect(result.stdout.components(separatedBy: "lowest final loss:").count - 1 == 3)

        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        #expect(files == ["index.html", "summary.md",
                          "rosenbrock-loss.svg", "rosenbrock-loss-time.svg", "rosenbrock-paths.svg",
                          "saddle-loss.svg", "saddle-loss-time.svg", "saddle-paths.svg",
                          "logistic-loss.svg", "logistic-loss-time.svg"])

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
                // Each optimizer in its own hue and dash pattern.
                #expect(Set(series.compactMap { attribute($0, "stroke") }).count == optimizers.count, "\(file)")
                #expect(Set(series.map { attribute($0, "stroke-dasharray") ?? "" }).count == optimizers.count, "\(file)")
                let xLabel = file.hasSuffix("-loss-time.svg") ? "wall time (s) (log scale)" : "step"
                #expect(elements(root, named: "text").compactMap(\.stringValue).contains(xLabel), "\(file)")
                // Steps and the run's clock both only move forward: x never decreases along a curve.
                for path in series {
                    let xs = (attribute(path, "d") ?? "").split(whereSeparator: { $0 == "M" || $0 == "L" })
                        .compactMap { Double($0.split(separator: " ").first ?? "") }
                    #expect(xs.count >= 2 && zip(xs, xs.dropFirst()).allSatisfy { $0 <= $1 }, "\(file): \(xs.prefix(8))")
                }
            }
        }

        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        let body = try #require(html.components(separatedBy: "<!DOCTYPE html>\n").last)
        let root = try #require(try parseXML(body).rootElement())
        // Every plot inline, linking to its file.
        #expect(elements(root, named: "svg").count == files.filter { $0.hasSuffix(".svg") }.count)
        let links = elements(root, named: "a").compactMap { attribute($0, "href") }.filter { !$0.hasPrefix("#") }
        #expect(Set(links) == files.filter { $0.hasSuffix(".svg") })
        // Loss against steps and against wall time side by side in every section.
        for problem in ["rosenbrock", "saddle", "logistic"] {
            let section = try #require(elements(root, named: "section").first { section in
                elements(section, named: "a").contains { attribute($0, "href") == "\(problem)-loss.svg" }
            })
            let hrefs = elements(section, named: "a").compactMap { attribute($0, "href") }
            #expect(Array(hrefs.prefix(2)) == ["\(problem)-loss.svg", "\(problem)-loss-time.svg"], "\(hrefs)")
        }
        // The verdicts once per section (not in the table and again below it).
        #expect(html.components(separatedBy: "lowest final loss:").count - 1 == 3)
        #expect(html.components(separatedBy: "fewest steps to").count - 1 + html.components(separatedBy: "no optimizer reached").count - 1 == 3)
    }

    @Test func legendTogglesReferenceExistingSeries() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cmp")
        let result = try descent(["compare", "--problems", "quadratic,logistic", "--optimizers", "sgd,adam,natural",
                                  "--steps", "10", "--out", out.path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        let root = try #require(try parseXML(String(html.dropFirst("<!DOCTYPE html>\n".count))).rootElement())
        let ids = identifiers(root)
        #expect(Set(ids).count == ids.count, "ids repeat on the page")

        let entries = elements(root, named: "g").filter { attribute($0, "class") == "legend-entry" }
        // Two loss plots per section and the quadratic's paths: 5 plots × 3 optimizers.
        #expect(entries.count == 15)
        var targeted: Set<String> = []
        for entry in entries {
            let targets = (attribute(entry, "data-target") ?? "").split(separator: " ").map(String.init)
            #expect(!targets.isEmpty)
            for target in targets { #expect(ids.contains(target), "\(target) is not an id on the page") }
            targeted.formUnion(targets)
        }
        // Every curve and trajectory can be toggled.
        let drawn = elements(root, named: "path").filter { ["series", "trajectory"].contains(attribute($0, "class") ?? "") }
        #expect(drawn.count == 15)
        for path in drawn { #expect(targeted.contains(attribute(path, "id") ?? "")) }

        // The script that does it is inline (works from file://, no network) and handles them.
        let scripts = elements(root, named: "script")
        #expect(scripts.count == 1)
        let script = try #require(scripts.first)
        #expect(attribute(script, "src") == nil)
        let code = script.stringValue ?? ""
        #expect(code.contains("legend-entry") && code.contains("data-target") && code.contains("getElementById"))
    }

    @Test func eachPerceptronSectionWritesItsOwnFiles() throws {
        let help = try descent(["compare", "--help"])
        // (Help text is wrapped to the terminal's width.)
        #expect(help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("mlp, mlp-wide"), "\(help.stdout)")

        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("cmp")
        let result = try descent(["compare", "--problems", "mlp,mlp-wide", "--optimizers", "sgd",
                                  "--steps", "2", "--out", out.path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("mlp — MLP 64-16-10") && result.stdout.contains("mlp-wide — MLP 64-256-256-10"))
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: out.path))
        #expect(files == ["index.html", "summary.md", "mlp-loss.svg", "mlp-loss-time.svg", "mlp-wide-loss.svg", "mlp-wide-loss-time.svg"])
        // Each file shows its own network.
        for (file, title) in [("mlp-loss.svg", "MLP 64-16-10"), ("mlp-wide-loss.svg", "MLP 64-256-256-10"),
                              ("mlp-loss-time.svg", "MLP 64-16-10"), ("mlp-wide-loss-time.svg", "MLP 64-256-256-10")] {
            let root = try #require(try parseXML(String(contentsOf: out.appendingPathComponent(file), encoding: .utf8)).rootElement())
            let heading = elements(root, named: "title").first?.stringValue ?? ""
            #expect(heading.hasPrefix(title) && !heading.hasPrefix(title + "-"), "\(file): \(heading)")
        }
        // Only the wide one.
        let wide = try descent(["compare", "--problems", "mlp-wide", "--optimizers", "sgd", "--steps", "1",
                                "--out", dir.appendingPathComponent("wide").path, "--quiet"])
        #expect(wide.status == 0, "\(wide.stderr)")
        #expect(!wide.stdout.contains("64-16-10") && wide.stdout.contains("64-256-256-10"))
    }

    @Test func unknownNamesListTheValidOnes() throws {
        let r1 = try descent(["compare", "--problems", "rosenbrock,nope", "--quiet"])
        #expect(r1.status != 0)
        #expect(r1.stderr.contains("'nope'") && r1.stderr.contains("quadratic, rosenbrock") && r1.stderr.contains("mlp, mlp-wide"))
        let r2 = try descent(["compare", "--optimizers", "adam,lbfgs", "--quiet"])
        #expect(r2.status != 0)
        #expect(r2.stderr.contains("'lbfgs'") && r2.stderr.contains("sgd, momentum, nesterov"))
        let r3 = try descent(["compare", "--problems", "linear", "--quiet"])
        #expect(r3.status != 0)
        #expect(r3.stderr.contains("'linear' is not part of the comparison"))
    }
}
