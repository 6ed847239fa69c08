import Foundation

/// `localizedDescription` of the training loop's errors is their message (not "The operation
/// could not be completed").
extension TrainingError: LocalizedError {
    public var errorDescription: String? { description }
}
