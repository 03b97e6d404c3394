import Foundation
import Testing
import TestSupport
@testable import ht_e4_convergence

extension ExperimentSmoke {
    @Suite(.serialized) struct HTE4SmokeTests {
        @Test func producesFilesDeterministically() throws {
            setenv("REPRO_QUIET", "1", 1)
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e4-smoke-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            for name in ["a", "b"] {
                let cmd = try HTE4Convergence.parseAsRoot(["--chains", "10", "--train-steps", "30", "--langevin-steps", "100", "--seeds", "2",
                                                           "--out", base.appendingPathComponent(name).path, "--threads", "2"]) as! HTE4Convergence
                try cmd.run()
                // Issue 19: the committed folder has a column dictionary naming every CSV and column.
                try ExperimentSmoke.expectColumnDictionary(in: base.appendingPathComponent(name))
            }
            for f in ["trace.csv", "divergence.csv", "magnitude.csv"] {
                #expect(try Data(contentsOf: base.appendingPathComponent("a/\(f)")) == Data(contentsOf: base.appendingPathComponent("b/\(f)")), "\(f) differs")
            }
            let claims = try String(contentsOf: base.appendingPathComponent("a/claims.json"), encoding: .utf8)
            #expect(claims.contains("HT-C7") && claims.contains("exact-minimiser exponent"))
            let divergence = try String(contentsOf: base.appendingPathComponent("a/divergence.csv"), encoding: .utf8)
            #expect(divergence.contains("laplace-sigma-scaled") && divergence.contains("unscaled-gaussian"))
            #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("a/figures/magnitude_vs_distance.pdf").path))
        }

        /// Issue 13: `--gemm-backend openBLAS` (the before/after timings) through the real executable
        /// in its own process, since the backend is process-wide: config.json and the completion
        /// record name the library, a default run is refused over that folder as a different run,
        /// and an unknown library is a one-line error.
        @Test func gemmBackendIsRecordedAndSeparatesRuns() throws {
            let dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let exe = try #require([dir, dir.deletingLastPathComponent()].map { $0.appendingPathComponent("ht-e4-convergence") }
                .first { FileManager.default.isExecutableFile(atPath: $0.path) }, "ht-e4-convergence executable not found near \(dir.path)")
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("ht-e4-gemm-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: base) }
            func run(_ extra: [String]) throws -> (status: Int32, stderr: String) {
                let process = Process(), err = Pipe()
                process.executableURL = exe
                process.arguments = ["--chains", "10", "--train-steps", "30", "--langevin-steps", "50", "--seeds", "1",
                                     "--out", base.path, "--threads", "1"] + extra
                process.standardOutput = FileHandle.nullDevice
                process.standardError = err
                process.environment = ProcessInfo.processInfo.environment.merging(["REPRO_QUIET": "1"]) { $1 }
                try process.run()
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                return (process.terminationStatus, text)
            }
            let blas = try run(["--gemm-backend", "openBLAS"])
            #expect(blas.status == 0, "\(blas.stderr)")
            let config = try String(contentsOf: base.appendingPathComponent("config.json"), encoding: .utf8)
            let record = try String(contentsOf: base.appendingPathComponent("complete.json"), encoding: .utf8)
            #expect(config.contains("\"float32GEMM\" : \"openBLAS\"") && record.contains("\"float32GEMM\" : \"openBLAS\""))
            let refused = try run([])
            #expect(refused.status != 0 && refused.stderr.contains("Float32 GEMM openBLAS"), "\(refused.stderr)")
            let unknown = try run(["--gemm-backend", "mkl"])
            #expect(unknown.status != 0 && unknown.stderr.contains("--gemm-backend must be automatic, openBLAS, oneDNN, got mkl"), "\(unknown.stderr)")
        }

        /// The exponent fit recovers an exact power law inside the range and ignores points outside;
        /// the 2-D Gaussian noise norm's 99 % quantile is √(2 ln 100) (chi with 2 d.o.f.).
        @Test func exponentAndSupport() {
            let d: [Double] = [0.5, 1, 2, 3, 5, 20]
            let norms = d.map { $0 < 4 ? 3 * pow($0, 0.5) : 1e6 }
            #expect(abs(HTE4Convergence.exponent(distances: d, norms: norms, in: 1...4)! - 0.5) < Tolerance.float64Ops)
            let quantileError = 0.02  // 200 000 draws: the 99 % quantile's s.e. is ≈ 0.005
            #expect(abs(HTE4Convergence.supportRadius(beta: 2, sigma: 1, quantile: 0.99) - (2 * log(100.0)).squareRoot()) < quantileError)
        }

        /// The nearest-point distance is exact on a hand-made case.
        @Test func nearestDistance() {
            let tolerance = 1e-12
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4, 10, 10, -1, 0]) - 1) < tolerance)
            #expect(abs(HTE4Convergence.nearest(0, 0, [3, 4]) - 5) < tolerance)
        }
    }
}
