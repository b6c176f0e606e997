import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// The `xenpv` command: Xen PV machine-address translation and xen-swiotlb, modelled.
@main
struct XenPV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xenpv",
        abstract: "Model Xen PV P2M/M2P translation and the Linux (xen-)swiotlb bounce buffer.",
        discussion: """
            Model runs need no Xen: they build a host, a PV dom0 and its P2M the way Xen 4.17 and \
            Linux do, and replay DMA against a swiotlb that is faithful to Linux v5.11 (and the RFC on it), 6.1.192 and 6.18.2 slot for slot.
            """,
        version: XenPVVersion.current,
        subcommands: [
            SimulateCommand.self, SizeCommand.self, CompareCommand.self, DiagnoseCommand.self, LayoutCommand.self, SwiotlbCommand.self,
            HostCommand.self, P2MCommand.self, DumpCommand.self, ImportCommand.self, CompareRealCommand.self,
            ScenarioCommand.self,
        ]
    )

    /// Parses the command line and runs the command. A refusal is one line on standard error
    /// (`Error: <what>`, and for a usage error the help command to read), never a usage screen;
    /// `--help` and `--version` print as usual.
    static func main() {
        do {
            var command = try parseNegativeValues(Array(CommandLine.arguments.dropFirst()))
            try command.run()
        } catch {
            let status = exitCode(for: error)
            if status == .success { exit(withError: error) }
            if let line = refusal(for: error) { StandardError.write([line]) }
            Glibc.exit(status.rawValue)
        }
    }

    /// The one line a refusal prints (`Error: <what>`, and for a usage error the help command
    /// to read); nil when there is nothing to say (an exit status alone).
    static func refusal(for error: Error) -> String? {
        let message = message(for: error)
        guard !message.isEmpty else { return nil }
        return "Error: " + RefusalLine.naming(RefusalLine.join(message)) + RefusalLine.helpHint(fullMessage(for: error, columns: 1000))
    }

    /// Parses `arguments`; when that fails and one of them looks like a negative number
    /// (`dump p2m -1`), which ArgumentParser takes for an option, parses again with it given as
    /// a value (after `--`), so that the refusal is about the value.
    static func parseNegativeValues(_ arguments: [String]) throws -> ParsableCommand {
        do { return try parseAsRoot(arguments) } catch {
            // Not an option's value (`--ram -1G` is the option's to refuse).
            let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
            guard exitCode(for: error) != .success,
                let i = arguments[..<end].indices.first(where: { k in
                    let a = arguments[k]
                    return a.count > 1 && a.hasPrefix("-") && a.dropFirst().first.map { $0.isASCII && $0.isNumber } == true
                        && (k == 0 || !arguments[k - 1].hasPrefix("-"))
                })
            else { throw error }
            var moved = arguments
            let value = moved.remove(at: i)
            if end == arguments.endIndex { moved.append("--") }
            moved.insert(value, at: moved.firstIndex(of: "--").map { $0 + 1 } ?? moved.endIndex)
            return try parseAsRoot(moved)
        }
    }
}

/// How a refusal is written: one line, whatever the message it comes from.
enum RefusalLine {
    /// The message's lines joined into one.
    static func join(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed() }
            .filter { !$0.isEmpty }.map { String($0) }.joined(separator: "; ")
    }

    /// ` (see 'xenpv <command> --help')` when ArgumentParser's full message points at a help
    /// screen (usage errors), else nothing.
    static func helpHint(_ fullMessage: String) -> String {
        guard let line = fullMessage.split(whereSeparator: \.isNewline).first(where: { $0.contains("See '") }),
            let open = line.firstIndex(of: "'"),
            let close = line[line.index(after: open)...].firstIndex(of: "'")
        else { return "" }
        return " (see \(line[open...close]))"
    }
}

/// The tool's version string.
enum XenPVVersion {
    /// Semantic version of this build.
    static let current = "0.1.0"
}
