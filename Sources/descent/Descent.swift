import ArgumentParser

@main
struct DescentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "descent",
        abstract: "Stochastic optimization on BLAS/LAPACK: run, compare and benchmark optimizers.",
        subcommands: [Bench.self]
    )
}
