import Testing

@testable import XenMemory

@Suite("host descriptions Xen could not hold are refused, not trapped on")
struct HostValidationTests {
    /// The captured host's low RAM: QEMU -m 2048, frames 0x100 … 0x7ffdd.
    let twoGiB = HostE820.qemuPC(ramBytes: 2 << 30)

    func refusal(e820: HostE820, regions: [Range<UInt64>] = [], inventory: [(MFN, Int)] = []) -> XenHostError? {
        do { _ = try XenHost(e820: e820, bootRegions: regions.map { Range(raw: $0) }, inventory: inventory) } catch { return error }
        return nil
    }

    @Test("RAM at 2^52 reaches past the heap's 41 zones")
    func ramBeyondZones() {
        let e820 = HostE820([
            E820Entry(address: MachineAddress(0), size: 0x9fc00, type: .ram),
            E820Entry(address: MachineAddress(1 << 52), size: 1 << 30, type: .ram),
        ])
        let error = refusal(e820: e820)
        #expect(error == .ramBeyondHeap(index: 1, endFrame: MFN(0x100_0004_0000)))
        #expect(error?.description == "E820 RAM entry 1 reaches frame 0x10000040000, past frame 0x10000000000 (2^52 bytes), the end of Xen's heap zones")
        // The convenience initialiser checks the same.
        #expect(throws: XenHostError.ramBeyondHeap(index: 1, endFrame: MFN(0x100_0004_0000))) { try XenHost(e820: e820) }
    }

    @Test("an entry ending past 2^64, or empty, is refused")
    func badEntries() {
        let wraps = HostE820([
            E820Entry(address: MachineAddress(0), size: 0x9fc00, type: .ram),
            E820Entry(address: MachineAddress(.max - 0xfff), size: 0x2000, type: .reserved),
        ])
        #expect(refusal(e820: wraps) == .badEntry(index: 1, address: MachineAddress(.max - 0xfff), size: 0x2000))
        #expect(refusal(e820: wraps)?.description == "E820 entry 1 at 0xfffffffffffff000 of 0x2000 bytes ends past 2^64")
        let empty = HostE820([E820Entry(address: MachineAddress(0), size: 0, type: .ram)])
        #expect(refusal(e820: empty)?.description == "E820 entry 0 at 0x0 of 0x0 bytes is empty")
    }

