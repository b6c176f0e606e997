import ArgumentParser

/// The `xenpv` command: Xen PV machine-address translation and xen-swiotlb, modelled.
@main
struct XenPV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xenpv",
        abstract: "Model Xen PV P2M/M2P translation and the Linux (xen-)swiotlb bounce buffer.",
        discussion: """
        Model runs need no Xen: they build a host, a PV dom0 and its P2M the way Xen 4.17 and \
        Linux do, and replay DMA against a swiotlb that is faithful to Linux v5.11 slot for slot.
        """,
        version: XenPVVersion.current,
        subcommands: [SimulateCommand.self, SizeCommand.self, CompareCommand.self, LayoutCommand.self, SwiotlbCommand.self,
                      HostCommand.self, P2MCommand.self, DumpCommand.self, ImportCommand.self, CompareRealCommand.self]
    )
}

/// The tool's version string.
enum XenPVVersion {
    /// Semantic version of this build.
    static let current = "0.1.0"
}
