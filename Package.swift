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

        // MARK: - Experiments (one executable per experiment id)
        .executableTarget(
            name: "ht-e1-concentration",
            dependencies: ["ExperimentKit", "ScoreKit", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e1-concentration", swiftSettings: fastSwift + v5),
        .executableTarget(
            name: "ht-e2-noise-scaling",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e2-noise-scaling", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ht-e0-toy-balance",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e0-toy-balance", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ht-e3-score-error",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e3-score-error", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ht-e4-convergence",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e4-convergence", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e1-hessian-accuracy",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e1-hessian-accuracy", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e3-variance-reduction",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e3-variance-reduction", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e5-ozaki-synthetic",
            dependencies: ["ExperimentKit", "ScoreKit", "NeuralNet", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e5-ozaki-synthetic", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e2-cost",
            dependencies: ["ExperimentKit", "NeuralNet", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e2-cost", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e4-denoising-uncertainty",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e4-denoising-uncertainty", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ho-e6-ozaki-images",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ho-e6-ozaki-images", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "image-kit-demo",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/image-kit-demo", swiftSettings: fastSwift + v5),
        .executableTarget(
            name: "image-budget",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "Reporting", "SampleMetrics", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/image-budget", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ht-e5-class-balance",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "SampleMetrics", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e5-class-balance", swiftSettings: fastSwift + v5),

        .executableTarget(
            name: "ht-e6-sample-quality",
            dependencies: ["ExperimentKit", "ScoreKit", "DataIO", "SampleMetrics", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/Experiments/ht-e6-sample-quality", swiftSettings: fastSwift + v5),

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
            dependencies: ["ExperimentKit", "NeuralNet", "TestSupport", "ht-e1-concentration", "ht-e2-noise-scaling", "ht-e0-toy-balance", "ht-e3-score-error", "ht-e4-convergence", "ho-e1-hessian-accuracy", "ho-e2-cost", "ho-e3-variance-reduction", "ho-e5-ozaki-synthetic", "image-kit-demo", "image-budget", "ht-e5-class-balance", "ht-e6-sample-quality", "ho-e4-denoising-uncertainty", "ho-e6-ozaki-images", "DataIO", "SampleMetrics"], swiftSettings: v5),
        .testTarget(name: "ExperimentKitTests", dependencies: ["ExperimentKit", "Reporting", "NeuralNet", "ScoreKit", "TensorCore", "DataIO", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")], swiftSettings: v5),
    ]
)
