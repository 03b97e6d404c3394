// Holding a rerun against a reference result folder (`report compare`, `make compare`):
// identity, data files, and every claim check's verdict and estimate. See
// Sources/Tools/report/Compare.swift for the rules.
import DataIO
import Foundation
import Reporting

/// Compares complete result folders of the same run.
public struct ReferenceComparison {
    /// How far an estimate may move, as a fraction of the reference interval's half-width.
    public var tolerance: Double
    /// The scale, for messages.
    public var scale: String

    /// The largest relative difference at which a differing CSV is still "numerically close"
    /// (ours: a few Float32 roundings, far below any interval's width).
    public static let closeTolerance = 1e-6

    public init(tolerance: Double = 0.25, scale: String = "full") {
        self.tolerance = tolerance
        self.scale = scale
    }

    /// One experiment's comparison.
    public struct Outcome {
        public var id: String
        public var passed: Bool
        public var lines: [String]
    }

    /// Compares the rerun folder with the reference folder of experiment `id`.
    public func compare(_ id: String, reference ref: URL, rerun: URL) throws -> Outcome {
        guard let a = try CompletionRecord.read(ResultLocation(final: ref)) else {
            return Outcome(id: id, passed: false, lines: ["no complete reference at \(ref.path)"])
        }
        guard let b = try CompletionRecord.read(ResultLocation(final: rerun)) else {
            return Outcome(id: id, passed: false, lines: ["no complete rerun at \(rerun.path) (run make \(id) SCALE=\(scale))"])
        }
        guard a.identity == b.identity else {
            return Outcome(id: id, passed: false, lines: [
                "different runs: reference seed \(a.identity.seed), config \(a.identity.configSHA256.prefix(12)); rerun seed \(b.identity.seed), config \(b.identity.configSHA256.prefix(12)) — not comparable"])
        }
        var lines: [String] = [], passed = true
        let (ma, mb) = (RunMachine.read(ref), RunMachine.read(rerun))
        lines.append("reference: git \(a.gitRevision.prefix(10)), \(ma.summary)")
        lines.append("rerun:     git \(b.gitRevision.prefix(10)), \(mb.summary)")
        // Files: byte-identical, numerically close, or different.
        let rerunFiles = Dictionary(uniqueKeysWithValues: b.files.map { ($0.name, $0) })
        var identical = 0, close: [String] = [], different: [String] = []
        for f in a.files where f.name.hasSuffix(".csv") || f.name == "claims.json" {
            guard let g = rerunFiles[f.name] else { lines.append("\(f.name): missing from the rerun"); passed = false; continue }
            if f.sha256 == g.sha256 { identical += 1; continue }
            guard f.name.hasSuffix(".csv") else { lines.append("\(f.name): differs (see the checks below)"); continue }
            let diff = try csvDifference(ref.appendingPathComponent(f.name), rerun.appendingPathComponent(f.name))
            if let problem = diff.problem { lines.append("\(f.name): \(problem)"); passed = false; continue }
            let where_ = diff.column.map { " (column \($0))" } ?? ""
            if diff.largest <= Self.closeTolerance {
                close.append(f.name)
                lines.append("\(f.name): numerically close, largest relative difference \(Format.significant(diff.largest, 3))\(where_)")
            } else {
                different.append(f.name)
                lines.append("\(f.name): different, largest relative difference \(Format.significant(diff.largest, 3))\(where_)")
            }
        }
        lines.append("files: \(identical) byte-identical, \(close.count) numerically close (relative difference ≤ \(Format.significant(Self.closeTolerance, 2))), \(different.count) different")
        if !close.isEmpty || !different.isEmpty {
            lines.append(Self.coverage(ma, mb, sameRevision: a.gitRevision == b.gitRevision))
        }
        // Claims.
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let ca = try decoder.decode([ClaimResult].self, from: Data(contentsOf: ref.appendingPathComponent("claims.json")))
        let cb = try decoder.decode([ClaimResult].self, from: Data(contentsOf: rerun.appendingPathComponent("claims.json")))
        for x in ca {
            guard let y = cb.first(where: { $0.claim == x.claim }) else { lines.append("\(x.claim): missing from the rerun"); passed = false; continue }
            var worst = 0.0, moved: [String] = []
            if x.verdict != y.verdict { moved.append("claim verdict \(x.verdict.rawValue) → \(y.verdict.rawValue)") }
            if x.checks.count != y.checks.count { moved.append("\(x.checks.count) checks → \(y.checks.count)") }
            for (c, d) in zip(x.checks, y.checks) {
                if c.verdict != d.verdict { moved.append("'\(c.statistic.prefix(60))': \(c.verdict.rawValue) → \(d.verdict.rawValue)") }
                let half = (c.estimate.high - c.estimate.low) / 2
                let delta = abs(d.estimate.mean - c.estimate.mean)
                if c.estimate.mean.isNaN && d.estimate.mean.isNaN { continue }
                let allowed = half.isFinite && half > 0 ? tolerance * half : 1e-9 * max(1, abs(c.estimate.mean))
                let share = delta / max(allowed, .leastNormalMagnitude)
                worst = max(worst, share.isFinite ? share : .infinity)
                if !(delta <= allowed) {
                    moved.append("'\(c.statistic.prefix(60))': estimate \(Format.significant(c.estimate.mean, 4)) → \(Format.significant(d.estimate.mean, 4)) (allowed ± \(Format.significant(allowed, 2)))")
                }
            }
            if moved.isEmpty {
                lines.append("\(x.claim): \(x.verdict.rawValue), every check the same (largest estimate move \(Format.significant(worst * 100, 2)) % of the allowance)")
            } else {
                passed = false
                lines.append("\(x.claim): " + moved.joined(separator: "; "))
            }
        }
        return Outcome(id: id, passed: passed, lines: lines)
    }

