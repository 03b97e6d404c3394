// swift-tools-version: 6.0
//
// Reference reproduction of two score-matching papers:
//   - Deasy, Simidjievski, Liò, "Heavy-tailed denoising score matching" (arXiv:2112.09788)
//   - Meng, Song, Li, Ermon, "Estimating high order gradients of the data distribution by
//     denoising" (arXiv:2111.04726)
//
// Dependencies run one way: TensorCore <- ScoreKit, NeuralNet <- ExperimentKit <- experiments;
// DataIO and Reporting <- ExperimentKit. Only TensorCore talks to BLAS/LAPACK, only TensorCore and
// NeuralNet to oneDNN, only DataIO to HDF5/libpng/zlib/libcrypto.
import PackageDescription

// Release builds of the numerics target AVX2/FMA (the project's machines are Zen 3) and drop
// bounds checks in the hot kernels; correctness is covered by the debug-build tests.
let fastSwift: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-Xcc", "-mavx2", "-Xcc", "-mfma"], .when(configuration: .release))
]
let v5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

// MARK: - Experiments
// One executable per experiment id, each in Sources/Experiments/<id>. The ids' one list is
// ExperimentKit's ExperimentRegistry; ExperimentListTests checks this list, the Makefile's
// EXPERIMENTS and the smoke tests' commands against it (scripts/slurm-submit.sh asks
// `report experiments`).
let experiments: [(id: String, dependencies: [Target.Dependency])] = [
    ("ht-e0-toy-balance",           ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting"]),
    ("ht-e1-concentration",         ["ExperimentKit", "ScoreKit", "Reporting"]),
    ("ht-e2-noise-scaling",         ["ExperimentKit", "ScoreKit", "DataIO", "Reporting"]),
    ("ht-e3-score-error",           ["ExperimentKit", "ScoreKit", "NeuralNet", "DataIO", "Reporting"]),
    ("ht-e4-convergence",           ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting"]),
    ("ht-e5-class-balance",         ["ExperimentKit", "ScoreKit", "DataIO", "SampleMetrics", "Reporting"]),
    ("ht-e6-sample-quality",        ["ExperimentKit", "ScoreKit", "DataIO", "SampleMetrics", "Reporting"]),
    ("ho-e1-hessian-accuracy",      ["ExperimentKit", "ScoreKit", "NeuralNet", "DataIO", "Reporting"]),
    ("ho-e2-cost",                  ["ExperimentKit", "NeuralNet", "Reporting"]),
    ("ho-e3-variance-reduction",    ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting"]),
    ("ho-e4-denoising-uncertainty", ["ExperimentKit", "ScoreKit", "DataIO", "Reporting"]),
    ("ho-e5-ozaki-synthetic",       ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting"]),
    ("ho-e6-ozaki-images",          ["ExperimentKit", "ScoreKit", "DataIO", "Reporting"]),
]
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let experimentTargets: [Target] = experiments.map {
    .executableTarget(name: $0.id, dependencies: $0.dependencies + [argumentParser], path: "Sources/Experiments/\($0.id)", swiftSettings: fastSwift + v5)
}

let package = Package(
    name: "ScoreMatchingRepro",
    platforms: [.macOS(.v13)],
    dependencies: [
        // Pinned exactly (Package.resolved cannot be committed on these machines); the same
        // versions are recorded in every config.json (ExperimentKit/PackageVersions.swift, tested).
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", exact: "1.1.1"),
    ],
    targets: [
        // MARK: - System libraries (Debian -dev packages; .ci/run installs them)
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // renameat2 (atomic folder swap), which Swift's Glibc module does not import.
        .target(name: "CSystemShims"),
        // oneDNN (OpenMP runtime): Float32 GEMM and convolution. Only TensorCore and NeuralNet import it.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-fveclib=libmvec", "-fno-math-errno"])],
            linkerSettings: [.linkedLibrary("mvec"), .linkedLibrary("m")]
        ),

        // MARK: - Libraries
        .target(
            name: "TensorCore",
            dependencies: ["CBLAS", "CLAPACKE", "CDNNL", "CSystemShims", .product(name: "Numerics", package: "swift-numerics")],
            swiftSettings: fastSwift + v5
        ),
        .target(name: "ScoreKit", dependencies: ["TensorCore"], swiftSettings: fastSwift + v5),
        .target(name: "NeuralNet", dependencies: ["TensorCore", "CDNNL", "CKernels"], swiftSettings: fastSwift + v5),
        .target(name: "SampleMetrics", dependencies: ["TensorCore"], swiftSettings: fastSwift + v5),
        .target(name: "DataIO", dependencies: ["TensorCore", "CHDF5", "CPNG", "CZlib", "COpenSSL", "CSystemShims"], swiftSettings: v5),
        .target(name: "Reporting", swiftSettings: v5),
        .target(
            name: "ExperimentKit",
            dependencies: [
                "TensorCore", "ScoreKit", "NeuralNet", "DataIO", "Reporting", "SampleMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: v5
        ),

        // MARK: - Tools (data preparation, benchmarks)
        .executableTarget(
            name: "prepare-data", dependencies: ["DataIO", "ExperimentKit", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/prepare-data", swiftSettings: v5),
        .executableTarget(
            name: "bench",
            dependencies: ["TensorCore", "NeuralNet", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/bench", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "train-classifier",
            dependencies: ["ExperimentKit", "DataIO", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/train-classifier", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "resample",
            dependencies: ["ExperimentKit", "DataIO", "ScoreKit", "TensorCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/resample", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "report",
            dependencies: ["ExperimentKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Tools/report", swiftSettings: v5),

        // MARK: - Image-kit tools (experiment executables outside the claims)
        .executableTarget(
            name: "image-kit-demo",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/image-kit-demo", swiftSettings: fastSwift + v5),
        .executableTarget(
            name: "image-budget",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", "SampleMetrics", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/image-budget", swiftSettings: fastSwift + v5),

        // MARK: - Tests
        .target(name: "TestSupport", dependencies: ["TensorCore"], path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "ScoreKitTests", dependencies: ["ScoreKit", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"], swiftSettings: v5),
        .testTarget(
            name: "SampleMetricsTests", dependencies: ["SampleMetrics", "TestSupport"],
            exclude: ["metrics-reference.json"], swiftSettings: v5),
        .testTarget(name: "DataIOTests", dependencies: ["DataIO", "Reporting", "TestSupport"], swiftSettings: v5),
        .testTarget(
            name: "ExperimentSmokeTests",
            dependencies: ["ExperimentKit", "NeuralNet", "TestSupport", "image-kit-demo", "image-budget", "resample", "DataIO", "SampleMetrics"]
                + experiments.map { .target(name: $0.id) }, swiftSettings: v5),
        .testTarget(name: "ExperimentKitTests", dependencies: ["ExperimentKit", "Reporting", "NeuralNet", "ScoreKit", "TensorCore", "DataIO", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: v5),
    ] + experimentTargets
)
