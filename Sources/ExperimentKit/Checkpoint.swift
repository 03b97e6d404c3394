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
            try model.setParameter(named: name, to: value)
        }
    }
}
