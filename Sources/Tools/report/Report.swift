/// `report`: builds the claims ledger and the LaTeX report's generated parts from whatever
/// results exist. It computes nothing: it reads results/*/claims.json, config.json, CSV-rendered
/// tables and figures, and marks missing ones instead of failing.
///
///   report ledger --scale S  -> results/S/claims-ledger.{json,csv,md} (and the README's ledger
///                               section only when --readme names it: `make readme`)
///   report paper --scale S   -> paper/generated/*.tex (then latexmk builds paper/build/report.pdf)
///   report verify --claim HT-C2 --scale S -> prints one claim (after `make verify` re-ran its experiments)
///   report compare [--id ID]  -> holds results/full/<id> against reference/full/<id> (`make compare`)
///   report figure-index --scale S -> figures/S/INDEX.md (thumbnails, captions, claims; scripts/collect-figures.sh)
///
/// Only complete results folders (results/S/<id>/ with a completion record that matches their
/// files) count; a claim whose experiments are not all complete is "incomplete".
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting

@main
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Claims ledger and report generation from results/ (computes nothing).",
        subcommands: [LedgerCommand.self, PaperCommand.self, VerifyCommand.self, ExperimentsCommand.self, CompareCommand.self,
                      FigureIndexCommand.self])
}

struct Paths: ParsableArguments {
    @Option(help: "Results root (results/<scale>/<id> below it).") var results = "results"
    @Option(help: "Scale whose results to read: quick or full.") var scale: Scale = .quick
    @Option(help: "README to update between the ledger markers (default: none; `make readme` passes README.md).") var readme = ""
    @Option(help: "Report folder.") var paper = "paper"

    /// results/<scale>
    var scaleFolder: String { "\(results)/\(scale.rawValue)" }

    /// Issue 26: a results root that does not exist is a mistyped path, not a paper with every
    /// result missing (a missing scale folder below an existing root is: nothing run yet).
    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: results, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--results \(results): no such folder (the results root, holding quick/ and full/; run make figures first)")
        }
    }
}

