/// The scenario `xenpv simulate` runs without an argument: the RFC's Xen PV dom0 experiment.
/// It is the same text as `docs/examples/rfc-xen-dom0.yaml` (a test keeps them equal).
public enum DefaultScenario {
    /// The file name reports use for it.
    public static let fileName = "<embedded rfc-xen-dom0.yaml>"
    /// The YAML text.
    public static let yaml = #"""
        # The RFC's first experiment: a Xen PV dom0 booted under QEMU with 20 GiB, an emulated NVMe with
        # 16 queue pairs, and swiotlb=65536,1048576,force (128 MB low pool + 2048 MB 64-bit pool).
        # dom0_mem leaves Xen memory for the pools' exchanges: with Xen's default (all but 128 MiB) the
        # 128 MB low pool cannot be made machine-contiguous below 4 GiB (see low-memory-dom0.yaml).
        schema: 1
        name: "RFC v1 Xen PV dom0: qemu -m 20G, NVMe with 16 queues, swiotlb=65536,1048576,force"
        host:
          ram: 20G
        xen:
          version: "4.17"
          dom0_mem: 9G,max:9G
        guest:
          type: pv-dom0
          kernel: rfc-v1
          cmdline: "swiotlb=65536,1048576,force"
          early_reserved: 512M
        devices:
          - {name: "0000:00:04.0", dma_bits: 64}   # NVMe
          - {name: "0000:00:03.0", dma_bits: 32}   # a 32-bit NIC
        workload:
          seed: 1
          streams:
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {fio: {device: "0000:00:04.0", block_size: 256K, queue_depth: 32, read_percent: 100, ops: 2000}}
            - {network: {device: "0000:00:03.0", mtu: 1500, in_flight: 128, ops: 4000}}

        """#
}
