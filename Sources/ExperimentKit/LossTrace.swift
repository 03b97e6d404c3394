// One row type for every image experiment's loss.csv (issue 30: it was declared five times, each
// computing the interval ends itself). A row is the model's identifying columns (an experiment's
// `LossTraceModel`: seed, β, data set, …, or an empty struct for a single model), then the
// interval's last step and mean loss: the same CSV columns as before.

/// The columns that identify which model a loss trace belongs to, and what its loss is.
public protocol LossTraceModel: Codable, Sendable {
    /// The identifying columns, in the order the type encodes them.
    static var columns: [ColumnDoc] { get }
    /// What `mean_loss` averages, e.g. "mean GND-DSM training loss over the interval's minibatches".
    static var lossDescription: String { get }
}

/// A row of loss.csv: one training interval of one model.
public struct LossTraceRow<Model: LossTraceModel>: DocumentedRow, Sendable {
    public var model: Model
    /// Last training step of the interval.
    public var intervalEndStep: Int
    public var meanLoss: Double

    public init(model: Model, intervalEndStep: Int, meanLoss: Double) {
        self.model = model
        self.intervalEndStep = intervalEndStep
        self.meanLoss = meanLoss
    }

    enum CodingKeys: String, CodingKey { case intervalEndStep = "interval_end_step", meanLoss = "mean_loss" }

    /// The model's fields, flattened into the same row, then the interval's.
    public init(from decoder: Decoder) throws {
        model = try Model(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intervalEndStep = try c.decode(Int.self, forKey: .intervalEndStep)
        meanLoss = try c.decode(Double.self, forKey: .meanLoss)
    }

    public func encode(to encoder: Encoder) throws {
        try model.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(intervalEndStep, forKey: .intervalEndStep)
        try c.encode(meanLoss, forKey: .meanLoss)
    }

    public static var columns: [ColumnDoc] {
        Model.columns + [
            .init(
                "interval_end_step", "count",
                "last training step of the interval (every checkpointEvery steps, the last cut at the step count)"),
            .init("mean_loss", "1", Model.lossDescription),
        ]
    }

    /// The rows of one model's trace: interval i (0-based) ends at min((i + 1)·every, steps).
    public static func rows(_ trace: [Double], every: Int, steps: Int, model: Model) -> [LossTraceRow] {
        trace.enumerated().map { i, loss in LossTraceRow(model: model, intervalEndStep: min((i + 1) * every, steps), meanLoss: loss) }
    }
}
