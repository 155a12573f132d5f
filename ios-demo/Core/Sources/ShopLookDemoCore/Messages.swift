// Shared demo logic: what the user reads when something goes wrong (Foundation only, host-tested).
// Same texts as the Android demo's Messages.kt.
import Foundation
#if canImport(ShopLook)
import ShopLook
#endif

public enum MessageKind: Equatable {
    case offline, unauthorized, badPhoto, rateLimited, server, incompatible, settings, nothingFound, noProducts, appBug, camera
}

/// A message with a title, a sentence and the label of its retry button. `opensSettings`: offer a
/// way to Settings (wrong URL or key); `needsNewPhoto`: retrying the same photo cannot help.
public struct UiMessage: Equatable {
    public let kind: MessageKind
    public let title: String
    public let message: String
    public var retryLabel = "Try again"
    public var opensSettings = false
    public var needsNewPhoto = false
    public var retryable = true
}

public enum Messages {
    public static let nothingFound = UiMessage(
        kind: .nothingFound, title: "Nothing to shop here",
        message: "No shoppable object was found in this photo. Draw a box around what you like, or take another photo.",
        retryLabel: "Draw a box")
    public static let noProducts = UiMessage(
        kind: .noProducts, title: "No matching products",
        message: "The catalogue has nothing similar to this. Try another object, or draw a tighter box.",
        retryLabel: "Search again")

    /// The live viewfinder could not use a camera frame (the tracker refused it, or the camera's
    /// buffer could not be read). Shown over the preview, which keeps running: the next good frame
    /// clears it.
    public static func forCameraError(_ error: Error) -> UiMessage {
        switch error as? ShopLookError {
        case .CorruptImage?, .EmptyInput?, .InvalidRegion?:
            return UiMessage(kind: .camera, title: "The camera picture can't be used",
                             message: "A camera frame could not be read (\(error)). Boxes come back with the next good frame.",
                             retryable: false)
        default:
            let m = forError(error)
            return UiMessage(kind: .camera, title: m.title, message: m.message, retryLabel: m.retryLabel,
                             opensSettings: m.opensSettings, needsNewPhoto: m.needsNewPhoto, retryable: false)
        }
    }

    public static func forError(_ error: Error) -> UiMessage {
        guard let e = error as? ShopLookError else {
            return UiMessage(kind: .appBug, title: "Something went wrong", message: "\(error)")
        }
        switch e {
        case .Offline:
            return UiMessage(kind: .offline, title: "You're offline",
                             message: "The catalogue can't be reached. Check your connection (and the catalogue URL in Settings), then try again.",
                             opensSettings: true)
        case .Unauthorized:
            return UiMessage(kind: .unauthorized, title: "Not authorised",
                             message: "The catalogue refused the API key. Enter a valid key in Settings.",
                             retryLabel: "Open Settings", opensSettings: true)
        case .RateLimited(let after):
            return UiMessage(kind: .rateLimited, title: "Too many searches",
                             message: "The catalogue asks to wait \(after) s before the next search.")
        case .Server(let status, _):
            return UiMessage(kind: .server, title: "The catalogue had a problem",
                             message: "The catalogue failed to answer (HTTP \(status)). Try again in a moment.")
        case .ContractMismatch:
            return UiMessage(kind: .incompatible, title: "Catalogue not compatible",
                             message: "This catalogue was built with another model than the app's. Point Settings at a matching catalogue.",
                             retryLabel: "Open Settings", opensSettings: true, retryable: false)
        case .BadRequest(let status, let detail):
            return UiMessage(kind: .settings, title: "Check the catalogue settings",
                             message: "The catalogue did not accept the request (\(status)): \(detail)",
                             retryLabel: "Open Settings", opensSettings: true, retryable: false)
        case .EmptyInput, .UnsupportedFormat, .CorruptImage:
            return UiMessage(kind: .badPhoto, title: "This photo can't be read",
                             message: "The file is empty, damaged or not a JPEG, PNG or WebP photo. Take or pick another one.",
                             retryLabel: "Choose another photo", needsNewPhoto: true, retryable: false)
        case .FileTooLarge, .ImageTooLarge:
            return UiMessage(kind: .badPhoto, title: "This photo is too large",
                             message: "Pick a smaller photo (up to 100 megapixels and 64 MB).",
                             retryLabel: "Choose another photo", needsNewPhoto: true, retryable: false)
        case .InvalidRegion:
            return UiMessage(kind: .badPhoto, title: "Draw the box on the photo",
                             message: "The box is empty or outside the photo. Draw it around the object.",
                             retryLabel: "Draw again", retryable: false)
        case .ModelIo, .ModelInvalid, .Inference, .Internal, .Cancelled:
            return UiMessage(kind: .appBug, title: "Something went wrong",
                             message: "The app could not analyse this (\(e)). Try again; if it keeps failing, please report it.")
        }
    }
}
