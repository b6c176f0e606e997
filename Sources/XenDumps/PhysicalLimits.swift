/// What x86-64 can address (`MAXPHYADDR` is at most 52 bits): a dump naming more is not of a
/// real host.
public enum PhysicalLimits {
    /// Bytes of physical address space: 2^52.
    public static let bytes: UInt64 = 1 << 52
    /// 4 KiB frames in it: 2^40.
    public static let frames: UInt64 = 1 << 40
}
