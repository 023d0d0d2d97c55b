import Foundation

/// Runs the hook's program with the event's JSON on its standard input and
/// `MINERALSYNC_EVENT` / `MINERALSYNC_EVENT_ID` in its environment. Exit status 0 is delivered;
/// anything else, or no exit within the timeout, is a failure that names the status and the
/// start of its standard error.
///
/// The program runs in a process group of its own, with every signal at its default (the daemon
/// ignores SIGPIPE and traps SIGTERM, and would otherwise pass that on): at the timeout, or
/// when the node stops, the group is sent SIGTERM, and SIGKILL two seconds later if it is still
/// there, so a script's own children go with it.
struct ExecHook: HookDeliverer {
    let program: String

    func deliver(_ body: [UInt8], kind: String, id: String, timeout: Duration) async -> HookAttempt {
        var environment = ProcessInfo.processInfo.environment
        environment["MINERALSYNC_EVENT"] = kind
        environment["MINERALSYNC_EVENT_ID"] = id
        let child: SpawnedProgram
        do { child = try SpawnedProgram(program, environment: environment) } catch {
            return .failed("cannot run \(program): \(error)")
        }
        let overran = ExitSignal()
        let deadline = Task {
            try await Task.sleep(for: timeout)
            overran.fire(0)
            child.stop()
        }
        // Written beside the wait, on a thread of its own: a program that never reads a large
        // event must not hold a thread of the cooperative pool (it is stopped at the timeout,
        // and the write then fails). One that does not read it at all, or has exited, is not a
        // failure of ours: its exit status says how it went.
        Thread.detachNewThread { child.write(body) }
        // Ends only once the program has exited and been reaped, cancelled or not.
        let status = await withTaskCancellationHandler {
            await child.exited.wait()
        } onCancel: {
            child.stop()
        }
        deadline.cancel()
        let detail = await child.firstLineOfErrors()
        if overran.isFired { return .failed("did not finish within \(timeout.shortText): terminated") }
        if status == SpawnedProgram.unknownStatus { return .failed("its exit status could not be read") }
        if status == 0 { return .delivered }
        let how = status & 0x7F != 0 ? "was killed by signal \(status & 0x7F)" : "exited with status \((status >> 8) & 0xFF)"
        return .failed(detail.isEmpty ? how : "\(how): \(detail)")
    }
}
