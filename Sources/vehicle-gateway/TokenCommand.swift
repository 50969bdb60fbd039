import AccessControl
import ArgumentParser
import Foundation

/// Key pairs and scoped JWTs for the API (and for KUKSA Databroker, which reads the same).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a key pair, sign scoped access tokens (JWT) and check them.",
        discussion: """
        vehicle-gateway token keygen --private-key assistant.pem --public-key assistant.pub.pem
        vehicle-gateway token sign --key assistant.pem --scope "read:Vehicle.Speed read:Vehicle.Powertrain.Transmission" --expires-in 30d
        vehicle-gateway run --jwt-key assistant.pub.pem ...     # the gateway reads the public key
        """,
        subcommands: [Keygen.self, Sign.self, Check.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new private key and its public key (PEM).")
        @Option(name: .long, help: "es256 (EC P-256, default) or rs256 (RSA 2048).") var algorithm: TokenSigner.Algorithm = .es256
        @Option(name: .long, help: "Where the private key goes (created with mode 0600).") var privateKey: String
        @Option(name: .long, help: "Where the public key goes (give it to the gateway: --jwt-key).") var publicKey: String

        func run() throws {
            let (priv, pub) = try TokenSigner.makeKeyPair(algorithm)
            for (path, text, mode) in [(privateKey, priv, 0o600), (publicKey, pub, 0o644)] {
                guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
                    throw CLIFailure.exit("cannot write \(path)", code: 73)
                }
            }
            printError("vehicle-gateway: wrote \(privateKey) and \(publicKey) (\(algorithm.rawValue.uppercased()))")
        }
    }

    struct Sign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a JWT with KUKSA scopes, signed with a private key.")
        @Option(name: .long, help: "The private key (PEM).") var key: String
        @Option(name: .long, help: "What the token may read, e.g. \"read:Vehicle.Speed read:Vehicle.Cabin\" (\"read\": everything).")
        var scope: String
        @Option(name: .long, help: "Lifetime: seconds, or with s/m/h/d (default 1h; never: no expiry).") var expiresIn = "1h"
        @Option(name: .long, help: "The aud claim (default kuksa.val; none: no audience).") var audience = "kuksa.val"
        @Option(name: .long, help: "The sub claim (who holds it, for logs).") var subject: String?
        @Option(name: .long, help: "The kid header: the gateway's key file name without extension, when it has several.") var keyID: String?

        func validate() throws {
            if Self.seconds(expiresIn) == nil, expiresIn != "never" { throw ValidationError("--expires-in takes seconds or a number with s, m, h or d, not '\(expiresIn)'") }
            do { _ = try ReadScope(claim: scope) } catch { throw ValidationError("--scope: \(error.description)") }
        }

        static func seconds(_ text: String) -> Double? {
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            if let last = text.last, let unit = units[last], let n = Double(text.dropLast()), n > 0 { return n * unit }
            return Double(text).flatMap { $0 > 0 ? $0 : nil }
        }

        func run() async throws {
            guard let pem = try? String(contentsOfFile: key, encoding: .utf8) else { throw CLIFailure.exit("cannot read \(key)", code: 66) }
            var request = TokenSigner.Request(scope: scope)
            request.expiresIn = expiresIn == "never" ? nil : Self.seconds(expiresIn)
            request.audience = audience == "none" ? nil : audience
            request.subject = subject
            request.keyID = keyID
            do { print(try await TokenSigner.sign(request, privateKeyPEM: pem)) } catch {
                throw CLIFailure.exit("cannot sign with \(key) (a PEM EC P-256 or RSA private key): \(error)", code: 65)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: "Say what a token may read, as the gateway would, or why it is refused.")
        @Argument(help: "The token.") var token: String
        @Option(name: .long, help: "A public key the gateway accepts (PEM); repeat for several.") var jwtKey: [String]
        @Option(name: .long, help: "The aud to require (default kuksa.val; none: not checked).") var audience = "kuksa.val"

        func run() async throws {
            let keys: [TokenVerifier.Key]
            do { keys = try jwtKey.map(TokenVerifier.key(file:)) } catch { throw CLIFailure.exit(error.description, code: 66) }
            let verifier = TokenVerifier(staticToken: nil, keys: keys, audience: audience == "none" ? nil : audience)
            switch await verifier.access(token: token) {
            case .success(let a):
                var line = "accepted: reads \(a.scope)"
                if let s = a.subject { line += "; subject \(s)" }
                if let e = a.expiresNanoseconds { line += "; expires \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(e) / 1e9)))" }
                print(line)
            case .failure(let r):
                throw CLIFailure.exit("refused: \(r)", code: 1)
            }
        }
    }
}

extension TokenSigner.Algorithm: ExpressibleByArgument {}
