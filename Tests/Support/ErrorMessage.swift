/// The text of the error `body` throws (its description), or nil when it throws none: what a
/// test compares with the exact refusal it expects.
public func errorMessage<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return "\(error)"
    }
}
