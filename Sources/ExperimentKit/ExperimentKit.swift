// ExperimentKit