    /// What the thread and ISA guarantee (README, "What is the same from run to run") says about
    /// differing files between two runs of the same identity.
    static func coverage(_ a: RunMachine, _ b: RunMachine, sameRevision: Bool) -> String {
        guard let ia = a.isa, let ib = b.isa else {
            return "guarantee: not covered: a run predates the ISA record (made before the thread-count fix of issue 26, when OpenBLAS's team and the loss's partial sums followed --threads); last-digit differences are expected"
        }
        if ia != ib {
            return "guarantee: not covered: different ISA classes (\(ia) against \(ib)); the checks below decide"
        }
        if !sameRevision {
            return "guarantee: same ISA class (\(ia)) but different revisions: code changes between them may move numbers; the checks below decide"
        }
        return "guarantee: VIOLATED: same ISA class (\(ia)) and revision, so every file should be byte-identical whatever the threads (\(a.threads.map(String.init) ?? "?") against \(b.threads.map(String.init) ?? "?")); please report this"
    }

    /// The largest relative difference between two CSVs of the same shape, or the problem.
    public func csvDifference(_ a: URL, _ b: URL) throws -> (largest: Double, column: String?, problem: String?) {
        let (ha, ra) = try CSVFile.read(from: a)
        let (hb, rb) = try CSVFile.read(from: b)
        guard ha == hb else { return (0, nil, "different columns (\(ha.count) against \(hb.count))") }
        guard ra.count == rb.count else { return (0, nil, "\(ra.count) rows in the reference, \(rb.count) in the rerun") }
        var largest = 0.0, column: String?
        for (x, y) in zip(ra, rb) {
            for (k, (u, v)) in zip(x, y).enumerated() where u != v {
                if let p = Double(u), let q = Double(v) {
                    let r = abs(p - q) / max(abs(p), abs(q), 1e-300)
                    if r > largest { largest = r; column = ha[k] }
                } else {
                    return (largest, ha[k], "text differs in column \(ha[k]): '\(u)' against '\(v)'")
                }
            }
        }
        return (largest, column, nil)
    }
}

/// The machine facts a run's config.json records: thread count and oneDNN's ISA (nil when the
/// run predates that record).
struct RunMachine {
    var threads: Int?
    var isa: String?

    static func read(_ folder: URL) -> RunMachine {
        guard let data = try? Data(contentsOf: folder.appendingPathComponent("config.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return RunMachine() }
        let provenance = object["provenance"] as? [String: Any]
        return RunMachine(threads: object["threads"] as? Int, isa: provenance?["oneDNNISA"] as? String)
    }

    var summary: String {
        "\(threads.map { "\($0) thread(s)" } ?? "threads not recorded"), oneDNN ISA \(isa ?? "not recorded")"
    }
}
