// Model parameters saved to and loaded from HDF5: one dataset per parameter under
// /parameters/<name> (names such as "layers.0.weight"), with the model's architecture and the
// run's provenance as attributes. Loading checks every name and shape and reports the first
// mismatch with the file and the parameter named.
import DataIO
import Foundation
import NeuralNet
import TensorCore

/// HDF5 checkpoints of `ParameterContainer` models.
public enum Checkpoint {
    /// Writes every parameter of `model` to `url` (atomically) with `attributes` on the root.
    public static func save<Model: ParameterContainer>(
        _ model: Model, to url: URL, attributes: [String: String] = [:]
    ) throws where Model.Scalar: HDF5Scalar {
        try HDF5File.create(at: url) { file in
            try file.createGroup("parameters")
            for (name, value) in model.namedParameters() {
                try file.write(value, to: "parameters/\(name)")
            }
            try file.setAttribute("parameter_count", model.parameterCount)
            try file.setAttribute("scalar_type", Model.Scalar.typeName)
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try file.setAttribute(k, v) }
        }
    }

    /// Loads the parameters stored at `url` into `model`; names and shapes must match exactly.
    /// Issue 26 (defect 6): a checkpoint with NaN or infinite weights is refused, naming the file
    /// and the tensor, instead of sampling from a network that can only diverge.
    static func requireFinite<S: TensorScalar>(_ t: Tensor<S>, path: String, object: String) throws {
        let bad = t.scalars.reduce(0) { $0 + ($1.isFinite ? 0 : 1) }
        guard bad == 0 else {
            throw DataIOError.format(path: path, object: object, expected: "finite values", found: "\(bad) NaN or infinite value(s) of \(t.count)")
        }
    }

    public static func load<Model: ParameterContainer>(_ model: Model, from url: URL) throws where Model.Scalar: HDF5Scalar {
        let file = try HDF5File.open(url)
        defer { try? file.close() }
        let stored = Set(try file.members(of: "parameters"))
        let expected = model.parameterNames
        if let missing = expected.first(where: { !stored.contains($0) }) {
            throw DataIOError.missing(path: url.path, object: "parameters/\(missing)", context: "the model has this parameter but the checkpoint does not")
        }
        if let extra = stored.subtracting(expected).sorted().first {
            throw DataIOError.format(path: url.path, object: "parameters/\(extra)", expected: "only the model's parameters", found: "a parameter the model does not have")
        }
        for name in expected {
            let value = try file.readTensor(Model.Scalar.self, from: "parameters/\(name)")
            let current = model.parameter(named: name)!
            guard value.shape == current.shape else {
                throw DataIOError.format(path: url.path, object: "parameters/\(name)", expected: "shape \(current.shape)", found: "shape \(value.shape)")
            }
            try Self.requireFinite(value, path: url.path, object: "parameters/\(name)")
            try model.setParameter(named: name, to: value)
        }
    }
}

// MARK: - Training checkpoints (resume)
//
// A training checkpoint holds everything a training loop needs to continue as if it had never
// stopped, so that a resumed run ends with bit-identical weights:
//
//     /parameters/<name>                      the model's parameters
//     /adam/first_moments/<name>              Adam's m, v (and AMSGrad's running max of v),
//     /adam/second_moments/<name>             present once Adam has taken a step; attributes
//     /adam/max_second_moments/<name>         step_count, learning_rate, beta1, beta2, epsilon, amsgrad
//     /ema/<name>                             EMA weights (if any); attributes decay, update_count
//     /rng/<name>                             xoshiro256** state words (int64 bit patterns, [4])
//     root attributes                         format, training_step, config (JSON text),
//                                             parameter_count, scalar_type, plus caller attributes
//
// Floats are stored in their own precision, so the round trip is exact. The file is written
// atomically (temporary file + rename, see `HDF5File.create`): a run killed while writing leaves
// the previous checkpoint intact. Loading checks the format, every name and element count, and
// the AMSGrad flag and EMA decay, and throws `DataIOError` naming the file and the object.

