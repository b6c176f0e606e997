import Swiotlb
import Testing
import XenMemory

@testable import XenModel

/// The opening tags of the elements of class `cls` in `svg`.
func elements(_ svg: String, _ cls: String) -> [Substring] {
    svg.split(separator: "\n").filter { $0.contains("class=\"\(cls)\"") }
}

/// The value of attribute `name` in the tag `e`.
func attribute(_ e: Substring, _ name: String) -> String? {
    guard let r = e.range(of: " \(name)=\"") else { return nil }
    return String(e[r.upperBound...].prefix { $0 != "\"" })
}

/// The text of a `<text>` element.
func textContent(_ e: Substring) -> String {
    guard let open = e.firstIndex(of: ">"), let close = e.range(of: "</text>") else { return "" }
    return String(e[e.index(after: open)..<close.lowerBound])
}

@Suite("pictures")
struct PictureTests {
    @Test("byte ticks: power-of-two steps, at most 8 intervals, the axis ends on a tick")
    func byteTicks() {
        #expect(AxisTicks.bytes(covering: 20 << 30).map(\.label) == ["0", "4 GiB", "8 GiB", "12 GiB", "16 GiB", "20 GiB"])
        #expect(
            AxisTicks.bytes(covering: 2 << 20).map(\.label)
                == ["0", "256 KiB", "512 KiB", "768 KiB", "1 MiB", "1.25 MiB", "1.5 MiB", "1.75 MiB", "2 MiB"])
        #expect(AxisTicks.bytes(covering: 0x7ffe_0000).map(\.label).last == "2 GiB")
        #expect(AxisTicks.bytes(covering: 0x1_0000_1000).map(\.label) == ["0", "1 GiB", "2 GiB", "3 GiB", "4 GiB", "5 GiB"])
        #expect(AxisTicks.bytes(covering: 0).map(\.label) == ["0"])
    }

    @Test("byte counts in the largest unit with at most two exact decimals")
    func byteText() {
        #expect(ByteText.text(0) == "0")
        #expect(ByteText.text(100) == "100 B")
        #expect(ByteText.text(1536 << 10) == "1.5 MiB")
        #expect(ByteText.text(1537 << 10) == "1537 KiB")
        #expect(ByteText.text(5 << 28) == "1.25 GiB")
        #expect(ByteText.text(1 << 32) == "4 GiB")
        #expect(ByteText.text(3 << 40) == "3 TiB")
    }

    @Test("count ticks: 1, 2 or 5 times a power of ten")
    func countTicks() {
        #expect(AxisTicks.counts(covering: 43_950).map(\.label) == ["0", "10000", "20000", "30000", "40000", "50000"])
        #expect(AxisTicks.counts(covering: 40_000).map(\.value) == [0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000])
        #expect(AxisTicks.counts(covering: 7).map(\.value) == Array(0...7))
    }

    @Test("the fragmentation run: per-device slots add up to io_tlb_used at every sample")
    func deviceSeries() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        let t = r.timeline
        #expect(r.pools[0].occupancy.map(\.op) == t.sampleOps)
        let sums = t.sampleOps.indices.map { i in t.series.filter { $0.pool == 0 }.reduce(0) { $0 + $1.slots[i] } }
        #expect(sums == r.pools[0].occupancy.map(\.used))
        #expect(Set(t.series.map(\.device)) == [0, 1])
        #expect(t.failureCounts.reduce(0) { $0 + $1.count } == r.devices.reduce(0) { $0 + $1.failed })
        #expect(t.failureCounts.reduce(0) { $0 + $1.count } == 299)
    }

    @Test("the fragmentation run's first \"buffer is full\": 507 slots free, none in a run of 128")
    func firstFullFailure() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        let snap = try #require(r.timeline.firstFullFailure)
        #expect(snap.pool == 0 && snap.device == 1 && snap.requestBytes == 262_144 && snap.requestSlots == 128)
        #expect(snap.operation == r.timeline.failureCounts.first?.operation)
        #expect(snap.freeSlots == 507 && snap.longestFreeRun == 127 && snap.nslabs == 1024)
        #expect(snap.freeRuns.allSatisfy { $0.lowerBound >> 7 == ($0.upperBound - 1) >> 7 })
        let svg = SVGPlot.render(r, figures: [.slotMap])
        #expect(
            elements(svg, "slot-summary").map(textContent)
                == ["507 of 1024 slots free; longest free run 127 slots &lt; 128 needed; a run ends at a used slot or a 128-slot segment boundary"])
        #expect(elements(svg, "free-run").count == snap.freeRuns.count)
        #expect(elements(svg, "row-label").map(textContent) == (0..<8).map { "slot \($0 * 128)" })
        #expect(elements(svg, "longest-run").count == 1)
        #expect(elements(svg, "area-boundary").isEmpty)
    }

    @Test("occupancy: failures marked at their operation, ticks in MiB and round counts")
    func occupancyFigure() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        let svg = SVGPlot.render(r, figures: [.occupancy])
        #expect(
            elements(svg, "tick").map(textContent)
                == [
                    "0", "10000", "20000", "30000", "40000", "50000",
                    "0", "256 KiB", "512 KiB", "768 KiB", "1 MiB", "1.25 MiB", "1.5 MiB", "1.75 MiB", "2 MiB",
                ])
        let marks = elements(svg, "failure")
        #expect(!marks.isEmpty)
        // The first mark's tip sits at the first failure: x = 84 + 846 × operation / 50000.
        let first = try #require(r.timeline.failureCounts.first).operation
        let tip = try #require(attribute(marks[0], "points")?.split(separator: " ").last)
        #expect(tip.split(separator: ",").first.map(String.init) == SVGCanvas.f(84 + 846 * Double(first) / 50_000))
        #expect(elements(svg, "device-area").count == 2)
        #expect(elements(svg, "io-tlb-used").count == 1)
    }

    @Test("the 2 MiB pool is a box of at least 10 px in the P2M, and a piece of at least 6 px in the machine map")
    func poolMinimumSize() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        let svg = SVGPlot.render(r, figures: [.p2m, .machineMap])
        let boxes = elements(svg, "pool")
        #expect(boxes.count == 8)
        #expect(boxes.allSatisfy { (Double(attribute($0, "width") ?? "") ?? 0) >= 10 && (Double(attribute($0, "height") ?? "") ?? 0) >= 10 })
        let pieces = elements(svg, "pool-piece")
        #expect(!pieces.isEmpty && pieces.allSatisfy { (Double(attribute($0, "width") ?? "") ?? 0) >= 6 })
        #expect(
            elements(svg, "pool-label").map(textContent)
                == ["swiotlb (2 MiB)", "2 MiB at 0x100000-0x3fffff (8 pieces), 8/8 segments contiguous, below 4 GiB"])
        #expect(elements(svg, "four-gib").count == 1)
        #expect(!elements(svg, "tick").contains { textContent($0).hasPrefix("0x") })
    }

    @Test("a slot map with areas and 1024-slot rows draws segment and area boundaries")
    func slotMapBoundaries() {
        let snap = SlotMapSnapshot(
            pool: 0, device: 0, operation: 5, requestBytes: 4096, nslabs: 32768, areaSlots: 8192,
            freeRuns: [0..<10, 1000..<1024])
        var svg = SVGCanvas(width: SVGPlot.width, height: 0)
        _ = SlotMapFigure.draw(&svg, snap, poolName: "swiotlb", device: "d", top: 0)
        let doc = svg.document
        #expect(SlotMapFigure.rowSlots(32768) == 1024)
        #expect(elements(doc, "segment-boundary").count == 32 * 7)
        #expect(elements(doc, "area-boundary").count == 3)
        #expect(elements(doc, "free-run").map { attribute($0, "fill") } == ["#2ca02c", "#2ca02c"])
    }

    @Test("free runs read from a pool's io_tlb_list end at used slots and segment boundaries")
    func snapshotFromPool() {
        var pool = SlotPool(start: PhysicalAddress(0), nslabs: 256)
        #expect(pool.allocate(nslots: 100, stride: 1, offsetSlots: 0, maxSlots: 1 << 20, original: PhysicalAddress(0)) == 0)
        let snap = SlotMapSnapshot(pool: 0, pool, device: 0, operation: 1, requestBytes: 300 * 1024)
        #expect(snap.freeRuns == [100..<128, 128..<256])
        #expect(snap.requestSlots == 150 && snap.longestFreeRun == 128)
    }
}

