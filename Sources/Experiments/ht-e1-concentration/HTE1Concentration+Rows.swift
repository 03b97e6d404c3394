// HTE1Concentration: row types, the typed results and their reading (issue 30).
import ExperimentKit
import Foundation
import Reporting

extension HTE1Concentration {
    // MARK: - Rows

    /// A row of moments.csv: the noise norm R = ‖ε‖₂ of one (β, D) cell.
    struct Row: DocumentedRow {
        var beta: Double, dimension: Int, samples: Int
        var mean: Double, meanSE: Double, std: Double, stdSE: Double, cv: Double, cvSE: Double, skew: Double, skewSE: Double
        var meanClosed: Double, stdClosed: Double, cvClosed: Double, skewClosed: Double
        /// Exact values by quadrature, and the skew's numerical error bound.
        var meanExact: Double, stdExact: Double, cvExact: Double, skewExact: Double, skewExactError: Double

        enum CodingKeys: String, CodingKey {
            case beta, dimension, samples, mean, meanSE = "mean_se", std, stdSE = "std_se", cv, cvSE = "cv_se", skew, skewSE = "skew_se"
            case meanClosed = "mean_closed_form", stdClosed = "std_closed_form", cvClosed = "cv_closed_form", skewClosed = "skew_closed_form"
            case meanExact = "mean_exact", stdExact = "std_exact", cvExact = "cv_exact", skewExact = "skew_exact", skewExactError = "skew_exact_error"
        }
        static let columns: [ColumnDoc] = [
            .init("beta", "1", "GND shape β of each noise coordinate (GND(0, √2·σ, β) in the released code's convention, σ = config sigma)"),
            .init("dimension", "count", "D, the number of i.i.d. noise coordinates"),
            .init("samples", "count", "Monte Carlo draws of R in this cell (samplesPerCell rounded up to a multiple of the batch count)"),
            .init("mean", "noise units", "Monte Carlo mean of R"),
            .init("mean_se", "noise units", "standard error of `mean` by batch means (the draws split into batchesForStandardErrors equal batches)"),
            .init("std", "noise units", "Monte Carlo standard deviation of R"),
            .init("std_se", "noise units", "batch-means standard error of `std`"),
            .init("cv", "1", "Monte Carlo coefficient of variation std(R)/mean(R)"),
            .init("cv_se", "1", "batch-means standard error of `cv`"),
            .init("skew", "1", "Monte Carlo skewness of R"),
            .init("skew_se", "1", "batch-means standard error of `skew`"),
            .init("mean_closed_form", "noise units", "mean of R by the delta method of the heavy-tailed spec §2 (leading order in 1/D)"),
            .init("std_closed_form", "noise units", "standard deviation of R by the delta method (spec §2)"),
            .init("cv_closed_form", "1", "CV of R by the delta method, √(κ−1)/(2√D) with κ the coordinate kurtosis (spec §2)"),
            .init("skew_closed_form", "1", "skew of R to leading order in 1/√D: skew(R²) − (3/2)·CV(R²)"),
            .init("mean_exact", "noise units", "mean of R by 1-D quadrature of the law of R (NoiseNormExact)"),
            .init("std_exact", "noise units", "standard deviation of R by quadrature"),
            .init("cv_exact", "1", "CV of R by quadrature"),
            .init("skew_exact", "1", "skewness of R by quadrature"),
            .init("skew_exact_error", "1", "numerical error bound of `skew_exact`: |skew at quadrature step h − skew at step 2h|"),
        ]
    }

    /// A row of histograms.csv: one bin of the density of R / mean(R).
    struct HistogramRow: DocumentedRow {
        var dimension: Int
        var beta: Double
        var normalisedNorm: Double
        var density: Double
        enum CodingKeys: String, CodingKey { case dimension, beta, normalisedNorm = "normalised_norm", density }
        static let columns: [ColumnDoc] = [
            .init("dimension", "count", "D, the number of noise coordinates (only the histogram dimensions)"),
            .init("beta", "1", "GND shape β of the noise coordinates"),
            .init("normalised_norm", "1", "bin centre of R / mean(R), the Monte Carlo mean of the same cell; the bins span a range shared by all β at this D (0.1 % to 99.9 % quantiles)"),
            .init("density", "1", "histogram density: draws in the bin / (samples × bin width); draws outside the range are not counted"),
        ]
    }

    /// The CSV files of a run.
    static let csvFiles = [
        CSVFileDoc("moments.csv", Row.self, "Moments of the noise norm R = ‖ε‖₂ per (β, D) cell: Monte Carlo with standard errors, the spec's closed forms and exact quadrature values (tables/moments, the CV/skew figure, HT-C2 and HT-C3)."),
        CSVFileDoc("histograms.csv", HistogramRow.self, "Histograms of R / mean(R) for the panel dimensions (figures/norm_histograms)."),
    ]


    // MARK: - Results

    /// The typed results of a run: the rows of moments.csv and histograms.csv.
    struct Results {
        var moments: [Row]
        var histograms: [HistogramRow]
    }

    static func readResults(from run: RunDirectory) throws -> Results {
        Results(moments: try run.readRows(Row.self, from: "moments.csv"), histograms: try run.readRows(HistogramRow.self, from: "histograms.csv"))
    }

    /// One: HT-E1 is a single Monte Carlo run (its intervals are batch means and regression s.e., not over seeds).
    static func seedCount(of _: Results) -> Int { 1 }
}