/// What a training loop saves besides model, optimiser and EMA: where it is and its random state.
public struct TrainingProgress: Equatable, Sendable {
    /// Optimisation steps completed.
    public var step: Int
    /// The loop's random generators by role (e.g. "batches", "noise").
    public var generators: [String: Xoshiro256]
    /// The run's configuration as JSON text (checked by the caller on resume).
    public var config: String

    /// Progress after `step` steps with the given generators and configuration.
    public init(step: Int, generators: [String: Xoshiro256], config: String) {
        self.step = step
        self.generators = generators
        self.config = config
    }
}

extension Checkpoint {
    /// The `format` attribute of training checkpoints.
    public static let trainingFormat = "training-checkpoint v1"

    /// Writes a training checkpoint (layout above) to `url`, atomically.
    public static func saveTraining<Model: ParameterContainer>(
        model: Model, optimizer: Adam<Model.Scalar>, ema: ExponentialMovingAverage<Model.Scalar>?,
        progress: TrainingProgress, to url: URL, attributes: [String: String] = [:]
    ) throws where Model.Scalar: HDF5Scalar {
        let names = model.parameterNames
        guard progress.config.utf8.count < 60_000 else {
            throw DataIOError.format(path: url.path, object: "config", expected: "a JSON configuration under 60 kB (HDF5 attribute limit)",
                                     found: "\(progress.config.utf8.count) bytes")
        }
        try HDF5File.create(at: url) { file in
            try file.createGroup("parameters")
            for (name, value) in model.namedParameters() { try file.write(value, to: "parameters/\(name)") }

            try file.createGroup("adam")
            try file.setAttribute("step_count", optimizer.stepCount, on: "adam")
            try file.setAttribute("learning_rate", optimizer.learningRate, on: "adam")
            try file.setAttribute("beta1", optimizer.beta1, on: "adam")
            try file.setAttribute("beta2", optimizer.beta2, on: "adam")
            try file.setAttribute("epsilon", optimizer.epsilon, on: "adam")
            try file.setAttribute("amsgrad", optimizer.amsgrad ? 1 : 0, on: "adam")
            if !optimizer.firstMoments.isEmpty {
                let groups: [(String, [Tensor<Model.Scalar>])] = [
                    ("first_moments", optimizer.firstMoments), ("second_moments", optimizer.secondMoments),
                ] + (optimizer.amsgrad ? [("max_second_moments", optimizer.maxSecondMoments)] : [])
                for (group, tensors) in groups {
                    precondition(tensors.count == names.count, "Adam holds \(tensors.count) \(group) for \(names.count) parameters")
                    try file.createGroup("adam/\(group)")
                    for (name, t) in zip(names, tensors) { try file.write(t, to: "adam/\(group)/\(name)") }
                }
            }

            if let ema {
                precondition(ema.names == names, "the EMA averages another model (parameter names differ)")
                try file.createGroup("ema")
                try file.setAttribute("decay", ema.decay, on: "ema")
                try file.setAttribute("update_count", ema.updateCount, on: "ema")
                for (name, t) in zip(names, ema.shadow) { try file.write(t, to: "ema/\(name)") }
            }

            try file.createGroup("rng")
            for (role, g) in progress.generators.sorted(by: { $0.key < $1.key }) {
                let s = g.state
                try file.write([s.0, s.1, s.2, s.3].map { Int64(bitPattern: $0) }, shape: [4], to: "rng/\(role)")
            }

            try file.setAttribute("format", trainingFormat)
            try file.setAttribute("training_step", progress.step)
            try file.setAttribute("config", progress.config)
            try file.setAttribute("parameter_count", model.parameterCount)
            try file.setAttribute("scalar_type", Model.Scalar.typeName)
            for (k, v) in attributes.sorted(by: { $0.key < $1.key }) { try file.setAttribute(k, v) }
        }
    }

