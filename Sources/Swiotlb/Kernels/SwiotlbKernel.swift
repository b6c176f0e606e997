/// A kernel as a command line or a scenario names it: one of the registered kernel types.
///
/// This is the one place where a name maps to a type: ``allCases`` lists every kernel the model
/// knows, in the order `--help` shows them.
public struct SwiotlbKernel: Sendable, Hashable, RawRepresentable, CaseIterable, CustomStringConvertible {
    /// Every kernel the model knows. Adding a kernel: its type's file, and its name here.
    public static let allCases: [SwiotlbKernel] = [Linux5_11.self, RFCv1.self, Linux6_1.self, Linux6_18.self].map(SwiotlbKernel.init)

    /// The kernel used when none is named: Linux v5.11.
    public static let `default` = SwiotlbKernel(Linux5_11.self)

    /// The kernel's type, whose operations the model runs.
    public let model: any SwiotlbKernelModel.Type

    /// The kernel of type `model`.
    public init(_ model: any SwiotlbKernelModel.Type) { self.model = model }

    /// The registered kernel named `rawValue` (e.g. `v6.1`), if any.
    public init?(rawValue: String) {
        guard let k = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = k
    }

    /// Its name (``SwiotlbKernelModel/name``).
    public var rawValue: String { model.name }
    /// Its name.
    public var description: String { model.name }
}
