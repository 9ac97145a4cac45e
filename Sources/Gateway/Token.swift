import ArgumentParser
import Foundation
import GatewayCore

/// `make token`: a signed demo token for the configured JWT_SECRET.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an HS256 token signed with $JWT_SECRET (for demos and curl).")

    @Option(help: "Database role: anon, authenticated or service_role.") var role = "authenticated"
    @Option(help: "User id (claim sub); a new UUID by default.") var sub: String?
    @Option(help: "Account (tenant) id, app_metadata.account_id.") var account: String?
    @Option(help: "Application role within the account (one a unit declares in auth.app_roles, e.g. admin).") var appRole: String?
    @Option(help: "Lifetime in seconds.") var ttl: Double = 3600

    func run() throws {
        guard let secret = try GatewayConfiguration.secret(ProcessInfo.processInfo.environment, "JWT_SECRET"), !secret.isEmpty
        else { throw ValidationError("set JWT_SECRET (or JWT_SECRET_FILE)") }
        let claims = TokenMinter.claims(role: role, subject: sub ?? UUID().uuidString.lowercased(), account: account,
                                        appRole: appRole, lifetime: ttl)
        print(TokenMinter.hs256(claims: claims, secret: secret))
    }
}
