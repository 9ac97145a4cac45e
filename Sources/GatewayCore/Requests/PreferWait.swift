import Foundation
import HTTPTypes
import Hummingbird

/// `Prefer: wait=N` (RFC 7240 §4.3): the client would rather wait up to N seconds for the outcome
/// of work it started than receive a 202 it must poll. Other preferences in the header are ignored.
enum PreferWait {
    /// The seconds asked for, nil when the request has no usable wait preference.
    static func seconds(in headers: HTTPFields) -> Double? {
        for value in headers[values: .prefer] {
            for preference in value.split(whereSeparator: { $0 == "," || $0 == ";" }) {
                let parts = preference.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, parts[0].lowercased() == "wait",
                      let seconds = Double(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))),
                      seconds.isFinite, seconds >= 0 else { continue }
                return min(seconds, longest)
            }
        }
        return nil
    }

    /// No wait is longer: a caller who needs more polls (GET) instead of holding a request open.
    static let longest = 30.0

    /// The wait as a `Preference-Applied` value gives it back: whole seconds without a fraction.
    static func text(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

extension HTTPField.Name {
    static let prefer = Self("Prefer")!
    static let preferenceApplied = Self("Preference-Applied")!
}
