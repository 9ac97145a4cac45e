import HummingbirdCore
import Logging
import NIOCore

/// HTTP/1.1 whose connections each run on their own channel's event loop.
///
/// Hummingbird starts a connection's task from the accept loop, so without a preference the task
/// runs wherever Swift concurrency puts it: the accepting loop at first, any loop after a database
/// call (resumed from a pool thread). Its socket's reads and writes then cross threads. Preferring
/// the channel's loop keeps the request, its handler and its response on one thread.
struct ChannelLoopServer: ServerChildChannel {
    let http: HTTP1Channel

    static func builder() -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(additionalChannelHandlers: [HTTP1Guard()])
        return HTTPServerBuilder { responder in ChannelLoopServer(http: HTTP1Channel(responder: responder, configuration: configuration)) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1Channel.Value> {
        http.setup(channel: channel, logger: logger)
    }

    func handle(value: HTTP1Channel.Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(loop: value.channel.eventLoop)) {
            await http.handle(value: value, logger: logger)
        }
    }
}

/// Runs a task's jobs on one event loop (a job resumed from another thread is handed over).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
