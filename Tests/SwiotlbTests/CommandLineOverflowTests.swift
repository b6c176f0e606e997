import Testing

@testable import Swiotlb

@Suite("swiotlb= numbers beyond 64 bits")
struct CommandLineOverflowTests {
    @Test("simple_strtoul keeps the low 64 bits and says so; ALIGN wrapping to 0 means the default")
    func wraps() {
        // 99999999999999999999 mod 2^64 = 7766279631452241919, rounded up to 128 slots.
        let a = SwiotlbCommandLine(parsing: "99999999999999999999")
        #expect(a.nslabs == 7_766_279_631_452_241_920 && a.wrapped)
        // 2^64 - 1 fits, but rounding it up to a multiple of 128 wraps to 0: the default pool.
        let b = SwiotlbCommandLine(parsing: "18446744073709551615,force")
        #expect(b.nslabs == 0 && b.effectiveNslabs == 32768 && b.wrapped && b.force == .force)
        let c = SwiotlbCommandLine(parsing: "65536,0x1ffffffffffffff00,force", kernel: .rfcV1)
        #expect(c.nslabs == 65536 && c.highNslabs == 0xffff_ffff_ffff_ff00 && c.wrapped)
        // v6.1's areas reach swiotlb_adjust_nareas as an unsigned int.
        let d = SwiotlbCommandLine(parsing: "1024,4611686018427387905", kernel: .v6_1)
        #expect(d.nslabs == 1024 && d.areas == 1 && d.wrapped)
        let e = SwiotlbCommandLine(parsing: "1024,4294967295", kernel: .v6_1)
        #expect(e.areas == 4_294_967_295 && !e.wrapped)
        #expect(!SwiotlbCommandLine(parsing: "18446744073709551488").wrapped)
        #expect(!SwiotlbCommandLine(parsing: "65536,force").wrapped)
    }

    @Test("swiotlb cmdline: sizes beyond 64 bits of bytes are exact, with the kernel's wrapped byte count noted")
    func cmdlineMegabytes() {
        var notes: [String] = []
        #expect(SwiotlbCommandLine.megabytes(65536, &notes) == "128MB" && notes.isEmpty)
        #expect(SwiotlbCommandLine.megabytes(7_766_279_631_452_241_920, &notes) == "15168514905180160MB")
        #expect(
            notes == [
                "7766279631452241920 slots are 15168514905180160 MiB, beyond 64 bits of bytes: the kernel's nslabs << 11 wraps to 4247293676557959168 bytes"
            ])
    }

    @Test("the cmdline report: a wrapped size, the ignored text quoted as messages quote it, the notes last")
    func report() {
        let c = SwiotlbCommandLine(parsing: "99999999999999999999,\u{1b}xyz")
        #expect(
            c.report(kernel: .v5_11, cpus: 1) == [
                "nslabs=7766279631452241920 (15168514905180160MB)",
                "force=normal",
                "ignored='\\u{1b}xyz' (the kernel accepts and ignores it)",
                "note: a number does not fit (64 bits; 32 for areas) or wraps when rounded up to 128 slots: the kernel keeps the low bits (shown here)",
                "note: 7766279631452241920 slots are 15168514905180160 MiB, beyond 64 bits of bytes: the kernel's nslabs << 11 wraps to 4247293676557959168 bytes",
            ])
    }
}
