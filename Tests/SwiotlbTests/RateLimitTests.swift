import Testing
import XenMemory

@testable import Swiotlb

/// The kernel's message rate limits and once-only messages, with values read from the sources:
/// include/linux/ratelimit_types.h (`DEFAULT_RATELIMIT_INTERVAL` 5 * HZ, `DEFAULT_RATELIMIT_BURST`
/// 10), lib/ratelimit.c (`___ratelimit`: a new interval only once `jiffies` is after `begin +
/// interval`; `"%s: %d callbacks suppressed"` first), and the call sites in each swiotlb.c.
@Suite("kernel rate limits and once-only messages")
struct RateLimitTests {
    let p = "software IO TLB: "
    let full = "swiotlb buffer is full (sz: 2048 bytes), total 128 (slots), used 128 (slots)"

    @Test("___ratelimit: 10 a burst, the interval strictly after begin + 5 * HZ, then the missed count")
    func state() {
        #expect(KernelRateLimit.interval == 1250 && KernelRateLimit.burst == 10)
        var r = KernelRateLimit()
        for _ in 0..<10 { #expect(r.check(at: 7) == (true, 0)) }
        #expect(r.check(at: 7) == (false, 0))
        #expect(r.check(at: 7 + 1250) == (false, 0))  // time_is_before_jiffies: not yet
        #expect(r.check(at: 7 + 1251) == (true, 2))
        #expect(r.missed == 0 && r.left == 9 && r.begin == 1258)
        #expect(KernelRateLimit.jiffies(afterNanoseconds: 3_999_999) == 0 && KernelRateLimit.jiffies(afterNanoseconds: 4_000_000) == 1)
    }

    /// A 128-slot 6.18 pool filled by one 256 KiB map; then 2 KiB maps fail.
    func fullTLB(_ kernel: SwiotlbKernel) throws -> SoftwareIOTLB {
        var t = SoftwareIOTLB(kernel: kernel, pools: [SlotPool(start: PhysicalAddress(0x10_0000), nslabs: 128, areas: 1)], force: .force)
        t.copiesData = false
        _ = try t.map(
            device: DMADevice(name: "0000:00:04.0"), original: PhysicalAddress(0x800_0000), mappingSize: 262_144, allocSize: 262_144, direction: .toDevice
        ).get()
        return t
    }

    func failMaps(_ t: inout SoftwareIOTLB, _ n: Int) throws {
        for _ in 0..<n {
            _ = try t.map(
                device: DMADevice(name: "0000:00:04.0"), original: PhysicalAddress(0x900_0000), mappingSize: 2048, allocSize: 2048, direction: .toDevice)
        }
    }

    @Test("buffer full (dev_warn_ratelimited in 6.1/6.18, printk_ratelimit() in v5.11): 10, then the suppressed count with the next interval's first")
    func bufferFull() throws {
        for kernel in [SwiotlbKernel.v5_11, .v6_1, .v6_18] {
            var t = try fullTLB(kernel)
            t.jiffies = 0
            try failMaps(&t, 13)
            t.jiffies = 1251
            try failMaps(&t, 1)
            let lines = t.takeMessages().map(\.description)
            #expect(
                lines == Array(repeating: "0000:00:04.0: " + full, count: 10) + ["swiotlb_tbl_map_single: 3 callbacks suppressed", "0000:00:04.0: " + full])
            #expect(t.suppressedMessages == 3)
        }
    }

    @Test("without a clock (trace replay) every message is printed")
    func noClock() throws {
        var t = try fullTLB(.v6_18)
        try failMaps(&t, 25)
        #expect(t.takeMessages().count == 25 && t.suppressedMessages == 0)
    }

    @Test("no pool: 6.1.192 and 6.18 print 'Can not allocate SWIOTLB buffer earlier…' (its own ratelimit state)")
    func noPool() throws {
        for kernel in [SwiotlbKernel.v6_1, .v6_18] {
            var t = SoftwareIOTLB(kernel: kernel, pools: [], force: .force)
            t.jiffies = 100
            try failMaps(&t, 11)
            let text = "0000:00:04.0: Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer"
            #expect(t.takeMessages().map(\.description) == Array(repeating: text, count: 10))
        }
    }

    @Test("pr_warn_once: 'Memory encryption is active and system is using DMA bounce buffers' at the first map of a confidential guest")
    func memoryEncryption() throws {
        for kernel in [SwiotlbKernel.v5_11, .v6_18] {
            var t = SoftwareIOTLB(kernel: kernel, pools: [SlotPool(start: PhysicalAddress(0x10_0000), nslabs: 1024, areas: 1)], force: .force)
            t.copiesData = false
            t.memoryEncrypted = true
            for i in 0..<3 {
                _ = try t.map(
                    device: DMADevice(), original: PhysicalAddress(0x800_0000 + UInt64(i) << 12), mappingSize: 4096, allocSize: 4096, direction: .toDevice
                ).get()
            }
            #expect(t.takeMessages().map(\.description) == [p + "Memory encryption is active and system is using DMA bounce buffers"])
        }
    }

    @Test("6.18's worker: 'Failed to allocate new pool' (pr_warn_ratelimited in swiotlb_dyn_alloc)")
    func newPool() throws {
        var t = try fullTLB(.v6_18)
        t.growth = PoolGrowth(
            canGrow: true, physLimit: PhysicalAddress(0xffff_ffff), defaultNslabs: 128, defaultAreas: 1,
            memory: DynamicPoolMemory(Range(raw: 0x4000_0000..<0x4000_1000)))
        // Each miss maps from a transient pool (the range's one page) and the worker then finds no
        // 128-slot block, nor a 512-slot one: the unmap frees the transient pool again.
        func missAndUnmap() throws {
            let m = try t.map(device: DMADevice(), original: PhysicalAddress(0x900_0000), mappingSize: 2048, allocSize: 2048, direction: .toDevice).get()
            try t.unmap(m.address, mappingSize: 2048, allocSize: 2048, direction: .toDevice)
        }
        t.jiffies = 0
        for _ in 0..<12 { try missAndUnmap() }
        t.jiffies = 2000
        try missAndUnmap()
        let failed = t.takeMessages().map(\.description).filter { $0.contains("new pool") || $0.contains("suppressed") }
        #expect(
            failed == Array(repeating: p + "Failed to allocate new pool", count: 10) + [
                "swiotlb_dyn_alloc: 2 callbacks suppressed", p + "Failed to allocate new pool",
            ])
    }
}