    @Test("a boot region given twice")
    func repeatedBootRegion() {
        let error = refusal(e820: twoGiB, regions: [0x100..<0x1000, 0x2000..<0x3000, 0x100..<0x1000])
        #expect(error == .overlap(.bootRegion(index: 0, frames: Range(raw: 0x100..<0x1000)), .bootRegion(index: 2, frames: Range(raw: 0x100..<0x1000))))
        #expect(
            error?.description == "boot region 2 (frames 0x100–0x1000) overlaps boot region 0 (frames 0x100–0x1000): the heap would get the same frames twice")
    }

    @Test("inventory blocks overlapping a boot region or each other")
    func overlappingInventory() {
        #expect(
            refusal(e820: twoGiB, regions: [0x100..<0x79200], inventory: [(MFN(0x79100), 8)])
                == .overlap(.bootRegion(index: 0, frames: Range(raw: 0x100..<0x79200)), .inventoryBlock(index: 0, mfn: MFN(0x79100), order: 8)))
        let error = refusal(e820: twoGiB, inventory: [(MFN(0x7fc00), 8), (MFN(0x7fc80), 7)])
        #expect(error == .overlap(.inventoryBlock(index: 0, mfn: MFN(0x7fc00), order: 8), .inventoryBlock(index: 1, mfn: MFN(0x7fc80), order: 7)))
        #expect(
            error?.description
                == "inventory block 1 (mfn 0x7fc80, order 7) overlaps inventory block 0 (mfn 0x7fc00, order 8): the heap would get the same frames twice")
    }

    @Test("blocks outside RAM, of no buddy order, or misaligned; regions outside RAM")
    func badBlocks() {
        // RAM ends at frame 0x7ffdd: a block of order 6 at 0x7ffc0 reaches 0x80000.
        #expect(refusal(e820: twoGiB, inventory: [(MFN(0x7ffc0), 6)]) == .outsideRAM(.inventoryBlock(index: 0, mfn: MFN(0x7ffc0), order: 6)))
        #expect(
            refusal(e820: twoGiB, inventory: [(MFN(0x7ffc0), 6)])?.description
                == "inventory block 0 (mfn 0x7ffc0, order 6) is not inside the E820 RAM")
        #expect(refusal(e820: twoGiB, inventory: [(MFN(0x40000), 19)])?.description == "inventory block 0 (mfn 0x40000, order 19): the order must be 0…18")
        #expect(
            refusal(e820: twoGiB, inventory: [(MFN(0x7fc01), 8)])?.description
                == "inventory block 0 (mfn 0x7fc01, order 8) does not start on a multiple of its 256 frames")
        // The 640 KiB hole (frames 0x9f … 0x100) is not RAM.
        #expect(refusal(e820: twoGiB, regions: [0x90..<0x200]) == .outsideRAM(.bootRegion(index: 0, frames: Range(raw: 0x90..<0x200))))
    }

    @Test("the captured host's regions and inventory pass; the heap's frames come back merged")
    func capturedHostPasses() throws {
        let inventory: [(MFN, Int)] = [
            (MFN(0x7fc00), 8), (MFN(0x7ff00), 7), (MFN(0x7ff80), 6), (MFN(0x7fdc0), 6),
            (MFN(0x7fd00), 6), (MFN(0x7a780), 6), (MFN(0x7a7c0), 5), (MFN(0x7a7e0), 3),
        ]
        let frames = try XenHost.validate(e820: twoGiB, bootRegions: [Range(raw: 0x100..<0x79200)], inventory: inventory)
        #expect(frames.map(\.raw) == [0x100..<0x79200, 0x7a780..<0x7a7e8, 0x7fc00..<0x7fd40, 0x7fdc0..<0x7fe00, 0x7ff00..<0x7ffc0])
        let host = try XenHost(e820: twoGiB, bootRegions: [Range(raw: 0x100..<0x79200)], inventory: inventory)
        #expect(host.bootHeapFrames == frames)
    }

    @Test("one RAM limit for --ram and host.ram: 64M to 64T, and a 64 TiB host builds")
    func ramLimit() throws {
        #expect(HostE820.qemuPCRAMBytes == (64 << 20)...(1 << 46))
        #expect(HostE820.qemuPCRAMExpectation == "a size between 64M and 64T")
        let host = try XenHost(e820: .qemuPC(ramBytes: 1 << 46))
        #expect(host.maxPage == MFN(0x4_0004_0000))
    }

    @Test("dom0_mem=max:0 and modules outside RAM or inside the heap are Xen's refusals, not traps")
    func dom0Refusals() throws {
        var host = try XenHost(e820: twoGiB)
        var config = Dom0BuildConfig()
        config.memory = try Dom0MemoryOption(parsing: "max:0")
        #expect(throws: Dom0BuildError.tooSmallForKernel(pages: 0, needed: 32768)) { try host.buildDom0(config) }

        config = Dom0BuildConfig()
        config.kernelModule = Range(raw: 0x7ff00..<0x80100)
        #expect(throws: Dom0BuildError.moduleOutsideRAM(.kernel, frames: Range(raw: 0x7ff00..<0x80100))) { try host.buildDom0(config) }
        #expect(
            Dom0BuildError.moduleOutsideRAM(.kernel, frames: Range(raw: 0x7ff00..<0x80100)).description
                == "the kernel module (frames 0x7ff00–0x80100) is not inside the E820 RAM")

        // Without `reserved`, every RAM frame from 0x100 is the heap's: a module there would be
        // freed into the heap a second time.
        config = Dom0BuildConfig()
        config.initrd = Range(raw: 0x7f66f..<0x7fa00)
        #expect(throws: Dom0BuildError.moduleInUse(.initrd, frames: Range(raw: 0x7f66f..<0x7fa00))) { try host.buildDom0(config) }
        host = try XenHost(e820: twoGiB, reserved: [Range(raw: 0x7a7f7..<0x7fa00)])
        config.kernelModule = Range(raw: 0x7a7f7..<0x7f670)
        #expect(throws: Dom0BuildError.moduleInUse(.initrd, frames: Range(raw: 0x7f66f..<0x7fa00))) { try host.buildDom0(config) }
        config.kernelModule = Range(raw: 0x7a7f7..<0x7f66f)
        let layout = try host.buildDom0(config)
        #expect(layout.nrPages > 0)
    }

    @Test("ownership of frames near 2^64 is false, not an overflow")
    func ownsAllNearTop() throws {
        let host = try XenHost(e820: twoGiB)
        #expect(!host.ownsAll(.dom0, MFN(.max - 1), count: 4))
        #expect(!host.ownsAll(.io, MFN(0), count: .max))
        #expect(host.ownsAll(.io, MFN(0), count: 0x100))
    }

    @Test("dom0_mem refusals quote at most 80 bytes of the value, control characters written out (ErrorToken)")
    func dom0MemQuotes() {
        let text = "1G," + String(repeating: "x", count: 200)
        do { _ = try Dom0MemoryOption(parsing: text); Issue.record("accepted") } catch {
            let cut = String(repeating: "x", count: 80) + "…"
            #expect(error.description == "dom0_mem: expected a number at '\(cut)' in '1G,\(String(repeating: "x", count: 77))…'")
        }
        // Two-byte characters: 40 of them fill 80 bytes (the 41st is cut whole).
        do { _ = try Dom0MemoryOption(parsing: "1G," + String(repeating: "é", count: 50)); Issue.record("accepted") } catch {
            #expect(
                error.description
                    == "dom0_mem: expected a number at '\(String(repeating: "é", count: 40))…' in '1G,\(String(repeating: "é", count: 38))…'")
        }
        do { _ = try Dom0MemoryOption(parsing: "1G\u{1b}[2J"); Issue.record("accepted") } catch {
            #expect(error.description == "dom0_mem: unexpected '\\u{1b}[2J' in '1G\\u{1b}[2J'")
        }
    }
}
