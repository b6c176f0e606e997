import Testing

@testable import Swiotlb

/// `swiotlb_adjust_size` for an encrypted guest (SEV, TDX): `mem_encrypt_setup_arch` asks for
/// `total_mem * 6 / 100` clamped to `IO_TLB_DEFAULT_SIZE`–`SZ_1G` (6.18.2
/// `arch/x86/mm/mem_encrypt.c`; v5.11 `sev_setup_arch`), and `swiotlb_adjust_size` (6.18.2
/// `kernel/dma/swiotlb.c`, identical in 6.1.192) takes it while `default_nslabs` is still 32768,
/// rounds it for given areas (`round_up_default_nslabs`) and prints `SWIOTLB bounce buffer size
/// adjusted to %luMB`; v5.11 only when `swiotlb=` gave no size.
@Suite("encrypted-guest pool sizing")
struct EncryptedGuestSizingTests {
    @Test("SEV/TDX: 6% of memory clamped to 64 MiB–1 GiB; 6.x adjusts while default_nslabs is 32768 and rounds up for given areas")
    func encryptedGuestSizing() {
        let none = SwiotlbCommandLine()
        let six = EncryptedGuestSizing.whileDefaultSize, five = EncryptedGuestSizing.unlessSizeGiven
        // 20 GiB: 1288490188 bytes → 1 GiB.
        #expect(six.adjust(ramBytes: 20 << 30, commandLine: none)! == (524288, "SWIOTLB bounce buffer size adjusted to 1024MB"))
        // 8 GiB: 515396075 bytes → ALIGN(…, 2048) 515397632 (491 MiB) → 251659 slots → ALIGN(…, 128) 251776.
        #expect(six.adjust(ramBytes: 8 << 30, commandLine: none)! == (251776, "SWIOTLB bounce buffer size adjusted to 491MB"))
        #expect(five.adjust(ramBytes: 8 << 30, commandLine: none)! == (251776, "SWIOTLB bounce buffer size adjusted to 491MB"))
        // 512 MiB: 32212254 bytes, below the 64 MiB floor.
        #expect(six.adjust(ramBytes: 512 << 20, commandLine: none)! == (32768, "SWIOTLB bounce buffer size adjusted to 64MB"))
        // An explicit swiotlb=32768 is still the default to 6.x, not to v5.11.
        let explicit = SwiotlbCommandLine(parsing: "32768", kernel: .v6_1)
        #expect(six.adjust(ramBytes: 8 << 30, commandLine: explicit)?.nslabs == 251776)
        #expect(five.adjust(ramBytes: 8 << 30, commandLine: SwiotlbCommandLine(parsing: "32768")) == nil)
        #expect(six.adjust(ramBytes: 8 << 30, commandLine: SwiotlbCommandLine(parsing: "65536", kernel: .v6_1)) == nil)
        // swiotlb=32768,4: default_nareas 4, so round_up_default_nslabs raises 251776 to 262144 and the message says so.
        #expect(
            six.adjust(ramBytes: 8 << 30, commandLine: SwiotlbCommandLine(parsing: "32768,4", kernel: .v6_1))!
                == (262144, "SWIOTLB bounce buffer size adjusted to 512MB"))
        #expect(Linux6_1.encryptedGuestSizing == six && Linux5_11.encryptedGuestSizing == five && RFCv1.encryptedGuestSizing == five)
    }
}
