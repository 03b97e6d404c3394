/// HO-E2: the cost of obtaining second-order scores, D2SM against autodiff (high-order spec §2.1,
/// §2.4, E2, §6.2; claim HO-C3).
///
/// Random-initialised Float32 MLPs (no training is needed for timing) with the trunk
/// D → 256 → 256 and Softplus, batch 100, D ∈ {10, 20, 50, 100, 200, 500, 784}. Timed per batch:
/// * autodiff, full s₂: the input Jacobian of s̃₁ (D → 256 → 256 → D) by reverse mode, batched
///   (each row replicated D times, one forward and one backward) and as a loop of D
///   vector-Jacobian products after one forward (autograd with retain_graph);
/// * autodiff, diagonal of s₂: the same D passes (there is no cheaper exact diagonal), keeping
///   only the diagonal;
/// * D2SM: one forward pass of an s̃₂ network with a full head (D² outputs, D ≤ 200), a diagonal
///   head (D outputs) or a low-rank r = 10 + diagonal head (D·r + D outputs);
/// * the s̃₁ forward pass, for reference.
/// Every timing is repeated after warm-up runs; the table gives median, inter-quartile range and
/// minimum. Log-log slopes of the median time against D are fitted by least squares, with t
/// intervals from the fit's standard error. HO-C3 (issue 17) is tested on the slope of
/// time(autodiff)/time(D2SM) against D — both heads have O(D) output layers, so their own
/// slopes over D ∈ [10, 784] are ≈ 0.4–0.8 by construction and an absolute "≤ 0.3" cannot be met —
/// and on the speed-up at D = 784. Wall-clock timings depend on the machine and its
/// load; config.json records the BLAS thread count.
import ArgumentParser
import ExperimentKit
import Foundation
import NeuralNet
import Reporting
import TensorCore

@main
struct HOE2Cost: Experiment {
    static let experimentID = "ho-e2-cost"
    /// Its compute has no work units yet: the whole run is one unit for --list-units/--units.
    static let computesInUnits = false
    static let configuration = CommandConfiguration(
        commandName: experimentID,
        abstract: "HO-E2: time to obtain s₂ (full and diagonal) by autodiff of s̃₁ against one D2SM forward pass, against D (high-order spec E2; claim HO-C3).")

    @OptionGroup var options: ExperimentOptions

    @Option(parsing: .upToNextOption, help: ScaleHelp.override("Override the dimensions.", quick: Config.quick.dimensions, full: Config.full.dimensions)) var dimensions: [Int] = []
    @Option(parsing: .unconditional, help: ScaleHelp.override("Override the timed repeats per method and D.", quick: Config.quick.repeats, full: Config.full.repeats)) var repeats: Int?

    struct Config: Codable {
        var dimensions = [10, 20, 50, 100, 200, 500, 784]
        var batch = 100
        var hidden = [256, 256]
        var rank = 10
        var fullHeadMaxDimension = 200
        var warmup = 2
        var repeats = 10
        var precision = "float32"
        /// HO-C3 thresholds (from the claim, fixed before any run).
        var autodiffMinimumSlope = 0.8
        /// Reported for information only since issue 17 (not a check).
        var d2smMaximumSlope = 0.3
        /// Slope of log(time autodiff / time D2SM) against log D: the spec's two slope thresholds
        /// combined, 0.8 − 0.3 (issue 17).
        var minimumRatioSlope: Double? = 0.5
        var minimumSpeedup = 50.0
        var speedupDimension = 784

        static let full = Config()
        static let quick: Config = {
            var c = Config()
            c.dimensions = [10, 50, 200, 784]
            c.repeats = 3
            c.warmup = 1
            return c
        }()
    }

    var config: Config {
        var c = options.scale == .quick ? Config.quick : Config.full
        if !dimensions.isEmpty { c.dimensions = dimensions }
        if let v = repeats { c.repeats = v }
        return c
    }

