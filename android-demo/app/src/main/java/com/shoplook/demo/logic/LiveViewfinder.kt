// Shared demo logic (plain Kotlin + coroutines, host-tested): the live viewfinder. Camera frames go
// through the tracker; boxes follow objects with stable ids and captions; a tap on a box freezes
// the viewfinder and searches that object in the catalogue with the same sheet as photos.
//
//   Starting --first frame--> Running(boxes) --tap on a box--> Frozen(sheet Loading)
//                               ^      \--tracker error--> Running(notice), keeps going
//                               |                            Frozen: Loading -> Products | Failed(msg)
//                               \------------------ resume (dismiss) ----------------/
package com.shoplook.demo.logic

import com.shoplook.EventType
import com.shoplook.Embedding
import com.shoplook.Rect
import com.shoplook.SearchHit
import com.shoplook.SearchResponse
import com.shoplook.ShopLookException
import com.shoplook.TrackedItem
import com.shoplook.Tracker
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.launch

/** Searches and events of the product sheet: the photo screen's [DemoController] provides them. */
interface ProductLookup {
    suspend fun searchEmbedding(embedding: Embedding, category: String?): SearchResponse
    fun reportEvent(type: EventType, hit: SearchHit, queryId: String?, position: Int?)
}

/**
 * What the product sheet's buttons do, whoever shows it: the photo screen ([DemoController]) or
 * the live viewfinder (where closing, cancelling and "new photo" all go back to the live camera).
 */
interface SheetDriver {
    fun dismissSheet()
    fun cancel()
    fun retry()
    fun newPhoto()
    fun openProduct(hit: SearchHit)
    fun buy(hit: SearchHit): String
}

sealed class LiveState {
    /** No frame processed yet (camera starting, models loading). */
    data object Starting : LiveState()

    /**
     * The viewfinder follows objects. [items]: the tracker's items of the last frame processed
     * (frame pixels, [frameWidth] x [frameHeight] in display orientation); [boxes]: those on
     * screen, in view pixels. [notice]: a problem shown over the preview while it keeps running.
     */
    data class Running(
        val frameWidth: Int, val frameHeight: Int, val timestampMs: Double,
        val items: List<TrackedItem>, val boxes: List<ScreenBox>, val notice: UiMessage? = null,
    ) : LiveState()

    /**
     * Frozen on a tap: frames are no longer fed; the frame's boxes stay as they were, [selected]
     * is the tapped one and [sheet] its products (or why there are none).
     */
    data class Frozen(
        val frameWidth: Int, val frameHeight: Int, val timestampMs: Double,
        val items: List<TrackedItem>, val boxes: List<ScreenBox>, val selected: ScreenBox, val sheet: Sheet,
    ) : LiveState()
}

/** Frame counters since the start (the back-pressure the tests check, the debug overlay). */
data class LiveCounters(val offered: Long, val processed: Long, val dropped: Long, val withPixels: Long, val errors: Long)

/**
 * Owns the live camera's [Tracker] and drives the viewfinder screen.
 *
 * [offer] is called by the camera's analyzer for every frame and returns at once: a frame that
 * arrives while another is being processed (or while frozen) is dropped, never queued, so the
 * boxes are always those of the newest frame processed (CameraX's keep-only-latest one level up).
 * Pixels are copied out of the camera's buffer only on frames that get a detection
 * ([Tracker.needsPixels]); the others are carried by the motion model from their timestamp alone.
 * The tracker's calls block (a detection takes tens of ms): they run on [worker], one at a time.
 *
 * @param tracker makes the tracker (once; the engine loads in the background).
 * @param lookup the catalogue searches and events (the photo screen's [DemoController]).
 */
