import ArgumentParser
import Swiotlb
import SwiotlbCapture

extension SwiotlbReplayCommand {
    /// `--check`: replays the capture and prints how many maps the model reproduced exactly,
    /// then the first difference; exit status 1 when any operation differs.
    func runCheck() throws {
        let reader = try LineReader(path: trace)
        var check = ReplayCheck(kernel: kernel)
        var number = 0
        let shown = trace == "-" ? "<stdin>" : trace
        while let bytes = reader.nextBytes() {
            number += 1
            do throws(TraceError) { try check.feed(bytes: bytes, line: number) } catch {
                print(check.summary.joined(separator: "\n"))
                StandardError.write([error.report(file: shown)])
                throw ExitCode(error.isKernelHang ? TraceError.kernelHangExitStatus : 1)
            }
        }
        if let failure = reader.failure { throw failure }
        print(check.summary.joined(separator: "\n"))
        if check.differences > 0 { throw ExitCode(1) }
    }
}
