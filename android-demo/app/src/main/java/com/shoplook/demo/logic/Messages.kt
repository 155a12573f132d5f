// Shared demo logic: what the user reads when something goes wrong (plain Kotlin, host-tested).
package com.shoplook.demo.logic

import com.shoplook.ShopLookException

/** Which kind of message: the UI picks an icon and the second button from it. */
enum class MessageKind { OFFLINE, UNAUTHORIZED, BAD_PHOTO, RATE_LIMITED, SERVER, INCOMPATIBLE, SETTINGS, NOTHING_FOUND, NO_PRODUCTS, APP_BUG, CAMERA }

/**
 * A message with a title, a sentence and the label of its retry button. [opensSettings]: the
 * second button goes to Settings (wrong URL or key); [needsNewPhoto]: retrying the same photo
 * cannot help, the button picks another one.
 */
data class UiMessage(
    val kind: MessageKind,
    val title: String,
    val message: String,
    val retryLabel: String = "Try again",
    val opensSettings: Boolean = false,
    val needsNewPhoto: Boolean = false,
    val retryable: Boolean = true,
)

object Messages {
    val nothingFound = UiMessage(
        MessageKind.NOTHING_FOUND, "Nothing to shop here",
        "No shoppable object was found in this photo. Draw a box around what you like, or take another photo.",
        retryLabel = "Draw a box",
    )
    val noProducts = UiMessage(
        MessageKind.NO_PRODUCTS, "No matching products",
        "The catalogue has nothing similar to this. Try another object, or draw a tighter box.",
        retryLabel = "Search again",
    )

    /**
     * The live viewfinder could not use a camera frame (the tracker refused it, or the camera's
     * buffer could not be read). Shown over the preview, which keeps running: the next good frame
     * clears it.
     */
    fun forCameraError(e: Throwable): UiMessage = when (e) {
        is ShopLookException.CorruptImage, is ShopLookException.EmptyInput, is ShopLookException.InvalidRegion -> UiMessage(
            MessageKind.CAMERA, "The camera picture can't be used",
            "A camera frame could not be read (${e.message ?: e::class.simpleName}). Boxes come back with the next good frame.",
            retryable = false,
        )
        else -> forError(e).copy(kind = MessageKind.CAMERA, retryable = false)
    }

    fun forError(e: Throwable): UiMessage = when (e) {
        is ShopLookException.Offline -> UiMessage(
            MessageKind.OFFLINE, "You're offline",
            "The catalogue can't be reached. Check your connection (and the catalogue URL in Settings), then try again.",
            opensSettings = true,
        )
        is ShopLookException.Unauthorized -> UiMessage(
            MessageKind.UNAUTHORIZED, "Not authorised",
            "The catalogue refused the API key. Enter a valid key in Settings.",
            retryLabel = "Open Settings", opensSettings = true,
        )
        is ShopLookException.RateLimited -> UiMessage(
            MessageKind.RATE_LIMITED, "Too many searches",
            "The catalogue asks to wait ${e.retryAfterS} s before the next search.",
        )
        is ShopLookException.Server -> UiMessage(
            MessageKind.SERVER, "The catalogue had a problem",
            "The catalogue failed to answer (HTTP ${e.status}). Try again in a moment.",
        )
        is ShopLookException.ContractMismatch -> UiMessage(
            MessageKind.INCOMPATIBLE, "Catalogue not compatible",
            "This catalogue was built with another model than the app's. Point Settings at a matching catalogue.",
            retryLabel = "Open Settings", opensSettings = true, retryable = false,
        )
        is ShopLookException.BadRequest -> UiMessage(
            MessageKind.SETTINGS, "Check the catalogue settings",
            "The catalogue did not accept the request (${e.status}): ${e.detail}",
            retryLabel = "Open Settings", opensSettings = true, retryable = false,
        )
        is ShopLookException.EmptyInput, is ShopLookException.UnsupportedFormat, is ShopLookException.CorruptImage ->
            UiMessage(
                MessageKind.BAD_PHOTO, "This photo can't be read",
                "The file is empty, damaged or not a JPEG, PNG or WebP photo. Take or pick another one.",
                retryLabel = "Choose another photo", needsNewPhoto = true, retryable = false,
            )
        is ShopLookException.FileTooLarge, is ShopLookException.ImageTooLarge -> UiMessage(
            MessageKind.BAD_PHOTO, "This photo is too large",
            "Pick a smaller photo (up to 100 megapixels and 64 MB).",
            retryLabel = "Choose another photo", needsNewPhoto = true, retryable = false,
        )
        is ShopLookException.InvalidRegion -> UiMessage(
            MessageKind.BAD_PHOTO, "Draw the box on the photo",
            "The box is empty or outside the photo. Draw it around the object.",
            retryLabel = "Draw again", retryable = false,
        )
        is ShopLookException -> UiMessage(   // ModelIo, ModelInvalid, Inference, Internal, Cancelled
            MessageKind.APP_BUG, "Something went wrong",
            "The app could not analyse this (${e::class.simpleName}). Try again; if it keeps failing, please report it.",
            retryable = !e.isBadPhoto(),
        )
        else -> UiMessage(
            MessageKind.APP_BUG, "Something went wrong",
            "${e::class.simpleName}: ${e.message ?: "no detail"}",
        )
    }
}
