// HOE2Cost: row types, the typed results and their reading (issue 30).
import ArgumentParser
import ExperimentKit
import Foundation
import Reporting

extension HOE2Cost {
    /// A row of timings.csv: one timed call.
    struct TimingRow: DocumentedRow {
        var method: String
        var dimension: Int
        var `repeat`: Int
        var seconds: Double
        static let columns: [ColumnDoc] = [
            .init("method", "text", "what was timed: autodiff full s₂ (batched input Jacobian, or D vector-Jacobian products), autodiff diagonal (D VJPs, diagonal kept), the s̃₁ forward pass, or the forward pass of a D2SM head (full D², diagonal, low-rank); Float32 MLPs D → hidden → output, Softplus, random weights"),
            .init("dimension", "count", "data dimension D"),
            .init("repeat", "index", "repeat index 0…repeats−1 (after the warm-up calls, which are not recorded)"),
            .init("seconds", "seconds", "wall-clock time of one call on a batch of `batch` points (monotonic clock)"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [CSVFileDoc("timings.csv", TimingRow.self, "Wall-clock timings of obtaining s₂ (or a D2SM head's forward pass), one row per method, dimension and repeat; tables/cost and the HO-C3 checks are medians of these.")]

    // MARK: - Results

    /// The typed results of a run: the rows of timings.csv, and the run's base seed (the
    /// speed-up's bootstrap stream) and BLAS thread count (the notes).
    struct Results {
        var timings: [TimingRow]
        var seed: UInt64
        var threads: Int
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(timings: try run.readRows(TimingRow.self, from: "timings.csv"), seed: run.options.seed, threads: run.options.threads)
    }

    /// Timings are not seeded replicates: claims.json reports 1.
    static func seedCount(of results: Results) -> Int { 1 }

    struct Summary { var median: Double; var q1: Double; var q3: Double; var min: Double }

    /// Median, quartiles and minimum of each method's timings per D, and each method's log-log
    /// slope of the median time against D (t interval from the fit) where it has ≥ 3 dimensions.
    struct Timings {
        var dims: [Double]
        var summary: [String: [Double: Summary]]
        var slopes: [String: Estimate]
        var samples: (String, Double) -> [Double]
    }

    static func timings(_ results: Results) -> Timings {
        let t = results.timings
        func samples(_ m: String, _ d: Double) -> [Double] { t.filter { $0.method == m && Double($0.dimension) == d }.map(\.seconds).sorted() }
        let dims = Array(Set(t.map { Double($0.dimension) })).sorted()
        var summary: [String: [Double: Summary]] = [:]
        for m in Self.methods {
            for d in dims {
                let s = samples(m, d)
                if s.isEmpty { continue }
                summary[m, default: [:]][d] = Summary(median: Self.quantile(s, 0.5), q1: Self.quantile(s, 0.25), q3: Self.quantile(s, 0.75), min: s[0])
            }
        }
        // Slopes of log median time against log D.
        var slopes: [String: Estimate] = [:]
        for m in Self.methods {
            guard let byD = summary[m], byD.count >= 3 else { continue }
            let ds = byD.keys.sorted()
            let fit = Stats.linearFit(x: ds.map { log($0) }, y: ds.map { log(byD[$0]!.median) })
            let half = Stats.tQuantile975(df: ds.count - 2) * fit.slopeSE
            slopes[m] = Estimate(mean: fit.slope, low: fit.slope - half, high: fit.slope + half, n: ds.count)
        }
        return Timings(dims: dims, summary: summary, slopes: slopes, samples: samples)
    }
}
