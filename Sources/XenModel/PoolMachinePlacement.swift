import Swiotlb
import XenDumps
import XenMemory

/// A bounce pool's place in machine memory as the reports show it: where its frames are,
/// whether its segments are machine-contiguous and below 4 GiB, and whether the DMA limit of
/// every device that maps from it reaches all of it.
public struct PoolMachinePlacement: Sendable {
    /// A device that maps from the pool and whether its limit reaches the pool's last byte.
    public struct DeviceReach: Sendable, Hashable {
        /// The device's name.
        public var name: String
        /// `min_not_zero(dma_mask, bus_dma_limit)`: a mask (`u64` in the kernel, the highest
        /// reachable bus address), not an address of memory.
        public var limit: UInt64
        /// Whether `limit` is at or above the pool's highest bus address.
        public var reaches: Bool
    }

    /// The pool (index into ``RunResult/pools``).
    public var pool: Int
    /// Its placement, read from the guest's P2M (a native guest's bus addresses are its
    /// physical addresses: one piece at the pool's own frames).
    public var placement: PoolPlacement
    /// Whether the guest has no P2M (bus address = physical address).
    public var native: Bool
    /// The devices that map from the pool, in scenario order.
    public var devices: [DeviceReach]

    /// The pool's highest bus byte (a `dma_addr_t`: the machine address in a PV guest, the
    /// physical address natively), nil when none of it is RAM.
    public var lastBusByte: DMAAddress? { placement.frameEnd.map { DMAAddress($0.address.rawValue - 1) } }

    /// The placement of every pool of `r` (none before the pools were set up). Linear in the
    /// P2M runs over the pools, plus their segments.
    public static func of(_ r: RunResult) -> [PoolMachinePlacement] {
        r.pools.enumerated().map { i, p in
            let location = SwiotlbPoolLocation(start: p.start, nslabs: UInt64(p.nslabs))
            let first = location.firstPfn.rawValue, pages = location.pages
            // The guest's P2M over the pool; a native guest's devices see its physical frames.
            var entries = ExtentMap<P2MRun>()
            for run in r.boot.p2m?.runs(start: PFN(first), count: pages) ?? [Extent(start: first, count: pages, value: .machine(base: MFN(first)))] {
                entries.append(start: run.start, count: run.count, value: run.value)
            }
            let view = P2MDumpContents(domid: 0, size: first + pages, entries: entries, types: ExtentMap())
            let placement = PoolPlacement(location, in: view)
            let top = placement.frameEnd.map { $0.address.rawValue - 1 }
            let devices = p.devices.map { d in
                let dev = r.scenario.devices[d]
                return DeviceReach(name: dev.name, limit: dev.dma.effectiveLimit, reaches: top.map { $0 <= dev.dma.effectiveLimit } ?? false)
            }
            return PoolMachinePlacement(pool: i, placement: placement, native: r.boot.p2m == nil, devices: devices)
        }
    }

    /// The report's line for the pool named `name`.
    public func line(name: String) -> String {
        let p = placement
        guard let low = p.lowestFrame, let end = p.frameEnd else { return "\(name): no RAM behind the pool" }
        var parts = [
            "\(name): \(native ? "bus = physical" : "machine") \(low.address)-\(Hex.plain(end.address.rawValue - 1))"
                + (p.pieces.count == 1 ? "" : " in \(p.pieces.count) pieces")
        ]
        parts.append("\(p.contiguousSegments) of \(p.segmentCount) segments machine-contiguous")
        if p.notRAMPages > 0 { parts.append("\(p.notRAMPages) pages not RAM") }
        parts.append(p.allBelow4G ? "all below 4 GiB" : "\(ByteText.text(p.pagesAbove4G << Page.shift)) above 4 GiB")
        let short = devices.filter { !$0.reaches }
        if devices.isEmpty {
            parts.append("no device maps from it")
        } else if short.isEmpty, let narrowest = devices.min(by: { $0.limit < $1.limit }) {
            parts.append("within every mapping device's DMA limit (narrowest \(narrowest.name) \(Hex.plain(narrowest.limit)))")
        } else {
            parts.append("beyond the DMA limit of " + short.map { "\($0.name) (\(Hex.plain($0.limit)))" }.joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }
}
