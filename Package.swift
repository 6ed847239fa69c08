// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Descent",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Descent", targets: ["Descent"]),
        .library(name: "DescentLinearAlgebra", targets: ["DescentLinearAlgebra"]),
        .library(name: "DescentProblems", targets: ["DescentProblems"]),
        .executable(name: "descent", targets: ["descent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C module maps over the system libraries (Debian: libopenblas-dev, liblapacke-dev).
        .systemLibrary(
            name: "CBLAS",
            path: "Modulemaps/CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CLAPACKE",
            path: "Modulemaps/CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]
        ),
        // Typed Swift layer over BLAS 1/2/3 and LAPACK (Cholesky).
        .target(
            name: "DescentLinearAlgebra",
            dependencies: ["CBLAS", "CLAPACKE"],
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]
        ),
        // The optimizers: SGD, Momentum, Adagrad, RMSProp, Adadelta, Adam(W), natural gradient.
        .target(
            name: "Descent",
            dependencies: ["DescentLinearAlgebra", "CLAPACKE"]
        ),
        // Objectives, data sets and the training loop.
        .target(
            name: "DescentProblems",
            dependencies: ["Descent", "DescentLinearAlgebra"],
            resources: [.copy("Resources")]
        ),
        // Counts heap allocations for `descent bench` (interposes glibc's malloc in the executable).
        .target(
            name: "CMallocCounter"
        ),
        // SVG plots for the comparison.
        .target(
            name: "DescentPlots"
        ),
        // The command-line tool: run, compare, bench.
        .executableTarget(
            name: "descent",
            dependencies: [
                "Descent", "DescentLinearAlgebra", "DescentProblems", "DescentPlots", "CMallocCounter",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "DescentLinearAlgebraTests", dependencies: ["DescentLinearAlgebra"]),
        .testTarget(name: "DescentTests", dependencies: ["Descent", "DescentLinearAlgebra", "DescentProblems"]),
        .testTarget(name: "DescentProblemsTests", dependencies: ["DescentProblems", "Descent", "DescentLinearAlgebra"]),
        .testTarget(name: "DescentPlotsTests", dependencies: ["DescentPlots"]),
        .testTarget(name: "descentTests", dependencies: ["descent"]),
    ],
    swiftLanguageModes: [.v6]
)
