import XenMemory

/// Where dom0's drivers' coherent allocations at probe left a trace in its P2M.
///
/// `xen_swiotlb_alloc_coherent` (Linux 6.1.192) exchanges an allocation's pages when their
/// machine frames are not contiguous, beyond the coherent mask, or not aligned to the
/// allocation's power-of-two size (`range_requires_alignment`): Xen gives one extent of
/// `2^order` frames, aligned to its size, and the pages read those. Inside a machine-contiguous
/// run of dom0's P2M such a block shows as a hole punched in the run: the frames before and
/// after it continue each other with exactly the block's count skipped. Where the page
/// allocator put the pages no model of Linux can predict, so they are read here; allocations
/// that needed no exchange leave no trace and change nothing.
public enum BootCoherentEvidence {
    /// The largest allocation looked for: 2^3 pages (a virtio ring of up to 1024 entries).
    /// Bounce-pool segments, also exchanged at boot, are 2^6 pages and never match.
    public static let maxOrder = 3

    /// The exchanged blocks of 2 to 2^``maxOrder`` pages in `p2m`, in pfn order, as allocations
    /// of their whole pages. Linear in the P2M's runs.
    public static func exchangedBlocks(in p2m: ExtentMap<P2MRun>) -> [BootCoherentAllocation] {
        let runs = p2m.extents
        var out: [BootCoherentAllocation] = []
        guard runs.count >= 3 else { return out }
        for i in 1..<(runs.count - 1) {
            let before = runs[i - 1], block = runs[i], after = runs[i + 1]
            guard block.count >= 2, block.count <= 1 << UInt64(maxOrder), block.count & (block.count - 1) == 0,
                block.start % block.count == 0, before.end == block.start, block.end == after.start,
                case .machine(let first) = before.value, case .machine(let mine) = block.value,
                case .machine(let next) = after.value, mine.rawValue % block.count == 0,
                first.rawValue.addingReportingOverflow(before.count + block.count) == (next.rawValue, false)
            else { continue }
            out.append(BootCoherentAllocation(pfn: PFN(block.start), size: block.count << Page.shift))
        }
        return out
    }
}