@Suite("pool placement in the reports")
struct PoolPlacementReportTests {
    @Test("the fragmentation pool: eight exchanged segments between 1 and 4 MiB")
    func fragmentation() throws {
        let r = WorkloadRunner.run(try example("fragmentation.yaml"))
        let text = TextReport.render(r)
        let i = try #require(text.firstIndex(of: "== pool placement"))
        #expect(
            text[i + 1]
                == "swiotlb: machine 0x100000-0x3fffff in 8 pieces; 8 of 8 segments machine-contiguous; all below 4 GiB; within every mapping device's DMA limit (narrowest 0000:00:06.0 0xffffffffffffffff)"
        )
        let json = JSONReport.render(r)
        #expect(json.contains("\"machine_start\": 1048576"))
    }

    @Test("a device whose mask stops below the pool's top is named")
    func maskShort() throws {
        var s = try example("fragmentation.yaml")
        s.devices[0].dma = DMADevice.pci("0000:00:06.0", bits: 21)
        s.devices[1].dma = DMADevice.pci("0000:00:07.0", bits: 22)
        let r = WorkloadRunner.run(s)
        let p = PoolMachinePlacement.of(r)
        #expect(p.count == 1 && p[0].lastBusByte == DMAAddress(0x3fffff))
        #expect(p[0].devices.map(\.reaches) == [false, true])
        #expect(p[0].line(name: "swiotlb").hasSuffix("; beyond the DMA limit of 0000:00:06.0 (0x1fffff)"))
    }
}
