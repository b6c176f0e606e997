import Testing

@testable import XenDumps

@Suite("dump headers beyond what x86-64 can address")
struct DumpLimitTests {
    func lines(_ text: [String]) -> () -> Substring? {
        var it = text.makeIterator()
        return { it.next().map { Substring($0) } }
    }

    @Test("an M2P of more than 2^40 frames and a P2M of more than 2^40 entries are refused at the header")
    func headers() {
        #expect(throws: DumpError(line: 2, message: "Max MFN 1099511627777 is beyond x86-64's 2^40 machine frames (52-bit physical addresses)")) {
            try M2PDump.read(lines([M2PDump.header, " Max MFN: 1099511627777", M2PDump.footer]))
        }
        #expect(throws: DumpError(line: 2, message: "P2M size 18446744073709551615 is beyond x86-64's 2^40 page frames (52-bit physical addresses)")) {
            try P2MDump.read(lines([" --- Dumping P2M for domain 1 ---", " Guest Width: 8, PT Levels: 4 P2M size: = 18446744073709551615"]))
        }
    }

    @Test("a bad Max MFN line is quoted to 80 bytes")
    func longHeader() {
        let long = " Max MFN: " + String(repeating: "x", count: 10_000)
        #expect(throws: DumpError(line: 2, message: "expected ' Max MFN: <decimal>', got '\(long.prefix(80))…'")) {
            try M2PDump.read(lines([M2PDump.header, long]))
        }
        // Control characters are written out, not sent to the terminal (ErrorToken).
        #expect(throws: DumpError(line: 2, message: "expected ' Max MFN: <decimal>', got ' Max MFN: \\u{1b}[2J'")) {
            try M2PDump.read(lines([M2PDump.header, " Max MFN: \u{1b}[2J"]))
        }
    }
}