    /// Restores model parameters, Adam state, EMA weights (if `ema` is given) from a training
    /// checkpoint and returns the saved progress. Adam's hyperparameters are restored too.
    /// - Throws: `DataIOError` naming the file and the object when the file is not a training
    ///   checkpoint of this model (names, sizes, AMSGrad flag, EMA decay or presence differ).
    @discardableResult
    public static func loadTraining<Model: ParameterContainer>(
        model: Model, optimizer: Adam<Model.Scalar>, ema: ExponentialMovingAverage<Model.Scalar>?, from url: URL
    ) throws -> TrainingProgress where Model.Scalar: HDF5Scalar {
        try load(model, from: url)  // checks names and shapes of /parameters
        let file = try HDF5File.open(url)
        defer { try? file.close() }
        let format = (try? file.stringAttribute("format")) ?? "none"
        guard format == trainingFormat else {
            throw DataIOError.format(path: url.path, object: "attribute format", expected: "\"\(trainingFormat)\"", found: "\"\(format)\"")
        }
        let names = model.parameterNames
        func tensors(_ group: String) throws -> [Tensor<Model.Scalar>] {
            try names.map { name in
                let current = model.parameter(named: name)!
                guard try file.exists("\(group)/\(name)") else {
                    throw DataIOError.missing(path: url.path, object: "\(group)/\(name)", context: "the model has this parameter")
                }
                let t = try file.readTensor(Model.Scalar.self, from: "\(group)/\(name)")
                guard t.count == current.count else {
                    throw DataIOError.format(path: url.path, object: "\(group)/\(name)", expected: "\(current.count) values", found: "\(t.count)")
                }
                try Self.requireFinite(t, path: url.path, object: "\(group)/\(name)")
                return t.reshaped(current.shape)
            }
        }

        let amsgrad = try file.attribute("amsgrad", of: "adam", as: Int.self) != 0
        guard amsgrad == optimizer.amsgrad else {
            throw DataIOError.format(path: url.path, object: "adam attribute amsgrad", expected: "\(optimizer.amsgrad)", found: "\(amsgrad)")
        }
        let steps = try file.attribute("step_count", of: "adam", as: Int.self)
        optimizer.reset()
        optimizer.learningRate = try file.attribute("learning_rate", of: "adam", as: Double.self)
        optimizer.beta1 = try file.attribute("beta1", of: "adam", as: Double.self)
        optimizer.beta2 = try file.attribute("beta2", of: "adam", as: Double.self)
        optimizer.epsilon = try file.attribute("epsilon", of: "adam", as: Double.self)
        if try file.exists("adam/first_moments") {
            optimizer.firstMoments = try tensors("adam/first_moments")
            optimizer.secondMoments = try tensors("adam/second_moments")
            if amsgrad { optimizer.maxSecondMoments = try tensors("adam/max_second_moments") }
        }
        optimizer.stepCount = steps

        let hasEMA = try file.exists("ema")
        guard hasEMA == (ema != nil) else {
            throw DataIOError.format(path: url.path, object: "ema", expected: ema != nil ? "EMA weights" : "no EMA weights",
                                     found: hasEMA ? "EMA weights" : "none")
        }
        if let ema {
            let decay = try file.attribute("decay", of: "ema", as: Double.self)
            guard decay == ema.decay else {
                throw DataIOError.format(path: url.path, object: "ema attribute decay", expected: "\(ema.decay)", found: "\(decay)")
            }
            ema.restore(shadow: try tensors("ema"), updateCount: try file.attribute("update_count", of: "ema", as: Int.self))
        }

        var generators: [String: Xoshiro256] = [:]
        for role in try file.members(of: "rng") {
            let words = try file.read(Int64.self, from: "rng/\(role)").values.map { UInt64(bitPattern: $0) }
            guard words.count == 4, words.contains(where: { $0 != 0 }) else {
                throw DataIOError.format(path: url.path, object: "rng/\(role)", expected: "4 xoshiro256** state words, not all zero", found: "\(words)")
            }
            generators[role] = Xoshiro256(state: (words[0], words[1], words[2], words[3]))
        }
        return TrainingProgress(
            step: try file.attribute("training_step", as: Int.self), generators: generators,
            config: try file.stringAttribute("config"))
    }
}
