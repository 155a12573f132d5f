// Shared demo logic: the states of the one screen of the demo (plain Kotlin, host-tested).
//
//   Capture --photo--> Analyzing --ok--> Photo(boxes) --tap/draw--> Photo + Sheet.Loading
//      ^                  |  \--error--> Failed --retry--> Analyzing (or Capture for a bad photo)
//      |                  \--cancel--> Capture                 Sheet.Loading --> Products | Failed(msg)
//      \------------------------- new photo ---------------------------------------------/
package com.shoplook.demo.logic

import com.shoplook.Analysis
import com.shoplook.EventType
import com.shoplook.SearchHit
import com.shoplook.SearchResponse

sealed class Screen {
    /** Camera preview with a shutter, and the gallery button. */
    data object Capture : Screen()

    /** The photo is being analysed off the UI thread: show it dimmed with a progress indicator. */
    class Analyzing(val photo: ByteArray) : Screen()

    /** Analysis failed: full-screen [message] with a retry. [photo] is kept to retry with. */
    class Failed(val message: UiMessage, val photo: ByteArray?) : Screen()

    /**
     * The photo with a tappable box on each target. [drawing]: the user is drawing a box by hand.
     * [notice]: shown over the photo (nothing found). [sheet]: the product sheet, when open.
     */
    class Photo(
        val photo: ByteArray,
        val analysis: Analysis,
        val targets: List<Target>,
        val drawing: Boolean = false,
        val sheet: Sheet? = null,
        val notice: UiMessage? = null,
    ) : Screen() {
        fun copy(
            targets: List<Target> = this.targets,
            drawing: Boolean = this.drawing,
            sheet: Sheet? = this.sheet,
            notice: UiMessage? = this.notice,
        ) = Photo(photo, analysis, targets, drawing, sheet, notice)
    }
}

/** The bottom sheet of products for one target. */
sealed class Sheet {
    abstract val target: Target

    data class Loading(override val target: Target) : Sheet()
    data class Products(override val target: Target, val response: SearchResponse) : Sheet() {
        val hits: List<SearchHit> get() = response.results
        /** The product list as shown: each hit with its position, its label and why it is there. */
        val rows: List<ProductRow> get() = response.results.mapIndexed { i, hit -> ProductRow(hit, i + 1) }
    }
    /** No products ([Messages.noProducts]) or an error; [message] says which and offers a retry. */
    data class Failed(override val target: Target, val message: UiMessage) : Sheet()
}

/**
 * One row of the product sheet. [position]: the hit's 1-based place in the results, reported with
 * its impression, click and purchase. [label]: "Sponsored" for a paid placement (the catalogue's
 * ad slot; shown on the row, never hidden), else null. [explanation]: why it is there
 * ("similar 83%", "similar 83% · learned +4": what shoppers' clicks and purchases added).
 */
data class ProductRow(val hit: SearchHit, val position: Int) {
    val label: String? get() = if (hit.sponsored) SPONSORED else null
    val explanation: String get() = Format.explanation(hit)

    companion object {
        const val SPONSORED = "Sponsored"
    }
}

/** A feedback event (with the product's 1-based position in its search) and whether the catalogue accepted it. */
data class SentEvent(
    val type: EventType,
    val productId: String,
    val queryId: String?,
    val error: UiMessage?,
    val position: Int? = null,
) {
    val accepted: Boolean get() = error == null
}
