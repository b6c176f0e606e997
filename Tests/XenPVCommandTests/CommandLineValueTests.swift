import Testing

@testable import xenpv

/// The line a command line gives: nil when it parsed and ran, else its refusal.
func refusal(_ arguments: [String]) -> String? {
    do {
        var command = try XenPV.parseNegativeValues(arguments)
        try command.run()
        return nil
    } catch {
        return XenPV.refusal(for: error) ?? "(exit status only)"
    }
}

@Suite("command-line values")
struct CommandLineValueTests {
    static let refused: [([String], String)] = [
        (["layout", "--ram", "-1G"], "Error: --ram: expected a size such as 2G, 768M or 4096 (bytes), got '-1G' (see 'xenpv layout --help')"),
        (["layout", "--ram", "2.5G"], "Error: --ram: expected a size such as 2G, 768M or 4096 (bytes), got '2.5G' (see 'xenpv layout --help')"),
        (["layout", "--ram", "99999999T"], "Error: --ram: '99999999T' is more than 2^64 - 1 bytes (see 'xenpv layout --help')"),
        (["layout", "--ram", "4096T"], "Error: --ram: expected a size between 64M and 64T, got '4096T' (see 'xenpv layout --help')"),
        (["layout", "--ram", "32M"], "Error: --ram: expected a size between 64M and 64T, got '32M' (see 'xenpv layout --help')"),
        (["simulate", "--seed", "-1"], "Error: --seed: expected an unsigned integer below 2^64, got '-1' (see 'xenpv simulate --help')"),
        (["simulate", "--seed", ""], "Error: --seed: expected an unsigned integer below 2^64, got '' (see 'xenpv simulate --help')"),
        (["layout", "--dom0-mem", "abc"], "Error: --dom0-mem: dom0_mem: expected a number at 'abc' in 'abc' (see 'xenpv layout --help')"),
        (["layout", "--max-runs", "0"], "Error: --max-runs: expected a count of at least 1, got '0' (see 'xenpv layout --help')"),
        (["layout", "--max-runs", "-3"], "Error: --max-runs: expected a count of at least 1, got '-3' (see 'xenpv layout --help')"),
        (["layout", "--dma-bits", "-1"], "Error: --dma-bits: expected an integer 13…52, got '-1' (see 'xenpv layout --help')"),
        (["layout", "--dma-bits", "53"], "Error: --dma-bits: expected an integer 13…52, got '53' (see 'xenpv layout --help')"),
        (["p2m", "4294967296"], "Error: <domid>: expected a domain id 0…32751, got '4294967296' (see 'xenpv p2m --help')"),
        (["dump", "p2m", "-1"], "Error: <domid>: expected a domain id 0…32751, got '-1' (see 'xenpv dump p2m --help')"),
        (["dump", "p2m", "32752"], "Error: <domid>: expected a domain id 0…32751, got '32752' (see 'xenpv dump p2m --help')"),
        (["simulate", "--json", ""], "Error: --json: expected a file name, got '' (see 'xenpv simulate --help')"),
        (["import", "--dmesg", "", "x"], "Error: --dmesg: expected a file name, got '' (see 'xenpv import --help')"),
        (["compare-real", "x.yaml", ""], "Error: <capture>: expected a file name, got '' (see 'xenpv compare-real --help')"),
        (["swiotlb", "replay", ""], "Error: <trace>: expected a file name, got '' (see 'xenpv swiotlb replay --help')"),
    ]

    @Test("a bad value is one line naming the option and what it expects", arguments: refused)
    func refusedValue(arguments: [String], line: String) {
        #expect(refusal(arguments) == line)
    }

    @Test("a dom0 that does not fit names the options that made it")
    func dom0DoesNotFit() {
        #expect(
            refusal(["layout", "--dom0-mem", "max:0"])
                == "Error: --dom0-mem, --ram: dom0 does not fit on this host: Domain 0 allocation is too small for kernel image (0 pages, the initial mapping and initrd need 32768)"
        )
    }

    @Test("a long value is quoted to 80 bytes")
    func longValue() {
        let nines = String(repeating: "9", count: 100_000)
        #expect(
            refusal(["layout", "--ram", nines])
                == "Error: --ram: '\(String(repeating: "9", count: 80))…' is more than 2^64 - 1 bytes (see 'xenpv layout --help')")
    }

    @Test("a control character in a value is quoted as the other messages quote it (ErrorToken), not sent to the terminal")
    func controlCharacter() {
        #expect(
            refusal(["layout", "--ram", "9\u{1b}[31m"])
                == "Error: --ram: expected a size such as 2G, 768M or 4096 (bytes), got '9\\u{1b}[31m' (see 'xenpv layout --help')")
    }
}
