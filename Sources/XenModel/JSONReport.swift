import XenDumps
import XenMemory

/// The versioned JSON report of a run (`"schema": 1`; documented in `docs/scenarios.md`).
public enum JSONReport {
    /// The report's schema version.
    public static let schema: Int64 = 1

    /// Renders `r`.
    public static func render(_ r: RunResult) -> String {
        let s = r.scenario
        var top: [(String, JSONValue)] = [
            ("schema", .int(schema)),
            ("scenario", .string(s.name)),
            (
                "guest",
                .object([
                    ("type", .string(s.guest.kind.rawValue)), ("kernel", .string(s.guest.kernel.rawValue)),
                    ("cmdline", .string(s.guest.cmdline)),
                ])
            ),
            ("seed", .uint(s.workload.seed)),
            (
                "boot",
                .object([
                    ("ok", .bool(r.boot.failure == nil)),
                    ("failure", r.boot.failure.map { .string($0.description) } ?? .null),
                    ("xen_log", .array(r.boot.xenLog.map(JSONValue.string))),
                    ("kernel_log", .array(r.boot.kernelLog.map(JSONValue.string))),
                    ("fixup_exchanges", .int(Int64(r.boot.exchanges.count))),
                ])
            ),
            ("operations", .int(Int64(r.operations))),
        ]
        top.append(("pools", pools(r)))
        top.append(("devices", devices(r)))
        top.append(("debugfs", .object(r.debugfs.map { ($0.file, JSONValue.int(Int64($0.value))) })))
        if let d = r.dynamicPools { top.append(("dynamic_pools", dynamicPools(d))) }
        top.append(
            (
                "kernel_messages",
                .object([
                    ("count", .int(Int64(r.messageCount))), ("rate_limited", .int(Int64(r.suppressedMessages))),
                    ("first", .array(r.messages.map(JSONValue.string))),
                ])
            ))
        top.append(("bug", r.kernelBug.map { .string($0.description) } ?? .null))
        top.append(
            (
                "still_mapped",
                .array(
                    r.stillMapped.map { m in
                        .object([
                            ("device", .string(m.device)), ("count", .int(Int64(m.count))), ("bytes", .uint(m.bytes)),
                            ("first_ids", .array(m.firstIDs.map(JSONValue.string))), ("stream", .string(m.source)),
                        ])
                    })
            ))
        top += DiagnosisJSON.members(RunEvidence.diagnose(r))
        return JSONValue.object(top).rendered() + "\n"
    }

    /// The `pools` array: each pool's size, peak, failures, occupancy and machine placement.
    static func pools(_ r: RunResult) -> JSONValue {
        .array(
            zip(r.pools, PoolMachinePlacement.of(r)).map { p, m in
                .object([
                    ("name", .string(p.name)), ("nslabs", .int(Int64(p.nslabs))), ("start", .uint(p.start.rawValue)),
                    ("peak_used", .int(Int64(p.peakUsed))), ("full_failures", .int(Int64(p.fullFailures))),
                    ("final_used", .int(Int64(p.finalUsed))),
                    ("occupancy", .array(p.occupancy.map { .array([.int(Int64($0.op)), .int(Int64($0.used))]) })),
                    ("placement", placement(m)),
                ])
            })
    }

    /// The `devices` array: each device's maps, bounces, failures, copies and coherent buffers.
    static func devices(_ r: RunResult) -> JSONValue {
        .array(
            r.devices.map { d in
                .object([
                    ("name", .string(d.name)), ("maps", .int(Int64(d.maps))), ("direct", .int(Int64(d.direct))),
                    ("bounced", .int(Int64(d.bounced))), ("failed", .int(Int64(d.failed))),
                    ("bytes_copied", .uint(d.bytesCopied)), ("coherent_allocations", .int(Int64(d.coherentAllocations))),
                    ("coherent_exchanged", .int(Int64(d.coherentExchanged))), ("coherent_failed", .int(Int64(d.coherentFailed))),
                ])
            })
    }

    /// A pool's `placement` object.
    static func placement(_ m: PoolMachinePlacement) -> JSONValue {
        let p = m.placement
        return .object([
            ("bus_is_physical", .bool(m.native)),
            ("machine_start", p.lowestFrame.map { .uint($0.address.rawValue) } ?? .null),
            ("machine_end", p.frameEnd.map { .uint($0.address.rawValue) } ?? .null),
            ("pieces", .array(p.pieces.map { .object([("pfn", .uint($0.pfn.rawValue)), ("mfn", .uint($0.mfn.rawValue)), ("pages", .uint($0.pages))]) })),
            ("segments", .int(Int64(p.segmentCount))), ("contiguous_segments", .int(Int64(p.contiguousSegments))),
            ("not_ram_pages", .uint(p.notRAMPages)), ("bytes_above_4g", .uint(p.pagesAbove4G << Page.shift)),
            ("all_below_4g", .bool(p.allBelow4G)),
            ("devices", .array(m.devices.map { .object([("name", .string($0.name)), ("dma_limit", .uint($0.limit)), ("reaches", .bool($0.reaches))]) })),
        ])
    }

    /// `dynamic_pools`: `memory_start`, `memory_end`, `can_grow`, `grown` [{`start`, `nslabs`, `areas`,
    /// `peak_used`, `final_used`}], `transient_maps`, `peak_transient_slots`.
    static func dynamicPools(_ d: DynamicPoolStats) -> JSONValue {
        .object([
            ("memory_start", .uint(d.memory.lowerBound.rawValue)), ("memory_end", .uint(d.memory.upperBound.rawValue)), ("can_grow", .bool(d.canGrow)),
            (
                "grown",
                .array(
                    d.grown.map {
                        .object([
                            ("start", .uint($0.start.rawValue)), ("nslabs", .int(Int64($0.nslabs))), ("areas", .int(Int64($0.areas))),
                            ("peak_used", .int(Int64($0.peakUsed))), ("final_used", .int(Int64($0.finalUsed))),
                        ])
                    })
            ),
            ("transient_maps", .int(Int64(d.transientMaps))), ("peak_transient_slots", .int(Int64(d.peakTransientSlots))),
        ])
    }

}
