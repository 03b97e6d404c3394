// `report figure-index`: figures/<scale>/INDEX.md for scripts/collect-figures.sh (issue 31: the
// index was a bare list of files). Per experiment, in report order, each collected figure and
// image grid with a thumbnail linking to the full image, its caption (ExperimentRegistry's, or
// the grid's sidecar title), the claims it bears on with their verdicts at that scale, and where
// its numbers are.
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import Reporting

struct FigureIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure-index",
        abstract: "Write figures/<scale>/INDEX.md: each collected figure's thumbnail, caption and the claims it supports.")
    @OptionGroup var paths: Paths
    @Option(help: "Folder the figures were collected into (default figures/<scale>).") var figures = ""

    func run() throws {
        let folder = URL(fileURLWithPath: figures.isEmpty ? "figures/\(paths.scale.rawValue)" : figures)
        let verdicts = Dictionary(((try? ledgerEntries(paths)) ?? []).map { ($0.claim, $0.verdict.rawValue) }, uniquingKeysWith: { a, _ in a })
        let fm = FileManager.default
        var text = "# Figures at the \(paths.scale.rawValue) scale\n\n"
        text += "Collected by `make figures` (scripts/collect-figures.sh) from the complete result folders in `\(paths.scaleFolder)/`; "
        text += "captions from the experiment registry (the report's), verdicts from the claims ledger of this scale. "
        text += "Click a thumbnail for the full image. The numbers behind each figure are in its result folder's CSVs and in `figures/<name>.gp`. "
        text += "Regenerate with `make figures SCALE=\(paths.scale.rawValue)`.\n\n"
        var count = 0
        let known = ExperimentRegistry.all.map(\.id)
        let present = ((try? fm.contentsOfDirectory(atPath: folder.path)) ?? []).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
        for id in known.filter(present.contains) + present.filter({ !known.contains($0) }) {
            let spec = ExperimentRegistry.all.first { $0.id == id }
            let files = ((try? fm.contentsOfDirectory(atPath: folder.appendingPathComponent(id).path)) ?? []).filter { $0.hasSuffix(".png") }
            guard !files.isEmpty else { continue }
            text += "## \(spec.map { "\($0.title) (`\(id)`)" } ?? "`\(id)`")\n\n"
            // Declared figures first, in the report's order, then anything else collected.
            let declared = (spec?.figures ?? []).map { "\($0).png" } + (spec?.images ?? []).map { "grid-\($0).png" }
            for file in declared.filter(files.contains) + files.sorted().filter({ !declared.contains($0) }) {
                let stem = String(file.dropLast(4))
                let isGrid = stem.hasPrefix("grid-")
                var caption: String
                if isGrid {
                    let sidecar = folder.appendingPathComponent("\(id)/\(stem).json")
                    caption = ((try? JSONDecoder().decode(GridSidecar.self, from: Data(contentsOf: sidecar)))?.title).map { "Image grid: \($0)." } ?? "Image grid."
                } else {
                    caption = spec?.caption[stem] ?? "(no caption in the experiment registry)"
                }
                // The claims a caption names ("Bears on HT-C8"), else the experiment's.
                var named: [String] = []
                for m in caption.matches(of: try! Regex("H[TO]-C[0-9]+")) where !named.contains(String(caption[m.range])) {
                    named.append(String(caption[m.range]))
                }
                let claims = named.isEmpty ? (spec?.claims ?? []) : named
                caption = caption.replacingOccurrences(of: "|", with: "\\|")
                let link = "\(id)/\(file)"
                text += "### \(stem)\n\n"
                text += "<a href=\"\(link)\"><img src=\"\(link)\" width=\"360\" alt=\"\(stem)\"></a>\n\n"
                text += caption + "\n\n"
                if !claims.isEmpty {
                    text += "**Bears on:** " + claims.map { c in "\(c) (\(verdicts[c] ?? "no verdict at this scale"))" }.joined(separator: ", ") + ". "
                }
                let pdf = folder.appendingPathComponent("\(id)/\(stem).pdf")
                if fm.fileExists(atPath: pdf.path) { text += "[PDF](\(id)/\(stem).pdf). " }
                text += isGrid ? "Layout in `\(id)/\(stem).json`.\n\n"
                               : "Numbers: `\(paths.scaleFolder)/\(id)/figures/\(stem).gp` and the folder's CSVs.\n\n"
                count += 1
            }
        }
        try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent("INDEX.md"))
        print("report: \(count) figures and grids indexed in \(folder.path)/INDEX.md")
    }
}