func ledgerEntries(_ paths: Paths) throws -> [LedgerEntry] {
    try Ledger.build(results: URL(fileURLWithPath: paths.scaleFolder))
}

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "Write the claims ledger (JSON, CSV, Markdown, LaTeX) and update the README.")
    @OptionGroup var paths: Paths

    func run() throws {
        let entries = try ledgerEntries(paths)
        let dir = URL(fileURLWithPath: paths.scaleFolder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try JSONFile.write(entries, to: dir.appendingPathComponent("claims-ledger.json"))
        try CSVFile.write(
            header: ["claim", "paper", "verdict", "statement", "experiments", "commands", "statistic", "estimate", "ci_low", "ci_high",
                     "direction", "threshold", "tolerance", "check_verdict", "threshold_provenance", "smallest_detectable_effect",
                     "power_n", "power_counts", "check_reason", "seeds", "scales", "notes"],
            rows: entries.flatMap { e -> [[String]] in
                let base = [e.claim, e.paper, e.verdict.rawValue, e.statement, e.experiments.joined(separator: " "), e.commands.joined(separator: " ; ")]
                let tail = ["\(e.seeds)", e.scales.joined(separator: " "), e.notes]
                if e.checks.isEmpty { return [base + [String](repeating: "", count: 13) + tail] }
                return e.checks.map { c in
                    base + [c.statistic, "\(c.estimate.mean)", "\(c.estimate.low)", "\(c.estimate.high)", c.direction.rawValue,
                            "\(c.threshold)", c.tolerance.map { "\($0)" } ?? "", c.verdict.rawValue, c.provenance?.summary ?? "",
                            c.power.map { "\($0.smallestDetectableEffect)" } ?? "", c.power.map { "\($0.n)" } ?? "", c.power?.counts ?? "",
                            c.reason ?? ""] + tail
                }
            },
            to: dir.appendingPathComponent("claims-ledger.csv"))
        let table = Ledger.table(entries)
        try AtomicFile.write(Data(table.markdown().utf8), to: dir.appendingPathComponent("claims-ledger.md"))
        if !paths.readme.isEmpty { try updateReadme(table, findings: Ledger.findings(entries)) }
        print(table.markdown())
    }

    /// Replaces the text between `<!-- ledger:begin -->` and `<!-- ledger:end -->` with the
    /// table, and between `<!-- findings:begin -->` and `<!-- findings:end -->` (the first
    /// screen's one line per claim) with the findings.
    func updateReadme(_ table: Table, findings: String) throws {
        let url = URL(fileURLWithPath: paths.readme)
        guard var text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let original = text
        for (name, body) in [("ledger", table.markdown()), ("findings", findings)] {
            let begin = "<!-- \(name):begin -->", end = "<!-- \(name):end -->"
            guard let b = text.range(of: begin), let e = text.range(of: end), b.upperBound <= e.lowerBound else {
                FileHandle.standardError.write(Data("report: \(paths.readme) has no \(begin) … \(end) markers; that part of the README not updated\n".utf8))
                continue
            }
            text = text.replacingCharacters(in: b.upperBound..<e.lowerBound, with: "\n" + body + "\n")
        }
        if text != original { try AtomicFile.write(Data(text.utf8), to: url) }
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Print one claim's ledger row and its checks.")
    @OptionGroup var paths: Paths
    @Option(help: "Claim id, e.g. HT-C2.") var claim: String

    func validate() throws {
        guard ClaimRegistry.spec(claim) != nil else {
            throw ValidationError("unknown claim '\(claim)'; expected one of \(ClaimRegistry.all.map(\.id).joined(separator: ", "))")
        }
    }

    func run() throws {
        guard let e = try ledgerEntries(paths).first(where: { $0.claim == claim }) else { return }
        print("\(e.claim) (\(e.paper)), scale \(paths.scale.rawValue): \(e.verdict.rawValue.uppercased())")
        print(e.statement)
        if !e.experiments.isEmpty { print("experiments: \(e.experiments.joined(separator: ", ")); seeds: \(e.seeds)") }
        for c in e.checks {
            let interval = "\(Format.significant(c.estimate.mean, 4)) [\(Format.significant(c.estimate.low, 4)), \(Format.significant(c.estimate.high, 4))]"
            let threshold = "\(c.direction.rawValue) \(Format.significant(c.threshold, 4))" + (c.tolerance.map { " ± \(Format.significant($0, 3))" } ?? "")
            print("  [\(c.verdict.rawValue)] \(c.statistic): \(interval) \(threshold); \(c.sampleSizeDescription)")
            if let p = c.provenance { print("      threshold from \(p.summary)") }
            if let w = c.power {
                print("      smallest detectable effect \(Format.significant(w.smallestDetectableEffect, 3)) (n = \(w.n) \(w.counts))"
                      + (w.claimedEffect.map { "; claimed effect \(Format.significant($0, 3))" } ?? ""))
            }
            if let r = c.reason { print("      \(r)") }
        }
        if !e.notes.isEmpty { print("notes: \(e.notes)") }
        // The committed full-scale reference beside it (issue 19), when there is one.
        let reference = URL(fileURLWithPath: "reference/full")
        if paths.results != "reference", FileManager.default.fileExists(atPath: reference.path),
           let r = try? Ledger.build(results: reference).first(where: { $0.claim == claim }), !r.checks.isEmpty {
            print("reference (reference/full, committed full-scale run): \(r.verdict.rawValue.uppercased())")
            for c in r.checks {
                print("  [\(c.verdict.rawValue)] \(c.statistic): \(Format.significant(c.estimate.mean, 4)) [\(Format.significant(c.estimate.low, 4)), \(Format.significant(c.estimate.high, 4))]; \(c.sampleSizeDescription)")
            }
        } else {
            print("reference: none committed for \(claim) yet (reference/full)")
        }
    }
}

struct PaperCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "paper", abstract: "Write paper/generated/*.tex from the results that exist.")
    @OptionGroup var paths: Paths

    func run() throws {
        let generated = URL(fileURLWithPath: paths.paper).appendingPathComponent("generated")
        try FileManager.default.createDirectory(at: generated, withIntermediateDirectories: true)
        // Tables rendered here from a result's Markdown (see `section`); emptied on every run.
        try? FileManager.default.removeItem(at: generated.appendingPathComponent("tables"))
        try FileManager.default.createDirectory(at: generated.appendingPathComponent("tables"), withIntermediateDirectories: true)
        var ledger = Ledger.table(try ledgerEntries(paths))
        ledger.latexColumnSpec = "@{}p{1.3cm}p{2.0cm}p{1.3cm}p{6.6cm}p{2.8cm}p{0.9cm}@{}"
        // Its rows are tall (the weakest check in words): it must break across pages, or it
        // runs off the one it is placed on.
        ledger.breaksAcrossPages = true
        let ledgerTeX = ledger.latex()
        try AtomicFile.write(Data(ledgerTeX.utf8), to: generated.appendingPathComponent("ledger.tex"))
        try AtomicFile.write(Data(claimsSection(try ledgerEntries(paths)).utf8), to: generated.appendingPathComponent("claims.tex"))
        try AtomicFile.write(Data(summary(try ledgerEntries(paths)).utf8), to: generated.appendingPathComponent("summary.tex"))
        try AtomicFile.write(Data(Self.abstractFindings(try ledgerEntries(paths)).utf8), to: generated.appendingPathComponent("abstract-findings.tex"))
        try AtomicFile.write(Data(Self.conclusion(try ledgerEntries(paths)).utf8), to: generated.appendingPathComponent("conclusion.tex"))
        for paper in ["heavy-tailed", "high-order"] {
            let body = ExperimentRegistry.all.filter { $0.paper == paper }.map(section).joined(separator: "\n")
            try AtomicFile.write(Data(body.utf8), to: generated.appendingPathComponent("\(paper).tex"))
        }
        print("report: wrote \(generated.path)/{summary,abstract-findings,conclusion,ledger,claims,heavy-tailed,high-order}.tex")
    }

    /// The verdict groups of the abstract and the conclusion (issue 31), in reading order, with
    /// the heading each gets in the conclusion.
    static let findingGroups: [(verdicts: [Verdict], heading: String, abstract: String)] = [
        ([.supported], "Reproduced at this scale (supported)", "supported"),
        ([.notSupported], "Not reproduced (not supported: a check's interval lies on the other side of its threshold)", "not supported"),
        ([.inconclusive], "Inconclusive (neither side resolved)", "inconclusive"),
        ([.proxyRecorded], "Recorded through a proxy, not judged", "recorded through a proxy"),
        ([.notTestableAtThisScale, .notTested], "Not testable at this scale, or not tested", "not testable at this scale or not tested"),
        ([.incomplete, .notRun, .notReproducibleHere], "Not run, incomplete or not reproducible here", "not run or incomplete"),
    ]

    /// The abstract's sentence of findings: how many claims fall in each verdict group, and which.
    static func abstractFindings(_ entries: [LedgerEntry]) -> String {
        let parts = findingGroups.compactMap { group -> String? in
            let ids = entries.filter { group.verdicts.contains($0.verdict) }.map(\.claim)
            return ids.isEmpty ? nil : "\(ids.count) \(group.abstract) (\(ids.joined(separator: ", ")))"
        }
        return Table.latexEscape("Of the \(entries.count) claims, " + parts.joined(separator: "; ") + ". ")
            + "Section~\\ref{sec:conclusion} says, claim by claim, what reproduced, what did not, and what could not be tested at this scale and why.\n"
    }

    /// The conclusion: per verdict group, each claim's statement and the check that decided it
    /// (or the notes' reason where nothing was measured), generated from the ledger.
    static func conclusion(_ entries: [LedgerEntry]) -> String {
        var s = "\\section{Conclusion: what reproduced, what did not, and what could not be tested}\\label{sec:conclusion}\n"
        s += "Generated from the claims ledger: each claim under its verdict, with the check that decided it.\n"
        for group in findingGroups {
            let here = entries.filter { group.verdicts.contains($0.verdict) }
            guard !here.isEmpty else { continue }
            s += "\\subsection*{\(Table.latexEscape(group.heading))}\n\\begin{itemize}\\setlength{\\itemsep}{1pt}\\small\n"
            for e in here {
                let why: String
                switch e.verdict {
                case .notRun, .incomplete, .notReproducibleHere: why = e.notes
                default: why = Ledger.decidingCheck(e).map(Ledger.describe) ?? e.notes
                }
                s += "\\item \\textbf{\(Table.latexEscape(e.claim))} (\(Table.latexEscape(e.verdict.rawValue))): \(Table.latexEscape(e.statement)) "
                    + "\\emph{\(Table.latexEscape(e.verdict == .supported ? "Nearest its threshold" : "Deciding"))}: \(Table.latexEscape(why))\n"
            }
            s += "\\end{itemize}\n"
        }
        return s
    }

    /// Page one: the verdict counts, each claim's verdict in one line, and what did not reproduce
    /// (or was not run) with the reason.
    func summary(_ entries: [LedgerEntry]) -> String {
        let counts = Dictionary(grouping: entries, by: \.verdict).mapValues(\.count)
        let order: [Verdict] = [.supported, .notSupported, .inconclusive, .proxyRecorded, .notTested, .notTestableAtThisScale, .incomplete, .notRun, .notReproducibleHere]
        let tally = order.compactMap { v in counts[v].map { "\($0) \(v.rawValue)" } }.joined(separator: ", ")
        var s = "\\section*{At a glance (scale \(paths.scale.rawValue))}\n"
        s += "Of \(entries.count) claims: \(Table.latexEscape(tally)). "
        s += "Each claim's verdict, its experiment and its checks are in Section~2 and Section~3.\n\n"
        // A longtable: with every deciding number in full the rows no longer fit one page.
        s += "{\\footnotesize\\begin{longtable}{@{}llp{0.66\\linewidth}@{}}\\toprule claim & verdict & why (the deciding or weakest check with its value, or what is missing)\\\\ \\midrule\\endhead\n"
        for e in entries {
            // Issue 31: the deciding check with its value and interval, never cut short.
            let deciding = Ledger.decidingCheck(e)
            let why: String
            switch e.verdict {
            case .supported: why = "all \(e.checks.count) checks supported; nearest its threshold: " + (deciding.map(Ledger.describe) ?? "")
            case .notRun, .incomplete, .notReproducibleHere: why = e.notes
            default: why = deciding.map(Ledger.describe) ?? e.notes
            }
            s += "\(Table.latexEscape(e.claim)) & \(Table.latexEscape(e.verdict.rawValue)) & \(Table.latexEscape(why))\\\\\n"
        }
        s += "\\bottomrule\\end{longtable}}\n"
        return s
    }

    /// One paragraph per claim: its statement, verdict, every check (estimate, interval,
    /// threshold and where the threshold comes from, power, the reason when a guard decided) and
    /// the notes, which say what each check measures and what changed in it and why.
    func claimsSection(_ entries: [LedgerEntry]) -> String {
        var s = ""
        for e in entries {
            s += "\\paragraph{\(Table.latexEscape(e.claim)): \(Table.latexEscape(e.verdict.rawValue)).} \(Table.latexEscape(e.statement))"
            if !e.experiments.isEmpty { s += " \\emph{Experiments:} \\texttt{\(Table.latexEscape(e.experiments.joined(separator: ", ")))}; \(Table.latexEscape(seedsLabel(e)))." }
            s += "\n"
            if !e.checks.isEmpty {
                s += "\\begin{itemize}\\setlength{\\itemsep}{0pt}\\footnotesize\n"
                for c in e.checks {
                    var line = "[\(c.verdict.rawValue)] " + Ledger.describe(c)
                    if let p = c.provenance { line += ". Threshold from \(p.summary)" }
                    if let w = c.power {
                        line += ". Smallest detectable effect \(Format.significant(w.smallestDetectableEffect, 3)) (n = \(w.n) \(w.counts))"
                    }
                    s += "\\item \(Table.latexEscape(line)).\n"
                }
                s += "\\end{itemize}\n"
            }
            if !e.notes.isEmpty { s += "{\\footnotesize \(Table.latexEscape(e.notes))}\n" }
            s += "\n"
        }
        return s
    }

    /// The seed count of each experiment behind a claim, from its claims.json (issue 31: a claim
    /// with a 1-seed Monte Carlo experiment beside a 10-seed one was headed "seeds 1", the minimum).
    func seedsLabel(_ e: LedgerEntry) -> String {
        let counts = e.experiments.map { id -> (String, Int) in
            let url = URL(fileURLWithPath: paths.scaleFolder).appendingPathComponent(id).appendingPathComponent("claims.json")
            let results = (try? Data(contentsOf: url)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [[String: Any]] } ?? []
            let seeds = results.filter { $0["claim"] as? String == e.claim }.compactMap { $0["seeds"] as? Int }.max()
            return (id, seeds ?? e.seeds)
        }
        if Set(counts.map(\.1)).count <= 1 { return "seeds \(counts.first?.1 ?? e.seeds)" }
        return "seeds " + counts.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")
    }

    /// Paths in the .tex are relative to paper/ (where latexmk runs).
    func section(_ e: ExperimentSpec) -> String {
        let resultDir = URL(fileURLWithPath: paths.scaleFolder).appendingPathComponent(e.id)
        let rel = "../\(paths.scaleFolder)/\(e.id)"
        // The id on its own line of the heading: a long \texttt id cannot break.
        var s = "\\subsection{\(Table.latexEscape(e.title)) \\texorpdfstring{\\protect\\\\ \\texttt{\(Table.latexEscape(e.id))}}{}}\n"
        s += "Reconstructs: \(Table.latexEscape(e.reconstructs)). Claims: \(Table.latexEscape(e.claims.joined(separator: ", "))). "
        s += "Re-run: \\texttt{make} \\nolinkurl{\(e.id)}.\n\n"
        let config = resultDir.appendingPathComponent("config.json")
        let complete = (try? CompletionRecord.read(ResultLocation(final: resultDir))).flatMap { $0 } != nil
        guard complete, FileManager.default.fileExists(atPath: config.path) else {
            return s + "\\missingresult{\(Table.latexEscape(e.id)) at scale \(paths.scale.rawValue)}\n"
        }
        s += settings(config)
        // "Scale quick, 2 seeds." for captions, from config.json.
        let record = (try? Data(contentsOf: config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        let seedCount = (record["seeds"] as? Int) ?? ((record["config"] as? [String: Any])?["seeds"] as? Int)
        let runLabel = "Scale \(record["scale"] as? String ?? paths.scale.rawValue)\(seedCount.map { ", \($0) seed(s)" } ?? ""), seed \(record["seed"] as? Int ?? 0)."
        for f in e.figures {
            let pdf = resultDir.appendingPathComponent("figures/\(f).pdf")
            if FileManager.default.fileExists(atPath: pdf.path) {
                // \reportfigure (report.tex) logs the printed size for scripts/check-paper.sh's 7 pt check.
                s += "\\begin{figure}[htbp]\\centering\\reportfigure{\(rel)/figures/\(f).pdf}\n"
                // \nolinkurl (hyperref) breaks long paths at slashes; \texttt overflowed the margin.
                let what = e.caption[f] ?? f.replacingOccurrences(of: "_", with: " ")
                s += "\\caption{\(Table.latexEscape(e.id)): \(Table.latexEscape(what)) \(Table.latexEscape(runLabel)) (numbers in \\nolinkurl{\(paths.scaleFolder)/\(e.id)/figures/\(f).gp}).}\\end{figure}\n"
            } else {
                s += "\\missingresult{\(Table.latexEscape("\(e.id)/figures/\(f).pdf"))}\n"
            }
        }
        for g in e.images {
            let png = resultDir.appendingPathComponent("images/\(g).png")
            // Issue 31: a declared grid that is not there is said in a visible box, not skipped
            // (the committed references carried no grids before issue 27).
            guard FileManager.default.fileExists(atPath: png.path) else {
                if e.fullScaleOnlyImages.contains(g) && (record["scale"] as? String ?? paths.scale.rawValue) != Scale.full.rawValue {
                    s += "\\par\\noindent Grid \\nolinkurl{images/\(g).png}: made at full scale only (its data set is not in this scale's protocol).\\par\n"
                } else {
                    s += "\\missingresult{\(Table.latexEscape("\(e.id)/images/\(g).png (no grid in this result)"))}\n"
                }
                continue
            }
            let title = (try? JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: resultDir.appendingPathComponent("images/\(g).json"))))?.title ?? g
            s += "\\begin{figure}[htbp]\\centering\\reportfigure{\(rel)/images/\(g).png}\n"
            s += "\\caption{\(Table.latexEscape(e.id)): \(Table.latexEscape(title)). \(Table.latexEscape(runLabel)) Bears on \(Table.latexEscape(e.claims.joined(separator: ", "))) (grid \\nolinkurl{images/\(g).png}, layout in its JSON sidecar).}\\end{figure}\n"
        }
        for t in e.tables {
            let tex = resultDir.appendingPathComponent("tables/\(t).tex")
            let md = resultDir.appendingPathComponent("tables/\(t).md")
            let texts = (try? String(contentsOf: tex, encoding: .utf8))
            // Issue 31: a table whose LaTeX an older Table.latex() wrote (no size report, shrunk to
            // any size) or that has none (a reference not re-rendered) is rendered here from its
            // Markdown, so that it gets today's layout and the 7 pt check sees it.
            if texts.map({ !$0.contains("\\reporttablesize") }) ?? true,
               let markdown = try? String(contentsOf: md, encoding: .utf8), var table = Table(markdown: markdown) {
                let name = "\(e.id)-\(t).tex"
                table.caption += " (Rendered by the report from \(paths.scaleFolder)/\(e.id)/tables/\(t).md: "
                    + (texts == nil ? "the result has no LaTeX of it.)" : "its LaTeX was written by an older version of the table code.)")
                try? AtomicFile.write(Data(table.latex().utf8), to: URL(fileURLWithPath: paths.paper).appendingPathComponent("generated/tables/\(name)"))
                s += "{\\scriptsize\\def\\reporttablename{\(rel)/tables/\(t).md}\\input{generated/tables/\(name)}}\n"
            } else if texts != nil {
                s += "{\\scriptsize\\def\\reporttablename{\(rel)/tables/\(t).tex}\\input{\(rel)/tables/\(t).tex}}\n"
            } else {
                s += "\\missingresult{\(Table.latexEscape("\(e.id)/tables/\(t).tex"))}\n"
            }
        }
        return s + "\\clearpage\n"
    }

    /// A compact settings paragraph from config.json: scale, seeds, revision, wall time, config keys.
    func settings(_ url: URL) -> String {
        guard let data = try? Data(contentsOf: url),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return "\\missingresult{\(Table.latexEscape(url.path)) (unreadable)}\n"
        }
        let prov = obj["provenance"] as? [String: Any] ?? [:]
        var parts = ["scale \(obj["scale"] ?? "?")", "seed \(obj["seed"] ?? "?")", "threads \(obj["threads"] ?? "?")",
                     timeSummary(folder: url.deletingLastPathComponent(), runSeconds: obj["wallTimeSeconds"] as? Double ?? .nan),
                     "git \(String(describing: prov["gitRevision"] ?? "?").prefix(10))\((prov["gitDirty"] as? Bool) == true ? " (dirty)" : "")"]
        if let seeds = obj["seeds"] as? Int { parts.insert("seeds \(seeds)", at: 2) }
        let cfg = SettingsSummary.items(obj["config"] as? [String: Any] ?? [:])
        // \sloppy: the settings are long unbreakable tokens (paths, hashes); let the spacing stretch.
        return "{\\sloppy\\paragraph{Settings.} " + Table.latexEscape(parts.joined(separator: "; ")) + ". {\\footnotesize "
            + Table.latexEscape(cfg.joined(separator: "; ")) + ".}\\par}\n\n"
    }
}

