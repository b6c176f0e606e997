import ArgumentParser

/// `xenpv swiotlb`: the software IO TLB on its own.
struct SwiotlbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiotlb",
        abstract: "The Linux software IO TLB (v5.11 semantics, the RFC's two pools).",
        subcommands: []
    )
}
