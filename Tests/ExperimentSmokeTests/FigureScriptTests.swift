// scripts/figure.sh, the per-experiment step of make figures, against a real experiment binary.
import Foundation
import Testing

extension ExperimentSmoke {
    /// Issue 26: `scripts/figure.sh` (what `make figures` runs per experiment) grepped the
    /// pretty-printed complete.json for the seed, never matched, and re-merged: an edited CSV in
    /// a complete result was silently overwritten. It must take the checked `--render-only` path,
    /// which refuses the edited file by name. The bin folder holds a wrapper that logs its
    /// arguments and runs the real ht-e1-concentration at a tiny size.
    @Suite struct FigureScriptTests {
        @Test func completeResultTakesTheCheckedRenderOnlyPath() throws {
            let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let script = repo.appendingPathComponent("scripts/figure.sh")
            let id = "ht-e1-concentration"
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("figure-sh-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: work) }
            let bin = work.appendingPathComponent("bin"), calls = work.appendingPathComponent("calls.log")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            let wrapper = bin.appendingPathComponent(id)
            try "#!/bin/sh\necho \"$*\" >> '\(calls.path)'\nexec '\(try BadInputTests.executable(id).path)' \"$@\" --samples 200\n"
                .write(to: wrapper, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: wrapper.path)

            func figure(seed: Int) throws -> (status: Int32, stderr: String, call: String) {
                let process = Process(), err = Pipe()
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = [script.path, bin.path, id, "quick", "\(seed)", "1"]
                process.currentDirectoryURL = work
                process.environment = ProcessInfo.processInfo.environment.merging(["REPRO_QUIET": "1"]) { $1 }
                process.standardOutput = FileHandle.nullDevice
                process.standardError = err
                try process.run()
                let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                let log = (try? String(contentsOf: calls, encoding: .utf8)) ?? ""
                return (process.terminationStatus, text, log.split(separator: "\n").last.map(String.init) ?? "")
            }

            let first = try figure(seed: 0)
            try #require(first.status == 0, "\(first.stderr)")
            #expect(!first.call.contains("--render-only"), "\(first.call)")
            let again = try figure(seed: 0)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.call.hasPrefix("--render-only "), "a complete result of the same run must only be re-drawn: \(again.call)")

            // Another seed is another run: the plain path, which refuses to replace the result.
            let other = try figure(seed: 3)
            #expect(other.status != 0 && !other.call.contains("--render-only"), "\(other.call)")

            // One digit of one CSV cell changed: the re-draw fails naming the file and leaves it.
            let csv = work.appendingPathComponent("results/quick/\(id)/moments.csv")
            var lines = try String(contentsOf: csv, encoding: .utf8).components(separatedBy: "\n")
            var cells = lines[1].components(separatedBy: ",")
            cells[3] = cells[3].hasSuffix("1") ? String(cells[3].dropLast()) + "2" : String(cells[3].dropLast()) + "1"
            lines[1] = cells.joined(separator: ",")
            let edited = lines.joined(separator: "\n")
            try edited.write(to: csv, atomically: true, encoding: .utf8)
            let tampered = try figure(seed: 0)
            #expect(tampered.status != 0 && tampered.call.hasPrefix("--render-only "), "\(tampered.call)")
            #expect(tampered.stderr.contains("\(csv.path): content differs from the completion record"), "\(tampered.stderr)")
            #expect(try String(contentsOf: csv, encoding: .utf8) == edited)
        }
    }
}
