import ArgumentParser
import Foundation

/// `descent`: run one optimizer on one problem, compare all of them, or benchmark.
///
/// Errors are printed as one line on stderr (`descent: error: …`) with exit status 1; `--help`
/// prints the usage.
@main
struct DescentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "descent",
        abstract: "Stochastic optimization on BLAS/LAPACK: run, compare and benchmark optimizers.",
        version: VersionInfo.text,
        subcommands: [Run.self, Compare.self, Bench.self, Doctor.self]
    )

    /// ArgumentParser's message on one line: a list of valid values ("- a", "- b" on their own
    /// lines) becomes "a, b"; "Help:" and "Usage:" lines are dropped.
    static func oneLine(_ message: String) -> String {
        var head = ""
        var items: [String] = []
        for line in message.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !line.isEmpty {
            if line.hasPrefix("Help:") || line.hasPrefix("Usage:") || line.hasPrefix("See '") { continue }
            if line.hasPrefix("- ") { items.append(String(line.dropFirst(2))); continue }
            head += head.isEmpty ? line : " " + line
        }
        if head.hasPrefix("Error: ") { head.removeFirst(7) }
        return clipQuoted(items.isEmpty ? head : head + " " + items.joined(separator: ", "))
    }

    /// Every quoted value ('…') cut to ``Message/limit`` characters, so that a 20 MB argument is
    /// not echoed whole.
    static func clipQuoted(_ message: String) -> String {
        guard message.count > Message.limit else { return message }
        let parts = message.split(separator: "'", omittingEmptySubsequences: false)
        return parts.enumerated().map { i, part in i % 2 == 1 && !part.contains("… (") ? Message.clip(part) : String(part) }.joined(separator: "'")
    }

    /// Parses and runs, printing errors on one line.
    static func main() {
        KernelSelection.reexecuteIfGeneric()
        do {
            try DistributedLaunch.requireSameArguments(Array(CommandLine.arguments.dropFirst()))
            var command = try parseAsRoot(ResumeArguments.expand(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)   // --help, --version
            }
            if DistributedLaunch.isSecondaryRank { Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue) }  // reported once, by rank 0
            FileHandle.standardError.write(Data("descent: error: \(oneLine(message(for: error)))\n".utf8))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