    func validate() throws {
        if let d = dimensions.first(where: { $0 < 2 }) { throw ValidationError("--dimensions must be at least 2, got \(d)") }
        try Validate.distinct(dimensions, option: "--dimensions")
        if let v = repeats, v < 1 { throw ValidationError("--repeats must be at least 1, got \(v)") }
        if let v = repeats { try Limits.count("--repeats", v, maximum: 10_000, reason: "timed repeats per method and D") }
        if let d = dimensions.max() {
            // The batched Jacobian of a batch of 100 holds 100 · D² floats, three times over.
            let bytes = 100.0 * 8 * 3 * Double(d)
            try Limits.memory("--dimensions", d * d, bytesPerUnit: bytes / Double(d),
                              estimate: "a batch of 100 Jacobians of D × D (D = \(d)) in three 8-byte buffers; the value shown is D²")
        }
    }

    /// The timed methods, in table order.
    static let methods = ["autodiff full (batched)", "autodiff full (D VJPs)", "autodiff diagonal (D VJPs)",
                          "D2SM full head", "D2SM diagonal head", "D2SM low-rank head", "s̃₁ forward"]

    /// Seconds taken by `body`.
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// Quantile q of sorted values (linear interpolation).
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        let pos = q * Double(sorted.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (pos - Double(lo)) * (sorted[hi] - sorted[lo])
    }

    // MARK: - Compute

    func compute(in run: RunDirectory) throws {
        let c = config
        let progress = Progress(Self.experimentID, total: c.dimensions.count)
        var rows: [TimingRow] = []
        var sink: Float = 0  // keeps results alive
        for d in c.dimensions {
            var rng = Xoshiro256(seed: options.seed, key: [UInt64(d)])
            let x = Tensor<Float>.randomNormal([c.batch, d], using: &rng)
            let s1 = MLP<Float>(sizes: [d] + c.hidden + [d], activation: .softplus, using: &rng)
            var heads: [(String, MLP<Float>)] = []
            if d <= c.fullHeadMaxDimension { heads.append(("D2SM full head", MLP<Float>(sizes: [d] + c.hidden + [d * d], activation: .softplus, using: &rng))) }
            heads.append(("D2SM diagonal head", MLP<Float>(sizes: [d] + c.hidden + [d], activation: .softplus, using: &rng)))
            heads.append(("D2SM low-rank head", MLP<Float>(sizes: [d] + c.hidden + [d * c.rank + d], activation: .softplus, using: &rng)))
            var jacobian = Tensor<Float>(shape: [0])
            var diagonal = [Float](repeating: 0, count: c.batch * d)
            var bodies: [(String, () -> Void)] = [
                ("autodiff full (batched)", { s1.inputJacobian(at: x, into: &jacobian); sink += jacobian.scalars[0] }),
                ("autodiff full (D VJPs)", { s1.inputJacobianByVJPs(at: x, into: &jacobian); sink += jacobian.scalars[0] }),
                ("autodiff diagonal (D VJPs)", {
                    // D passes; after pass o only entry (o, o) of each point is kept.
                    _ = s1.forward(x)
                    var cotangent = Tensor<Float>(shape: [c.batch, d])
                    var row = Tensor<Float>(shape: [c.batch, d])
                    for o in 0..<d {
                        if o > 0 { for b in 0..<c.batch { cotangent.scalars[b * d + o - 1] = 0 } }
                        for b in 0..<c.batch { cotangent.scalars[b * d + o] = 1 }
                        s1.vectorJacobianProduct(cotangent, into: &row)
                        for b in 0..<c.batch { diagonal[b * d + o] = row.scalars[b * d + o] }
                    }
                    s1.releaseForward()
                    sink += diagonal[0]
                }),
                ("s̃₁ forward", { sink += s1.forward(x, retainForBackward: false).scalars[0] }),
            ]
            for (name, head) in heads { bodies.append((name, { sink += head.forward(x, retainForBackward: false).scalars[0] })) }
            for (name, body) in bodies {
                for _ in 0..<c.warmup { body() }
                for r in 0..<c.repeats {
                    rows.append(TimingRow(method: name, dimension: d, repeat: r, seconds: Self.seconds(body)))
                }
            }
            progress.advance()
        }
        _ = sink
        try run.writeRows(rows, to: "timings.csv")
        try run.writeConfig(c)
    }

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

    // MARK: - Render

    struct Summary { var median: Double; var q1: Double; var q3: Double; var min: Double }

