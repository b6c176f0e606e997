import ArgumentParser
import Testing

@testable import xenpv

@Suite("refusal lines")
struct RefusalLineTests {
    @Test("a usage error is one line with the help command to read, not a usage screen")
    func usageError() throws {
        do {
            _ = try XenPV.parseAsRoot(["layout", "--bogus"])
            Issue.record("an unknown option parsed")
        } catch {
            let line =
                "Error: " + RefusalLine.join(XenPV.message(for: error))
                + RefusalLine.helpHint(XenPV.fullMessage(for: error, columns: 1000))
            #expect(line == "Error: Unknown option '--bogus' (see 'xenpv layout --help')")
            #expect(XenPV.exitCode(for: error).rawValue == 64)
        }
    }

    @Test("a message of several lines becomes one; no help hint without a usage screen")
    func joined() {
        #expect(RefusalLine.join("first\n  second  \n\nthird") == "first; second; third")
        #expect(RefusalLine.helpHint("Error: /x: No such file or directory") == "")
    }
}
