import Testing

/// Parent of every experiment smoke suite. Experiments set process-wide state (OpenBLAS's thread
/// count, `Parallel.threads`), and OpenBLAS results can depend on its thread count, so two
/// experiments running at once in the test process could make each other's outputs differ
/// between runs. `.serialized` on the parent runs the nested suites one after another.
@Suite(.serialized) enum ExperimentSmoke {}
