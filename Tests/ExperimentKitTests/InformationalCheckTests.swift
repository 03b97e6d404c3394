// Information-only checks (issue 30): shown with their own verdict, never deciding the claim's.
import Foundation
import Testing
@testable import ExperimentKit

@Suite struct InformationalCheckTests {
    static func check(_ lo: Double, _ hi: Double) -> ClaimCheck {
        ClaimCheck(statistic: "x", estimate: Estimate(mean: (lo + hi) / 2, low: lo, high: hi, n: 5), direction: .greaterThan, threshold: 0)
    }

    /// A not-supported information check leaves a supported claim supported; alone, the checks
    /// that decide are none, so the claim is inconclusive.
    @Test func neverDecides() {
        let deciding = Self.check(1, 2), info = Self.check(-2, -1).asInformation()
        #expect(info.verdict == .notSupported && info.informational == true)
        #expect(Verdict.combining([deciding, info]) == .supported)
        #expect(Verdict.combining([info]) == .inconclusive)
    }

    /// A deciding check encodes without the field (claims.json byte-identical); an information
    /// check encodes it and decodes back.
    @Test func encoding() throws {
        let plain = String(decoding: try JSONEncoder().encode(Self.check(1, 2)), as: UTF8.self)
        #expect(!plain.contains("informational"))
        let info = try JSONDecoder().decode(ClaimCheck.self, from: JSONEncoder().encode(Self.check(1, 2).asInformation()))
        #expect(info.informational == true)
    }

    /// The ledger's deciding check skips information checks, and its line marks them.
    @Test func ledgerSkipsInformation() {
        let deciding = Self.check(1, 2), info = Self.check(-0.5, 1).asInformation()
        let entry = LedgerEntry(claim: "HO-C7", paper: "", statement: "", experiments: [], commands: [], checks: [info, deciding], seeds: 5,
                                verdict: .supported, scales: [], notes: "")
        #expect(Ledger.decidingCheck(entry)?.informational == nil)
        #expect(Ledger.describe(info).hasSuffix("(information only: does not decide the claim)"))
    }
}
