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
        .library(name: "DescentDistributed", targets: ["DescentDistributed"]),
        // The allocation counter `descent bench` preloads into itself (never linked).
        .library(name: "DescentMallocCounter", type: .dynamic, targets: ["DescentMallocCounter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation` (DocC) for the library targets; build-time only.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
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
        // zlib (Debian: zlib1g-dev), for the gzip-compressed IDX files of Fashion-MNIST.
        .systemLibrary(
            name: "CZlib",
            path: "Modulemaps/CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // Typed Swift layer over BLAS 1/2/3 and LAPACK (Cholesky).
        .target(
            name: "DescentLinearAlgebra",
            dependencies: ["CBLAS", "CLAPACKE"],
            linkerSettings: [.linkedLibrary("m", .when(platforms: [.linux]))]
        ),
        // Checkpoints: the binary coder, the checkpoint container, atomic file writes (Foundation only).
        .target(name: "DescentPersistence"),
        // The optimizers: SGD, Momentum, Adagrad, RMSProp, Adadelta, Adam(W), natural gradient, K-FAC.
        .target(
            name: "Descent",
            dependencies: ["DescentLinearAlgebra", "DescentPersistence"]
        ),
        // Objectives, data sets and the training loop.
        .target(
            name: "DescentProblems",
            dependencies: ["Descent", "DescentLinearAlgebra", "DescentPersistence", "CZlib"],
            resources: [.copy("Resources")]
        ),
        // Counts heap allocations for `descent bench`: a shared object the benchmark preloads
        // into its re-executed process (LD_PRELOAD); no target links it.
        .target(
            name: "DescentMallocCounter",
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        // SVG plots for the comparison.
        .target(
            name: "DescentPlots",
            dependencies: ["DescentPersistence"]  // AtomicFile
        ),
        // The command-line tool: run, compare, bench.
        .executableTarget(
            name: "descent",
            dependencies: [
                "Descent", "DescentLinearAlgebra", "DescentPersistence", "DescentProblems", "DescentPlots", "DescentDistributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Open MPI (Debian: libopenmpi-dev, openmpi-bin) and data-parallel training over it.
        .systemLibrary(name: "CMPI", path: "Modulemaps/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "DescentDistributed", dependencies: ["CMPI", "Descent", "DescentProblems"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "descent-mpi-checks", dependencies: ["DescentDistributed", "DescentProblems", "Descent"], swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(name: "DescentDistributedTests", dependencies: ["DescentDistributed", "descent-mpi-checks"], swiftSettings: [.swiftLanguageMode(.v6)]),
        // Helpers every test target shares (precisions, tolerances, error measures): not a product.
        .target(name: "DescentTestSupport", dependencies: ["DescentLinearAlgebra", "DescentProblems"], path: "Tests/DescentTestSupport"),
        .testTarget(name: "DescentLinearAlgebraTests", dependencies: ["DescentLinearAlgebra", "DescentTestSupport"]),
        .testTarget(name: "DescentTests", dependencies: ["Descent", "DescentLinearAlgebra", "DescentPersistence", "DescentProblems", "DescentTestSupport"]),
        .testTarget(name: "DescentProblemsTests", dependencies: ["DescentProblems", "Descent", "DescentLinearAlgebra", "DescentTestSupport"]),
        .testTarget(name: "DescentPlotsTests", dependencies: ["DescentPlots"]),
        .testTarget(name: "descentTests", dependencies: ["descent"]),
    ],
    swiftLanguageModes: [.v6]
)
