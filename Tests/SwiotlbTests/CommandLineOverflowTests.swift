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
}
