// Shipped score networks (issue 27, item 6): a trained image model reduced to what sampling
// needs — the EMA weights and the training configuration (noise levels, image size, width) — so
// that reference/full/<id>/models/ can hold the full-scale models at a quarter of a training
// checkpoint's size (no training weights, no Adam moments), and `resample` can draw new samples
// and grids from them without training.
import DataIO
import Foundation
import NeuralNet
import TensorCore

public enum ShippedModel {
    /// The `kind` attribute of a shipped model file.
    public static let kind = "image-score-network EMA weights (shipped)"

    /// Writes the EMA weights of the training checkpoint `checkpoint` (trained with the
    /// configuration stored in it) to `url`, with that configuration as the `config` attribute.
    /// The `kind` attribute of a shipped second-order model (HO-E4, HO-E6: s̃₁ and s̃₂ at one σ).
    public static let secondOrderKind = "image second-order network EMA weights (shipped)"

    /// Writes the EMA weights of the training checkpoint `checkpoint` (trained with the
    /// configuration stored in it: a multi-level score network, or a one-σ second-order network)
    /// to `url`, with that configuration as the `config` attribute.
    public static func export(checkpoint: URL, to url: URL) throws {
        let file = try HDF5File.open(checkpoint)
        let json = try file.stringAttribute("config")
        try file.close()
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let config = try? JSONDecoder().decode(ImageScoreTrainingConfig.self, from: Data(json.utf8)) {
            let model = try ImageScoreModel.load(checkpoint: checkpoint, config: config)
            try Checkpoint.save(model.network, to: url, attributes: ["config": json, "kind": kind])
        } else if let config = try? JSONDecoder().decode(ImageSecondOrderTrainingConfig.self, from: Data(json.utf8)) {
            let model = try ImageSecondOrderModel.load(checkpoint: checkpoint, config: config)
            try Checkpoint.save(model.network, to: url, attributes: ["config": json, "kind": secondOrderKind])
        } else {
            throw DataIOError.format(path: checkpoint.path, object: "attribute config",
                                     expected: "an image score network's or second-order network's training configuration", found: String(json.prefix(80)))
        }
    }

    /// The `kind` attribute of a shipped file (nil when it has none).
    public static func kind(of url: URL) throws -> String? {
        let file = try HDF5File.open(url)
        defer { try? file.close() }
        return try? file.stringAttribute("kind")
    }

    /// The second-order model of a shipped file, and its training configuration.
    public static func loadSecondOrder(_ url: URL) throws -> ImageSecondOrderModel {
        let file = try HDF5File.open(url)
        let json = try file.stringAttribute("config")
        let found = (try? file.stringAttribute("kind")) ?? "none"
        try file.close()
        guard found == secondOrderKind else {
            throw DataIOError.format(path: url.path, object: "attribute kind", expected: "\"\(secondOrderKind)\"", found: "\"\(found)\"")
        }
        guard let config = try? JSONDecoder().decode(ImageSecondOrderTrainingConfig.self, from: Data(json.utf8)) else {
            throw DataIOError.format(path: url.path, object: "attribute config", expected: "a second-order network's training configuration",
                                     found: String(json.prefix(80)))
        }
        var rng = Xoshiro256(seed: 0)
        let network = UNet<Float>(baseChannels: config.baseChannels, outputChannels: config.outputChannels, using: &rng)
        try Checkpoint.load(network, from: url)
        return ImageSecondOrderModel(network: network, config: config)
    }

    /// The sampling model of a shipped file, and its training configuration.
    public static func load(_ url: URL) throws -> (model: ImageScoreModel, config: ImageScoreTrainingConfig) {
        let file = try HDF5File.open(url)
        let json = try file.stringAttribute("config")
        let found = (try? file.stringAttribute("kind")) ?? "none"
        try file.close()
        guard found == kind else {
            throw DataIOError.format(path: url.path, object: "attribute kind", expected: "\"\(kind)\"", found: "\"\(found)\"")
        }
        guard let config = try? JSONDecoder().decode(ImageScoreTrainingConfig.self, from: Data(json.utf8)) else {
            throw DataIOError.format(path: url.path, object: "attribute config", expected: "an image score network's training configuration",
                                     found: String(json.prefix(80)))
        }
        var rng = Xoshiro256(seed: 0)
        let network = UNet<Float>(baseChannels: config.baseChannels, outputChannels: 1, using: &rng)
        try Checkpoint.load(network, from: url)
        return (ImageScoreModel(network: network, sigmas: config.levels.sigmas, height: config.height, width: config.width), config)
    }
}
