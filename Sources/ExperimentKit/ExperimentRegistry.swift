// What each experiment id reconstructs, for the report and the README. The papers' own figure
// and table numbers could not be read (both specs, §0), so every mapping is "unverified" until
// someone checks it against the PDFs.

/// An experiment of the artifact.
public struct ExperimentSpec: Codable, Sendable {
    public var id: String
    /// "heavy-tailed" or "high-order".
    public var paper: String
    public var title: String
    /// What it reconstructs in the paper, and how sure we are.
    public var reconstructs: String
    /// Figure file stems it writes under figures/.
    public var figures: [String]
    /// Table file stems it writes under tables/.
    public var tables: [String]
    public var claims: [String]
    /// Image-grid stems it writes under images/ (PNG + JSON sidecar), shown in the report when
    /// present; absent ones are reported missing, except those in `fullScaleOnlyImages`.
    public var images: [String] = []
    /// Grids of `images` that only the full scale makes (a data set the quick protocol does not
    /// run): in a quick run's report their absence is said in a plain sentence, not as a missing
    /// result.
    public var fullScaleOnlyImages: [String] = []

    /// What each figure shows, its error bars and the claim it bears on (issue 19); the report
    /// adds the scale and seeds of the run it was drawn from.
    public var caption: [String: String] { ExperimentRegistry.figureCaptions[id] ?? [:] }
}

/// The experiments of the artifact, in report order.
public enum ExperimentRegistry {
    /// Figure captions by experiment and figure stem: what is plotted, what the bars are, which
    /// claim it bears on.
    public static let figureCaptions: [String: [String: String]] = [
        "ht-e0-toy-balance": [
            "minority_fraction": "Minority-mode fraction of annealed Langevin samples on the 10:1 two-mode toy against the training β, per Langevin-noise arm and conditioning; mean over seeds with Student-t 95% bars (arms of one seed share every stream but the training-noise shape). Dashed: the training fraction and 50%. Bears on HT-C8.",
            "langevin_paths": "Langevin paths of seed 0 (unconditioned MLP, Laplace Langevin noise) for three β; orange paths end at the minority mode. Illustration of HT-C8; no bars.",
            "data": "The toy data (10,000 points at (5, 5), 1,000 at (−5, −5)) and the same points with GND(β) noise at σ = 1, per β. Illustration; no bars.",
        ],
        "ht-e1-concentration": [
            "norm_histograms": "Histograms of the noise norm R/E[R] of GND(0, √2, β) noise vectors, one panel per dimension D, one line per β (one seed, Monte Carlo). Bears on HT-C2 and HT-C3.",
            "cv_skew_vs_dimension": "Coefficient of variation and skew of the noise norm against D per β (points: Monte Carlo with standard-error bars from batch means; dashed: the closed forms). Bears on HT-C2 (CV ∝ 1/√D, CV ratio 1.58) and HT-C3 (right skew for β < 2).",
        ],
        "ht-e2-noise-scaling": [
            "overlap_by_level": "Realised overlap of adjacent noise levels along the schedule, per D and β: dashed, the NCSNv2 ratio γ (moment band); solid, the iterative noise-scaling algorithm (quantile band); horizontal, the target. Exact laws, no bars. Bears on HT-C3, HT-C4.",
            "overlap_vs_ratio": "Overlap of adjacent noise-norm laws against the ratio γ = σ_{i−1}/σ_i per β and D; dashed, the NCSNv2 closed form for Gaussian noise. Exact laws, no bars. Bears on HT-C4 and HT-C5.",
        ],
        "ht-e3-score-error": [
            "error_vs_dimension": "Relative score error of σ-conditioned GND-DSM MLPs against the exact score of the GND-perturbed training set, against D, per β; (a) on same-β perturbed points, (b) on common Gaussian-perturbed points; mean ± Student-t 95% over seeds. Bears on HT-C1 and HT-C6.",
            "error_by_level": "The same error per noise level, (a) same-β points, (b) common points; mean over seeds (no bars). Bears on HT-C6.",
            "error_vs_steps": "The same error during training on a subset of the evaluation points; mean over seeds (no bars). Bears on HT-C1 (the floor reached for each β).",
        ],
        "ht-e4-convergence": [
            "chain_diagnostics": "Along annealed Langevin chains on the 2-D toy, per β and step: mean score norm and mean distance to the nearest training point (means over chains and seeds, no bars). Bears on HT-C7.",
            "magnitude_vs_distance": "Learned score magnitude against distance to the nearest training point, one panel per β on common log axes (coloured points: chain states of all seeds; black: the exact minimiser of the notebook loss at seed 0's points), with the fitted log-log slope in each title, to compare with β − 1. Bears on HT-C7.",
        ],
        "ht-e5-class-balance": [
            "balance_vs_beta": "Minority fraction of samples (left) and entropy of the two-class histogram (right) against the training β, per Langevin-noise arm (offset ±0.01 in β so that bars do not hide each other); mean over seeds with Student-t 95% bars. Dashed: the training fraction, 50 % (when in range; the panel title says when it is off scale) and log 2. Bears on HT-C9.",
        ],
        "ho-e1-hessian-accuracy": [
            "error_vs_steps": "Relative Frobenius error of s₂ during training on a subset of the test points: autodiff Jacobian of the DSM-trained s̃₁ against the D2SM head (s̃₁ frozen), per data set; mean over seeds (no bars). Bears on HO-C2.",
            "error_vs_dimension": "Relative Frobenius error of s₂ against D for autodiff and the D2SM arms; mean ± 95% over seeds. Bears on HO-C2.",
        ],
        "ho-e2-cost": [
            "cost_vs_dimension": "Seconds per batch to obtain s₂ against D (log-log; median of repeats), autodiff (batched and per-coordinate VJP loop; full and diagonal) against one D2SM forward (full, diagonal, low-rank heads), with fitted slopes in the key. Bears on HO-C3.",
        ],
        "ho-e3-variance-reduction": [
            "spread_vs_sigma": "Per-sample standard deviation of the D2SM loss estimate at a fixed model on the 2-D mixture against σ, for forms A and B: plain, antithetic only, and variance-reduced (VR) estimators (exact over many draws; no bars). Bears on HO-C4.",
        ],
        "ho-e5-ozaki-synthetic": [
            "heavy_fraction": "Heavy-mode fraction of ULA and Ozaki chains on the stiff 0.2/0.8 mixture against the Langevin step (log), with oracle (left) and learned (right) scores, pooled over seeds (no bars; per-seed steps to the band are in tables/mixing). Dashed: the true weight 0.8. Bears on HO-C7.",
        ],
    ]

