// resample: new samples and grids from shipped score networks, without training (issue 27). Each
// model file of reference/full/<id>/models/ (EMA weights plus the training configuration, see
// ShippedModels.swift) is sampled with annealed Langevin (Gaussian noise, NCSNv2's step rule
// ε_i = ratio·σ_i², T steps per level, the final denoise) and drawn as one row of a labelled grid
// (rows: models, columns: chains), so that a reviewer can see full-scale samples in minutes.
// One-σ second-order models (HO-E4, HO-E6) are sampled with ULA on q_σ and denoised (below).
// Usage: resample --models reference/full/ht-e5-class-balance/models --out results/resample/ht-e5-class-balance
import ArgumentParser
import DataIO
import ExperimentKit
import Foundation
import ScoreKit
import TensorCore

@main
struct Resample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resample",
        abstract: "Draw new samples and a labelled grid from shipped score networks (reference/full/<id>/models), without training.")

    @Option(help: "Folder of shipped model files (*.h5).") var models: String
    @Option(help: "First export the training checkpoints (*.h5) of this folder (a result's models/) into --models as shipped models.") var exportFrom: String?
    @Flag(help: "Only export (with --export-from); draw nothing.") var exportOnly = false
    @Option(help: "Output folder (written: samples.png and samples.json, or samples-<H>x<W>.* per image size).") var out: String = ""
    @Option(parsing: .unconditional, help: "Chains per model.") var samples = 10
    @Option(parsing: .unconditional, help: "Langevin steps per noise level T.") var langevinSteps = 100
    @Option(parsing: .unconditional, help: "ε/σ_L² (ε_i = ratio·σ_i²).") var stepRatio = 0.2
    @Option(help: "Seed of the chains' starts and noise.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Threads (models are sampled side by side).") var threads = 2

    func validate() throws {
        guard (1...100).contains(samples) else { throw ValidationError("--samples must be between 1 and 100, got \(samples)") }
        guard (1...10_000).contains(langevinSteps) else { throw ValidationError("--langevin-steps must be between 1 and 10000, got \(langevinSteps)") }
        guard stepRatio > 0, stepRatio < 2 else { throw ValidationError("--step-ratio must be in (0, 2), got \(stepRatio)") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64, got \(threads)") }
        guard exportOnly || !out.isEmpty else { throw ValidationError("--out is needed to draw samples (or pass --export-only)") }
        guard !exportOnly || exportFrom != nil else { throw ValidationError("--export-only needs --export-from") }
    }

    func run() throws {
        do {
            Parallel.configure(threads: threads)
            let folder = URL(fileURLWithPath: models)
            if let source = exportFrom {
                let checkpoints = ((try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
                guard !checkpoints.isEmpty else { throw ValidationError("--export-from \(source): no .h5 training checkpoints there") }
                for name in checkpoints {
                    try ShippedModel.export(checkpoint: URL(fileURLWithPath: source).appendingPathComponent(name), to: folder.appendingPathComponent(name))
                }
                print("resample: exported \(checkpoints.count) model(s) from \(source) to \(models)")
                if exportOnly { return }
            }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".h5") }.sorted()
            guard !names.isEmpty else { throw ValidationError("--models \(models): no .h5 model files there (make paper-reference's results ship them under reference/full/<id>/models)") }
            let kinds = try names.map { try ShippedModel.kind(of: folder.appendingPathComponent($0)) }
            if kinds.allSatisfy({ $0 == ShippedModel.secondOrderKind }) {
                try resampleSecondOrder(names: names, folder: folder)
                return
            }
            guard !kinds.contains(ShippedModel.secondOrderKind) else {
                throw ValidationError("--models \(models): holds both annealed score networks and one-σ second-order networks; resample one experiment's models at a time")
            }
            let loaded = try names.map { try ShippedModel.load(folder.appendingPathComponent($0)) }
            // One grid per image size: an experiment may ship models of two data sets (HT-E6:
            // 8×8 digits and 28×28 Fashion-MNIST). One size writes samples.png; several write
            // samples-<H>x<W>.png each.
            let sizes = Dictionary(grouping: loaded.indices) { "\(loaded[$0].config.height)x\(loaded[$0].config.width)" }
            let target = URL(fileURLWithPath: out)
            try AtomicFile.createFolder(target)
            for size in sizes.keys.sorted() {
                let members = sizes[size]!
                let shape = (loaded[members[0]].config.height, loaded[members[0]].config.width)
                let rows = try parallelMap(members.count, threads: threads) { k -> [Float] in
                    let (model, config) = loaded[members[k]]
                    let sigmaL = config.levels.sigmas[config.levels.sigmas.count - 1]
                    let sampling = ImageSamplingConfig(stepSize: stepRatio * sigmaL * sigmaL, stepsPerLevel: langevinSteps, noise: .gaussian,
                                                       finalDenoise: true, batchSize: samples)
                    return ImageSampler.sample(model: model, config: sampling, count: samples, seed: seed).clamped().images.scalars
                }
                let panels = Tensor<Float>(shape: [members.count * samples, shape.0 * shape.1], scalars: rows.flatMap { $0 })
                let grid = LabelledImageGrid(
                    rows: GridAxis(name: "model", labels: members.map { String(names[$0].dropLast(3)) }),
                    columns: GridAxis(name: "chain", labels: (0..<samples).map(String.init)),
                    panelHeight: shape.0, panelWidth: shape.1,
                    title: "resampled from the shipped models in \(models): Gaussian Langevin, T = \(langevinSteps), ε_i = \(stepRatio)·σ_i², seed \(seed)")
                let name = sizes.count == 1 ? "samples" : "samples-\(size)"
                try grid.write(panels, name: name, in: target)
                print("resample: \(members.count) model(s) × \(samples) chains -> \(target.appendingPathComponent("\(name).png").path)")
            }
        } catch let e as ValidationError {
            throw e
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("error: resample: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// One-σ second-order models (HO-E4, HO-E6): ULA chains on q_σ from Uniform[0, 1] pixels,
    /// T = --langevin-steps steps at ε = ratio·σ², then the Tweedie denoise x + σ²s̃₁(x), clamped
    /// to [0, 1]; one grid row per model.
    func resampleSecondOrder(names: [String], folder: URL) throws {
        let loaded = try names.map { try ShippedModel.loadSecondOrder(folder.appendingPathComponent($0)) }
        let shape = (loaded[0].config.height, loaded[0].config.width)
        guard loaded.allSatisfy({ ($0.config.height, $0.config.width) == shape }) else {
            throw ValidationError("--models \(models): the models have different image sizes; resample one experiment's models at a time")
        }
        let d = shape.0 * shape.1
        let rows = try parallelMap(loaded.count, threads: threads) { k -> [Float] in
            let model = loaded[k]
            let sigma = model.config.sigma
            let ula = OzakiLangevin(rule: .ula, stepSize: stepRatio * sigma * sigma, bound: 1e3)
            var rng = Xoshiro256(seed: seed, key: [0x7265_7361])
            var x = Tensor<Float>(shape: [samples, d], scalars: (0..<(samples * d)).map { _ in Float(rng.nextUniform()) })
            var noise = ChainNoise(seed: seed, count: samples)
            var z = Tensor<Float>(shape: [samples, d])
            var divergence = ChainDivergence(chains: samples)
            var score = Tensor<Float>(shape: [0]), head = Tensor<Float>(shape: [0])
            for t in 0..<langevinSteps {
                model.evaluate(x, score: &score, head: &head)
                noise.fill(&z)
                _ = ula.stepImages(&x, score: score, diagonal: nil, noise: z, divergence: &divergence, step: t)
            }
            model.evaluate(x, score: &score, head: &head)
            let s2 = Float(sigma * sigma)
            return (0..<x.count).map { min(1, max(0, x.scalars[$0] + s2 * score.scalars[$0])) }
        }
        let panels = Tensor<Float>(shape: [loaded.count * samples, d], scalars: rows.flatMap { $0 })
        let grid = LabelledImageGrid(
            rows: GridAxis(name: "model", labels: names.map { String($0.dropLast(3)) }),
            columns: GridAxis(name: "chain", labels: (0..<samples).map(String.init)),
            panelHeight: shape.0, panelWidth: shape.1,
            title: "resampled from the shipped one-σ models in \(models): ULA on q_σ, T = \(langevinSteps), ε = \(stepRatio)·σ², Tweedie-denoised, seed \(seed)")
        let target = URL(fileURLWithPath: out)
        try AtomicFile.createFolder(target)
        try grid.write(panels, name: "samples", in: target)
        print("resample: \(names.count) one-σ model(s) × \(samples) chains -> \(target.appendingPathComponent("samples.png").path)")
    }
}
