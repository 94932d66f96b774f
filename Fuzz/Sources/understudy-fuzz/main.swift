// libFuzzer's driver runs the selected target on generated inputs; its options (-runs,
// -max_total_time, a corpus directory…) come from the command line.

import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(
    runFuzzerDriver(&argc, &argv) { start, count in
        guard let start else { return 0 }
        FuzzTarget.selected.run(UnsafeRawBufferPointer(start: start, count: count))
        return 0
    })