    public static let all: [ExperimentSpec] = [
        ExperimentSpec(id: "ht-e0-toy-balance", paper: "heavy-tailed", title: "Imbalanced 2-D toy: class balance of Langevin samples (spec E0)",
                       reconstructs: "the authors' notebook example_2d.ipynb (not a numbered paper figure; whether the paper shows it is unverified)",
                       figures: ["minority_fraction", "langevin_paths", "data"], tables: ["balance"], claims: ["HT-C8"]),
        ExperimentSpec(id: "ht-e1-concentration", paper: "heavy-tailed", title: "Noise-norm concentration (spec §2, E1)",
                       reconstructs: "the paper's concentration-of-measure figure(s) for the noise-vector norm; figure number unknown (unverified, [RECON] layout)",
                       figures: ["norm_histograms", "cv_skew_vs_dimension"], tables: ["moments"], claims: ["HT-C2", "HT-C3"]),
        ExperimentSpec(id: "ht-e2-noise-scaling", paper: "heavy-tailed", title: "Iterative noise scaling (spec §3, E2)",
                       reconstructs: "the paper's noise-scaling algorithm and its comparison with NCSNv2's rule; table/figure numbers unknown (unverified, algorithm [RECON])",
                       figures: ["overlap_by_level", "overlap_vs_ratio"], tables: ["schedules"], claims: ["HT-C3", "HT-C4", "HT-C5"]),
        ExperimentSpec(id: "ht-e3-score-error", paper: "heavy-tailed", title: "Score estimation error against the exact perturbed-data score (spec E3)",
                       reconstructs: "the paper's \"improved score estimation\" evidence; figure/table number unknown (unverified, protocol [RECON])",
                       figures: ["error_vs_dimension", "error_by_level", "error_vs_steps"], tables: ["score_error"], claims: ["HT-C1", "HT-C6"]),
        ExperimentSpec(id: "ht-e4-convergence", paper: "heavy-tailed", title: "Annealed Langevin convergence diagnostics per β, 2-D toy (spec E4)",
                       reconstructs: "the paper's convergence discussion (score growth β − 1, divergence of Gaussian chains); no figure number known (unverified)",
                       figures: ["chain_diagnostics", "magnitude_vs_distance"], tables: ["convergence"], claims: ["HT-C7"]),
        ExperimentSpec(id: "ht-e5-class-balance", paper: "heavy-tailed", title: "Class balance of samples on a 1:10 imbalanced image pair (spec E5)",
                       reconstructs: "the paper's imbalanced MNIST 1-vs-8 experiment (protocol (b) from the code's comments); the same 1-vs-8 pair on the 8×8 digits at both scales (issue 28; Fashion-MNIST trouser vs bag before it) stands in for 28×28 MNIST; figure/table number unknown (unverified)",
                       figures: ["balance_vs_beta"], tables: ["balance"], claims: ["HT-C9"],
                       images: ["samples-gaussian", "samples-gnd-unscaled"]),
        ExperimentSpec(id: "ht-e6-sample-quality", paper: "heavy-tailed", title: "Sample quality against Gaussian DSM, with offline proxies for FID/KID (spec E6)",
                       reconstructs: "the paper's FID/IS/KID table for MNIST, Fashion-MNIST and CIFAR-10 (numbers unavailable here); classifier-feature FD/KID and PRDC stand in for Inception metrics (unverified)",
                       figures: [], tables: ["quality", "comparison"], claims: ["HT-C10"],
                       images: ["samples-digits8x8", "samples-fashion-mnist"], fullScaleOnlyImages: ["samples-fashion-mnist"]),
        ExperimentSpec(id: "ho-e1-hessian-accuracy", paper: "high-order", title: "Second-order score accuracy: D2SM against autodiff (spec E1)",
                       reconstructs: "the paper's accuracy comparison of D2SM with the Jacobian of a DSM-trained s₁ on synthetic data; figure/table number unknown (unverified, protocol [RECON])",
                       figures: ["error_vs_steps", "error_vs_dimension"], tables: ["accuracy", "ratios", "metrics"], claims: ["HO-C2", "HO-C1"]),
        ExperimentSpec(id: "ho-e2-cost", paper: "high-order", title: "Cost of second-order scores: D2SM against autodiff (spec E2)",
                       reconstructs: "the abstract's efficiency claim (autodiff ~D times more expensive); figure/table number unknown (unverified, setup [RECON])",
                       figures: ["cost_vs_dimension"], tables: ["cost"], claims: ["HO-C3"]),
        ExperimentSpec(id: "ho-e3-variance-reduction", paper: "high-order", title: "Variance reduction of second-order DSM (spec E3)",
                       reconstructs: "the effect of the released code's hosm_plus_vr objective; whether the paper shows it is unverified (protocol [RECON])",
                       figures: ["spread_vs_sigma"], tables: ["spread", "error"], claims: ["HO-C4"]),
        ExperimentSpec(id: "ho-e5-ozaki-synthetic", paper: "high-order", title: "Ozaki against ULA on a stiff 0.2/0.8 mixture (spec E5)",
                       reconstructs: "the paper's synthetic mixing demonstration of Ozaki sampling; figure number unknown (unverified, setup [RECON])",
                       figures: ["heavy_fraction"], tables: ["mixing"], claims: ["HO-C7"]),
        ExperimentSpec(id: "ho-e4-denoising-uncertainty", paper: "high-order", title: "Uncertainty in denoising from learned s̃₁, s̃₂ on images (spec E4)",
                       reconstructs: "the MNIST/CIFAR-10 uncertainty figures (mean, variance map, covariance eigen-images) on 8×8 digits / Fashion-MNIST; figure numbers unknown (unverified, metrics [RECON])",
                       figures: ["learning_curve", "calibration_deciles"], tables: ["uncertainty", "learning_curve", "calibration", "structure"], claims: ["HO-C5", "HO-C6"],
                       images: ["lowrank-A-denoising", "lowrank-A-variance", "lowrank-A-eigen", "lowrank-B-variance", "lowrank-B-eigen", "full-mixture-variance", "full-mixture-eigen"]),
        ExperimentSpec(id: "ho-e6-ozaki-images", paper: "high-order", title: "Class mixing of diagonal-Ozaki against ULA chains on images (spec E6)",
                       reconstructs: "the abstract's natural-image Ozaki sampling, on 8×8 digits / Fashion-MNIST with classifier-based mixing metrics; figure number unknown (unverified, setup [RECON])",
                       figures: ["histogram_distance"], tables: ["mixing"], claims: ["HO-C8"],
                       images: ["chains-c-0.01", "chains-c-0.05", "chains-c-0.2", "chains-c-0.5", "chains-c-1.0", "chains-c-2.0", "chains-c-4.0"]),
    ]

    public static func spec(_ id: String) -> ExperimentSpec? { all.first { $0.id == id } }
}