class LiveViewfinder(
    private val scope: CoroutineScope,
    private val tracker: suspend () -> Tracker,
    private val lookup: ProductLookup,
    private val worker: CoroutineDispatcher = Dispatchers.Default,
) : SheetDriver {
    private val _state = MutableStateFlow<LiveState>(LiveState.Starting)
    val state: StateFlow<LiveState> = _state.asStateFlow()

    private val lock = Any()
    private val captions = TrackCaptions()
    private val inFlight = AtomicBoolean(false)
    private val maxInFlight = AtomicInteger(0)
    private val concurrent = AtomicInteger(0)
    private val offered = AtomicLong(0)
    private val processed = AtomicLong(0)
    private val dropped = AtomicLong(0)
    private val withPixels = AtomicLong(0)
    private val errors = AtomicLong(0)
    @Volatile private var ready: Tracker? = null
    private var loading: Job? = null
    private var view: Triple<Float, Float, Boolean>? = null   // width, height, mirrored
    private var generation = 0L   // bumped by freeze/resume: a frame in flight from before is dropped
    private var job: Job? = null  // the search of the frozen sheet
    /** Boxes of the last frame pushed with pixels: what [Tracker.embedRegionAsync] crops from. */
    private var pixelBoxes: Map<ULong, Rect> = emptyMap()
    /** Set by [resume]: the next frame processed resets the tracker first (on the worker, in turn). */
    private val resetPending = AtomicBoolean(false)

    val counters: LiveCounters
        get() = LiveCounters(offered.get(), processed.get(), dropped.get(), withPixels.get(), errors.get())

    /** Most frames ever processed at once (1 unless back-pressure is broken). */
    val maxConcurrent: Int get() = maxInFlight.get()

    /** The preview view's size in pixels (and whether it mirrors, front camera); re-lays the boxes. */
    fun setView(width: Float, height: Float, mirrored: Boolean = false) {
        synchronized(lock) {
            view = Triple(width, height, mirrored)
            _state.value = when (val s = _state.value) {
                is LiveState.Running -> s.copy(boxes = layout(s.items, s.frameWidth, s.frameHeight))
                is LiveState.Frozen -> {
                    val boxes = layout(s.items, s.frameWidth, s.frameHeight)
                    s.copy(boxes = boxes, selected = boxes.firstOrNull { it.trackId == s.selected.trackId } ?: s.selected)
                }
                LiveState.Starting -> s
            }
        }
    }

    /** Loads the tracker ahead of the first frame (the engine takes a second or two). */
    fun prepare() {
        synchronized(lock) {
            if (ready != null || loading?.isActive == true) return
            loading = scope.launch(worker) {
                try {
                    ready = tracker()
                } catch (e: CancellationException) {
                    throw e
                } catch (e: Exception) {
                    errors.incrementAndGet()
                    show(0, 0, 0.0, emptyList(), Messages.forError(e))
                }
            }
        }
    }

    /**
     * A camera frame (on the camera's thread). True when it was taken, false when dropped (a frame
     * in flight, frozen, tracker not loaded yet). Either way the caller may release its buffer
     * when this returns: the pixels the tracker needs have been copied by then.
     */
    fun offer(frame: CameraFrame): Boolean {
        offered.incrementAndGet()
        val t = ready
        if (t == null) {
            prepare()
            return drop()
        }
        val gen = synchronized(lock) {
            if (_state.value is LiveState.Frozen) return drop()
            generation
        }
        if (!inFlight.compareAndSet(false, true)) return drop()
        val pixels = try {
            if (resetPending.get() || t.needsPixels(frame.timestampMs)) frame.pixels() else null
        } catch (e: Exception) {   // the camera's buffer could not be read
            inFlight.set(false)
            errors.incrementAndGet()
            notice(Messages.forCameraError(e))
            return drop()
        }
        scope.launch(worker) {
            val n = concurrent.incrementAndGet()
            maxInFlight.accumulateAndGet(n) { a, b -> maxOf(a, b) }
            try {
                process(t, frame, pixels, gen)
            } finally {
                concurrent.decrementAndGet()
                inFlight.set(false)
            }
        }
        return true
    }

    /** True while a frame is being processed. */
    val busy: Boolean get() = inFlight.get()

    /** True once the tracker is loaded (frames offered before are dropped). */
    val isReady: Boolean get() = ready != null

    /**
     * A tap at (x, y) view pixels. On a box: freezes the viewfinder on this frame and searches the
     * box's object; returns the box. Elsewhere (or not running): nothing happens, null.
     */
    fun tap(x: Float, y: Float, slop: Float = 24f): ScreenBox? {
        val (hit, gen) = synchronized(lock) {
            val s = _state.value as? LiveState.Running ?: return null
            val hit = hitTest(s.boxes, x, y, slop) ?: return null
            generation += 1
            job?.cancel()
            _state.value = LiveState.Frozen(s.frameWidth, s.frameHeight, s.timestampMs, s.items, s.boxes, hit, Sheet.Loading(hit.target))
            hit to generation
        }
        search(hit, gen)
        return hit
    }

    /** The retry button of the frozen sheet's message. */
    override fun retry() {
        val (hit, gen) = synchronized(lock) {
            val s = _state.value as? LiveState.Frozen ?: return
            if (s.sheet !is Sheet.Failed) return
            generation += 1
            _state.value = s.copy(sheet = Sheet.Loading(s.selected.target))
            s.selected to generation
        }
        search(hit, gen)
    }

    /**
     * Closes the sheet and goes live again. The tracker starts afresh (the objects moved while
     * frozen; old tracks would be predicted far off): new ids and captions.
     */
    fun resume() {
        synchronized(lock) {
            if (_state.value !is LiveState.Frozen) return
            generation += 1
            job?.cancel()
            job = null
            captions.clear()
            pixelBoxes = emptyMap()
            resetPending.set(true)
            _state.value = LiveState.Starting
        }
    }

    /** The sheet closed, its search cancelled, or "new photo": back to the live camera. */
    override fun dismissSheet() = resume()
    override fun cancel() = resume()
    override fun newPhoto() = resume()

    /** A product card tapped in the frozen sheet. */
    override fun openProduct(hit: SearchHit) {
        shownIn(hit)?.let { (q, pos) -> lookup.reportEvent(EventType.CLICK, hit, q, pos) }
    }

    /** The Buy button: reports the purchase, returns the URL to open. */
    override fun buy(hit: SearchHit): String {
        shownIn(hit)?.let { (q, pos) -> lookup.reportEvent(EventType.PURCHASE, hit, q, pos) }
        return hit.url
    }

    /** Waits for the search in flight (tests; leaving the screen). */
    suspend fun awaitSearch() {
        synchronized(lock) { job }?.join()
    }

    // ------------------------------------------------------------------ internals

    private fun drop(): Boolean {
        dropped.incrementAndGet()
        return false
    }

    private suspend fun process(t: Tracker, frame: CameraFrame, pixels: FramePixels?, gen: Long) {
        val items = try {
            if (resetPending.getAndSet(false)) t.reset()
            if (pixels != null) t.push(frame, pixels) else t.carry(frame.timestampMs)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            errors.incrementAndGet()
            notice(Messages.forCameraError(e))
            return
        }
        processed.incrementAndGet()
        if (pixels != null) withPixels.incrementAndGet()
        synchronized(lock) {
            if (gen != generation) return   // frozen or resumed meanwhile
            if (pixels != null) pixelBoxes = items.associate { it.trackId to it.bbox }
            show(frame.displayWidth, frame.displayHeight, frame.timestampMs, items, null)
        }
    }

    private fun show(w: Int, h: Int, ts: Double, items: List<TrackedItem>, notice: UiMessage?) = synchronized(lock) {
        if (_state.value is LiveState.Frozen) return
        _state.value = LiveState.Running(w, h, ts, items, layout(items, w, h), notice)
    }

    private fun notice(message: UiMessage) = synchronized(lock) {
        when (val s = _state.value) {
            is LiveState.Running -> _state.value = s.copy(notice = message)
            LiveState.Starting -> _state.value = LiveState.Running(0, 0, 0.0, emptyList(), emptyList(), message)
            is LiveState.Frozen -> Unit
        }
    }

    private fun layout(items: List<TrackedItem>, w: Int, h: Int): List<ScreenBox> {
        val (vw, vh, mirrored) = view ?: return emptyList()
        if (w <= 0 || h <= 0 || vw <= 0f || vh <= 0f) return emptyList()
        return layoutTracked(items, ViewfinderMapper(w, h, vw, vh, ContentScale.FILL, mirrored), captions)
    }

    private fun search(hit: ScreenBox, gen: Long) {
        val item = (hit.target as Target.Tracked).item
        // The box of the frame whose pixels the tracker kept (the last detection frame, at most a
        // few frames before the one shown); the shown box when the track was not on it.
        val region = synchronized(lock) { pixelBoxes[item.trackId] } ?: item.bbox
        val t = ready
        val j = scope.launch {
            val sheet = try {
                val embedding = t!!.embedRegionAsync(region)
                val found = lookup.searchEmbedding(embedding, item.category)
                if (found.results.isEmpty()) Sheet.Failed(hit.target, Messages.noProducts) else Sheet.Products(hit.target, found)
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                Sheet.Failed(hit.target, Messages.forError(e))
            }
            val shown = synchronized(lock) {
                val s = _state.value as? LiveState.Frozen
                if (gen != generation || s == null) false else { _state.value = s.copy(sheet = sheet); true }
            }
            if (shown && sheet is Sheet.Products) {
                sheet.rows.forEach { lookup.reportEvent(EventType.IMPRESSION, it.hit, sheet.response.queryId, it.position) }
            }
        }
        synchronized(lock) { if (gen == generation) job = j else j.cancel() }
    }

    /** The query id and 1-based position of [hit] in the frozen sheet, or null when it is not showing. */
    private fun shownIn(hit: SearchHit): Pair<String?, Int>? {
        val sheet = (_state.value as? LiveState.Frozen)?.sheet as? Sheet.Products ?: return null
        val row = sheet.rows.firstOrNull { it.hit.id == hit.id } ?: return null
        return sheet.response.queryId to row.position
    }
}

/** The tracker's id of a live box (null for photo boxes). */
val ScreenBox.trackId: ULong? get() = (target as? Target.Tracked)?.item?.trackId
