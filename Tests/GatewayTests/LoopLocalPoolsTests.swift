import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Testing
@testable import GatewayCore

@Suite("One PostgreSQL pool per event loop")
struct LoopLocalPoolsTests {
    static let configuration = PostgresClient.Configuration(host: "127.0.0.1", username: "nobody", password: nil, database: nil, tls: .disable)

    @Test func connectionsAreSharedOutOverTheLoops() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        defer { try? group.syncShutdownGracefully() }
        let logger = Logger(label: "test")
        #expect(LoopLocalPools(configuration: Self.configuration, size: 7, group: group, logger: logger).connectionCounts == [3, 2, 2])
        #expect(LoopLocalPools(configuration: Self.configuration, size: 6, group: group, logger: logger).connectionCounts == [2, 2, 2])
        #expect(LoopLocalPools(configuration: Self.configuration, size: 2, group: group, logger: logger).connectionCounts == [1, 1],
                "fewer connections than loops: fewer pools, never an empty one")
        #expect(LoopLocalPools(configuration: Self.configuration, size: 1, group: group, logger: logger).connectionCounts == [1],
                "a pool of one stays one connection")
        #expect(LoopLocalPools(configuration: Self.configuration, size: 0, group: group, logger: logger).connectionCounts == [1])
    }

    @Test func aRequestGetsThePoolOfItsOwnLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let pools = LoopLocalPools(configuration: Self.configuration, size: 4, group: group, logger: Logger(label: "test"))
        let loops = Array(group.makeIterator())
        let first = try await loops[0].submit { ObjectIdentifier(pools.current) }.get()
        let second = try await loops[1].submit { ObjectIdentifier(pools.current) }.get()
        #expect(first != second)
        #expect(first == ObjectIdentifier(pools.first))
        for _ in 0..<10 {
            #expect(try await loops[1].submit { ObjectIdentifier(pools.current) }.get() == second, "the same loop, the same pool")
        }
        try await group.shutdownGracefully()
    }
}
