import XCTest
import XenMemory

@testable import SwiotlbCapture

/// Two CPUs, a 2-area pool (area locks at A0 and A1): an unmap from an interrupt in the middle of
/// a map on the same CPU, a map that finds area 1 full and spills to area 0 after the other CPU
/// freed slots there, a map that fails in both areas, and a sync.
enum TwoCPUScenario {
    static let a0: UInt64 = 0xffff_8880_0400_000c, a1: UInt64 = 0xffff_8880_0400_001c
    static let device: UInt64 = 0xffff_8880_04f3_90d0

    static func map(_ c: UInt64, cpu: Int, orig: UInt64, size: UInt64) -> CapturedEvent {
        var e = CapturedEvent(counter: c, cpu: cpu, kind: .map)
        e.device = device; e.original = PhysicalAddress(orig); e.size = size; e.alloc = size; e.direction = 2
        e.dmaParms = 0xffff_8880_04f3_9300; e.minAlign = 0xfff; e.segmentBoundary = 0xffff_ffff
        e.pool = 0xffff_ffff_8331_bd00; e.poolStart = PhysicalAddress(0x2ac0_0000); e.poolNslabs = 32768; e.poolAreas = 2
        e.deviceName = "0000:00:03.0"
        return e
    }
    static func unlock(_ c: UInt64, cpu: Int, _ kind: CapturedEvent.Kind, lock: UInt64, used: UInt64) -> CapturedEvent {
        var e = CapturedEvent(counter: c, cpu: cpu, kind: kind)
        e.lock = lock; e.areaUsed = used
        return e
    }
    static func at(_ c: UInt64, cpu: Int, _ kind: CapturedEvent.Kind, tlb: UInt64) -> CapturedEvent {
        var e = CapturedEvent(counter: c, cpu: cpu, kind: kind)
        e.tlb = PhysicalAddress(tlb); e.device = device; e.size = 4096; e.direction = 2
        if kind == .unmap { e.deviceName = "0000:00:03.0" }
        return e
    }

    static let events: [CapturedEvent] = [
        map(1, cpu: 0, orig: 0x0659_0000, size: 4096),
        unlock(2, cpu: 0, .mapUnlock, lock: a0, used: 2),
        at(3, cpu: 0, .mapDone, tlb: 0x2ac0_0000),
        map(4, cpu: 0, orig: 0x0659_6200, size: 512),
        at(5, cpu: 0, .unmap, tlb: 0x2ac0_0000),  // from an interrupt, inside the map above
        unlock(6, cpu: 0, .unmapUnlock, lock: a0, used: 0),
        map(7, cpu: 1, orig: 0x0700_0000, size: 4096),
        unlock(8, cpu: 1, .mapUnlock, lock: a1, used: 0),  // area 1: not found
        unlock(9, cpu: 0, .mapUnlock, lock: a0, used: 1),
        unlock(10, cpu: 1, .mapUnlock, lock: a0, used: 3),  // spilt to area 0
        at(11, cpu: 1, .mapDone, tlb: 0x2ac0_1000),
        at(12, cpu: 0, .mapDone, tlb: 0x2ac0_0200),
        map(13, cpu: 1, orig: 0x0800_0000, size: 262144),
        unlock(14, cpu: 1, .mapUnlock, lock: a1, used: 0),
        unlock(15, cpu: 1, .mapUnlock, lock: a0, used: 3),  // full everywhere: failed
        at(16, cpu: 0, .syncCPU, tlb: 0x2ac0_0200),
    ]
}

final class CapturePairingTests: XCTestCase {
    func testNestedUnmapSpillAndFailure() {
        // Any arrival order: the counter clock orders them.
        let p = CapturePairing(events: TwoCPUScenario.events.reversed())
        XCTAssertEqual(p.unpaired, 0)
        XCTAssertEqual(p.openAtEnd, 0)
        let summary = p.ops.map { op -> String in
            "\(op.kind) @\(op.order) cpu\(op.entry.cpu) tlb=0x\(String(op.tlb.rawValue, radix: 16)) used=\(op.kernelUsed.map(String.init) ?? "-")"
        }
        XCTAssertEqual(
            summary,
            [
                "map(failed: false) @2 cpu0 tlb=0x2ac00000 used=2",
                "unmap @6 cpu0 tlb=0x2ac00000 used=0",
                "map(failed: false) @9 cpu0 tlb=0x2ac00200 used=1",
                "map(failed: false) @10 cpu1 tlb=0x2ac01000 used=3",
                "map(failed: true) @15 cpu1 tlb=0x0 used=3",
                "sync(forDevice: false) @16 cpu0 tlb=0x2ac00200 used=-",
            ])
        XCTAssertEqual(p.ops[2].entry.original, PhysicalAddress(0x0659_6200))
    }

    /// Hits of an operation begun before the capture and one still open at its end are counted
    /// and left out.
    func testEdges() {
        var events = TwoCPUScenario.events
        events.insert(TwoCPUScenario.unlock(0, cpu: 1, .unmapUnlock, lock: TwoCPUScenario.a1, used: 0), at: 0)
        events.append(TwoCPUScenario.map(17, cpu: 1, orig: 0x9000, size: 4096))
        let p = CapturePairing(events: events)
        XCTAssertEqual(p.unpaired, 1)
        XCTAssertEqual(p.openAtEnd, 1)
        XCTAssertEqual(p.ops.count, 6)
    }
}