    /// Least-squares slope of log(numerator/denominator) against log D with a 95 % t interval
    /// (n = the number of dimensions).
    static func ratioSlope(dimensions: [Double], numerator: [Double], denominator: [Double]) -> Estimate {
        let fit = Stats.linearFit(x: dimensions.map { log($0) }, y: zip(numerator, denominator).map { log($0 / $1) })
        let half = dimensions.count > 2 ? Stats.tQuantile975(df: dimensions.count - 2) * fit.slopeSE : .nan
        return Estimate(mean: fit.slope, low: fit.slope - half, high: fit.slope + half, n: dimensions.count)
    }

    func render(in run: RunDirectory) throws {
        let c = config
        let t = try run.readRows(TimingRow.self, from: "timings.csv")
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
        var rows: [[String]] = []
        for m in Self.methods {
            guard let byD = summary[m] else { continue }
            var row = [m]
            for d in dims {
                if let s = byD[d] {
                    row.append("\(Format.significant(s.median * 1e3, 3)) [\(Format.significant(s.q1 * 1e3, 3)), \(Format.significant(s.q3 * 1e3, 3))]")
                } else { row.append("–") }
            }
            if let e = slopes[m] { row.append("\(Format.significant(e.mean, 3)) [\(Format.significant(e.low, 3)), \(Format.significant(e.high, 3))]") } else { row.append("–") }
            rows.append(row)
        }
        try run.writeTable(Table(header: ["method"] + dims.map { "D = \(Int($0))" } + ["log-log slope [95% CI]"], rows: rows,
                                 caption: "Milliseconds per batch of \(c.batch) points, median [inter-quartile range] of \(c.repeats) repeats after \(c.warmup) warm-up runs; Float32 MLPs D → \(c.hidden.map(String.init).joined(separator: " → ")) → head, Softplus, random weights; BLAS threads \(options.threads). Slope: least-squares fit of log median time against log D with a t interval.",
                                 label: "tab:ho-e2"), name: "cost")
        try run.writeFigure(Figure(name: "cost_vs_dimension", panels: [Panel(
            title: "time to obtain s₂ per batch of \(c.batch)", xLabel: "dimension D", yLabel: "seconds (median)", logX: true, logY: true,
            key: "outside right top",
            series: Self.methods.enumerated().compactMap { (k, m) in
                guard let byD = summary[m] else { return nil }
                let ds = byD.keys.sorted()
                let slope = slopes[m].map { ", slope \(Format.significant($0.mean, 2))" } ?? ""
                // The two D-VJP autodiff arms nearly coincide (the diagonal still needs D VJPs):
                // the full one thick underneath, the diagonal one dashed on top (issue 19).
                return Series(x: ds, y: ds.map { byD[$0]!.median }, title: m + slope, style: .linespoints, color: k,
                              dashed: m == "autodiff diagonal (D VJPs)", weight: m == "autodiff full (D VJPs)" ? 2.4 : 1)
            })], title: "HO-E2: cost of s₂ (the two D-VJP autodiff curves nearly coincide: thick solid and dashed)", panelWidth: 960, panelHeight: 480))

        // HO-C3 checks. Issue 17: the D2SM heads' own slopes are not tested (their output
        // layers are O(D), so the intrinsic FLOP slopes over [10, 784] are ≈ 0.76 (low-rank) and
        // ≈ 0.43 (diagonal) and "≤ 0.3" cannot be met by any implementation); instead the slope of
        // the time ratio autodiff/D2SM, which the claim ("~D for autodiff and ~1 for D2SM") puts at
        // ≈ 1, is tested against the spec's two thresholds combined, 0.8 − 0.3 = 0.5.
        var checks: [ClaimCheck] = []
        if let e = slopes["autodiff full (batched)"] {
            checks.append(ClaimCheck(statistic: "log-log slope, autodiff full s₂ (batched), D ∈ [\(Int(dims.first!)), \(Int(dims.last!))]", estimate: e, direction: .greaterThan, threshold: c.autodiffMinimumSlope,
                                     provenance: .specRecon("high-order spec §5 C3: \"a fitted log-log slope of at least 0.8 for autodiff\""),
                                     power: CheckPower.ofInterval(e, z: Stats.tQuantile975(df: max(e.n - 2, 1)), counts: "dimensions")))
        }
        let ratioThreshold = c.minimumRatioSlope ?? 0.5
        for (auto, head) in [("autodiff full (batched)", "D2SM low-rank head"), ("autodiff diagonal (D VJPs)", "D2SM diagonal head")] {
            guard let a = summary[auto], let h = summary[head] else { continue }
            let ds = a.keys.filter { h[$0] != nil }.sorted()
            guard ds.count >= 3 else { continue }
            let e = Self.ratioSlope(dimensions: ds, numerator: ds.map { a[$0]!.median }, denominator: ds.map { h[$0]!.median })
            checks.append(ClaimCheck(statistic: "log-log slope of time(\(auto)) / time(\(head) forward), D ∈ [\(Int(ds.first!)), \(Int(ds.last!))]",
                                     estimate: e, direction: .greaterThan, threshold: ratioThreshold,
                                     provenance: .ours("the spec's C3 slopes combined: autodiff ≥ 0.8 and D2SM ≤ 0.3 imply a ratio slope ≥ 0.8 − 0.3 = 0.5; the claim's \"~D vs ~1\" puts it at ≈ 1"),
                                     power: CheckPower.ofInterval(e, z: Stats.tQuantile975(df: max(e.n - 2, 1)), counts: "dimensions")))
        }
        let dStar = Double(c.speedupDimension)
        let auto = samples("autodiff diagonal (D VJPs)", dStar), head = samples("D2SM diagonal head", dStar)
        if !auto.isEmpty && !head.isEmpty {
            // Percentile bootstrap over repeats of the ratio of medians.
            var rng = Xoshiro256(seed: options.seed)
            var ratios: [Double] = []
            for _ in 0..<2_000 {
                let a = (0..<auto.count).map { _ in auto[rng.nextIndex(auto.count)] }.sorted()
                let h = (0..<head.count).map { _ in head[rng.nextIndex(head.count)] }.sorted()
                ratios.append(Self.quantile(a, 0.5) / Self.quantile(h, 0.5))
            }
            ratios.sort()
            let est = Estimate(mean: Self.quantile(auto, 0.5) / Self.quantile(head, 0.5), low: ratios[Int(0.025 * 1999)], high: ratios[Int(0.975 * 1999)], n: auto.count)
            checks.append(ClaimCheck(statistic: "speed-up at D = \(c.speedupDimension): autodiff diagonal / D2SM diagonal forward (median times)", estimate: est, direction: .greaterThan, threshold: c.minimumSpeedup,
                                     provenance: .specRecon("high-order spec §5 C3: \"at D = 784 the D2SM-diag forward pass is at least 50× faster than the autodiff diagonal\""),
                                     power: CheckPower(smallestDetectableEffect: est.halfWidth * (1.96 + 0.8416) / 1.96, n: auto.count, counts: "timed repeats")))
        }
        try run.writeClaims([ClaimResult(
            claim: "HO-C3", scope: "Time to obtain s₂ grows ~D for autodiff and stays ~flat for D2SM; at D = 784 the D2SM diagonal is ≥ 50× faster than the autodiff diagonal.",
            experiment: Self.experimentID, command: "make ho-e2-cost SCALE=\(options.scale.rawValue)", checks: checks, seeds: 1,
            notes: "Wall-clock timings on this machine (\(options.threads) BLAS thread(s)); \(c.repeats) repeats per point; random weights (timing does not depend on training). The full head is timed only for D ≤ \(c.fullHeadMaxDimension) (memory) and its slope is reported but not tested. What changed and why (issue 17): the D2SM heads' own slopes (≤ 0.3 in the spec) are no longer checks — their O(D) output layers give intrinsic slopes ≈ 0.76 (low-rank) and ≈ 0.43 (diagonal) over [10, 784], which no implementation can bring under 0.3 — and the slope of time(autodiff)/time(D2SM), which the claim puts at ≈ 1, is tested against 0.8 − 0.3 = 0.5 instead; the head slopes stay in the table.")])
        print(Table(header: ["method"] + dims.map { "D=\(Int($0))" } + ["slope"], rows: rows).markdown())
    }
}