/// Issue 31: config.json's wall time is that of the run that committed the folder, which may only
/// have merged work units computed before (2–30 s for runs of hours). The sum of the units' own
/// times (units/<group>/<key>.timing.json, as scripts/unit-times.sh reads them) is the compute.
func timeSummary(folder: URL, runSeconds: Double) -> String {
    let units = folder.appendingPathComponent("units")
    let files = ((FileManager.default.enumerator(atPath: units.path)?.allObjects as? [String]) ?? []).filter { $0.hasSuffix(".timing.json") }
    let seconds = files.compactMap { name -> Double? in
        guard let data = try? Data(contentsOf: units.appendingPathComponent(name)),
              let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return obj["seconds"] as? Double
    }
    let run = "wall time of the committing run \(duration(runSeconds))"
    if !seconds.isEmpty {
        return "unit time \(duration(seconds.reduce(0, +))) summed over \(seconds.count) work unit(s) (longest \(duration(seconds.max()!))); \(run)"
    }
    let record = (try? Data(contentsOf: folder.appendingPathComponent(CompletionRecord.fileName)))
        .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    let unitCount = (record?["units"] as? [Any])?.count ?? 0
    if unitCount > 0 {
        return "\(run), which may only have merged its \(unitCount) work unit(s) computed before; their times are not kept in this folder (no units/ timing files)"
    }
    return "wall time \(duration(runSeconds)) (the whole run)"
}

/// "42.0 s", "12.5 min", "8.2 h".
func duration(_ s: Double) -> String {
    guard s.isFinite else { return "unknown" }
    if s < 120 { return String(format: "%.1f s", s) }
    if s < 7200 { return String(format: "%.1f min", s / 60) }
    return String(format: "%.1f h", s / 3600)
}

struct ExperimentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiments",
        abstract: "List the experiment ids, in report order (the one list: ExperimentRegistry), or those that test a claim (for make verify).")
    @Option(help: "Claim id, e.g. HT-C8; without it, every experiment id.") var claim: String?

    func run() throws {
        let known = ExperimentRegistry.all.map(\.id)
        guard let claim else {
            print(known.joined(separator: " "))
            return
        }
        guard let spec = ClaimRegistry.spec(claim) else {
            throw ValidationError("unknown claim '\(claim)'; expected one of \(ClaimRegistry.all.map(\.id).joined(separator: ", "))")
        }
        print(spec.experiments.filter { known.contains($0) }.joined(separator: " "))
    }
}
