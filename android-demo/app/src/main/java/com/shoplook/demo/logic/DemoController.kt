// Shared demo logic: the screen's state machine over the real ShopLook engine and catalogue
// client (plain Kotlin + coroutines, no android.*). The Android ViewModel only forwards UI events
// to it and collects [state]; the host tests drive it the same way.
package com.shoplook.demo.logic

import com.shoplook.AnalyzeOptions
import com.shoplook.CatalogueClient
import com.shoplook.Embedding
import com.shoplook.EventType
import com.shoplook.HttpUrlConnectionTransport
import com.shoplook.Rect
import com.shoplook.SearchHit
import com.shoplook.SearchResponse
import com.shoplook.ShopLook
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch

/**
 * Drives one screen. Every slow call (model loading, analysis, region embedding, search, events)
 * is a suspending call of the bindings that runs on a Rust worker thread, so [scope] may be the
 * UI's (`viewModelScope`, Dispatchers.Main): nothing here blocks the calling thread.
 *
 * @param engine the loaded engine (loading takes a second or two: start it early, e.g. `scope.async`).
 * @param clientFor makes the catalogue client for the current settings (tests use the real one).
 */
class DemoController(
    private val scope: CoroutineScope,
    private val engine: suspend () -> ShopLook,
    settings: DemoSettings = DemoSettings(),
    private val clientFor: (DemoSettings) -> CatalogueClient = { CatalogueClient(it.catalogueUrl, it.apiKey, HttpUrlConnectionTransport()) },
    private val analyzeOptions: AnalyzeOptions = AnalyzeOptions(maxItems = 20u),
) : ProductLookup, SheetDriver {
    private val _state = MutableStateFlow<Screen>(Screen.Capture)
    val state: StateFlow<Screen> = _state.asStateFlow()

    private val _events = MutableStateFlow<List<SentEvent>>(emptyList())
    /** Every event reported so far, with the catalogue's verdict (shown in the debug overlay). */
    val events: StateFlow<List<SentEvent>> = _events.asStateFlow()

    var settings: DemoSettings = settings.normalized()
        private set
    private var client: CatalogueClient? = null
    private val lock = Any()
    private var generation = 0L   // bumped by every user action; stale results are dropped
    private var job: Job? = null
    private val eventJobs = mutableListOf<Job>()

    // ------------------------------------------------------------------ photo -> boxes

    /** A photo from the shutter or the gallery (encoded JPEG/PNG/WebP bytes, EXIF kept). */
    fun analyze(photo: ByteArray) {
        val gen = begin(Screen.Analyzing(photo))
        job = scope.launch {
            val next = try {
                val analysis = engine().analyzeAsync(photo, analyzeOptions)
                val targets = analysis.items.map { Target.Detected(it) }
                Screen.Photo(photo, analysis, targets, notice = if (targets.isEmpty()) Messages.nothingFound else null)
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                Screen.Failed(Messages.forError(e), photo)
            }
            commit(gen) { next }
        }
    }

    /** Back to the camera (the "new photo" button; also cancels an analysis in flight). */
    override fun newPhoto() {
        begin(Screen.Capture)
    }

    /** Cancel what is running: an analysis goes back to the camera, a search closes its sheet. */
    override fun cancel() {
        when (val s = _state.value) {
            is Screen.Analyzing -> begin(Screen.Capture)
            is Screen.Photo -> if (s.sheet is Sheet.Loading) begin(s.copy(sheet = null))
            else -> Unit
        }
    }

    // ------------------------------------------------------------------ boxes -> products

    /** A tap at (x, y) view pixels on the photo laid out as [boxes]: opens the sheet of the box hit. */
    fun tap(boxes: List<ScreenBox>, x: Float, y: Float, slop: Float = 24f): ScreenBox? {
        val s = _state.value as? Screen.Photo ?: return null
        if (s.drawing) return null
        val hit = hitTest(boxes, x, y, slop) ?: return null
        select(hit.target)
        return hit
    }

    /** Toggles the draw-a-box mode (for things the detector missed). */
    fun setDrawing(on: Boolean) {
        val s = _state.value as? Screen.Photo ?: return
        begin(s.copy(drawing = on, sheet = if (on) null else s.sheet))
    }

    /** A box drawn by hand, in photo pixels ([drawnRegion] converts the drag): added and searched. */
    fun addDrawnBox(region: Rect) {
        val s = _state.value as? Screen.Photo ?: return
        val target = Target.Drawn(region)
        begin(s.copy(targets = s.targets + target, drawing = false, notice = null))
        select(target)
    }

    /** Searches the catalogue for [target] and shows the sheet (loading, then products or a message). */
    fun select(target: Target) {
        val s = _state.value as? Screen.Photo ?: return
        val gen = begin(s.copy(sheet = Sheet.Loading(target), drawing = false))
        job = scope.launch {
            val sheet = try {
                val found = search(s, target)
                if (found.results.isEmpty()) Sheet.Failed(target, Messages.noProducts)
                else Sheet.Products(target, found)
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                Sheet.Failed(target, Messages.forError(e))
            }
            val shown = commit(gen) { cur -> (cur as? Screen.Photo)?.copy(sheet = sheet) ?: cur }
            if (shown && sheet is Sheet.Products) {
                sheet.rows.forEach { report(EventType.IMPRESSION, it.hit, sheet.response.queryId, it.position) }
            }
        }
    }

    override fun dismissSheet() {
        val s = _state.value as? Screen.Photo ?: return
        begin(s.copy(sheet = null))
    }

    /** The user tapped a product card (a click on a sponsored one is what its campaign pays for). */
    override fun openProduct(hit: SearchHit) {
        val (queryId, position) = shownIn(hit)
        report(EventType.CLICK, hit, queryId, position)
    }

    /** The "Buy" button: reports the purchase and returns the URL the UI opens (browser / shop app). */
    override fun buy(hit: SearchHit): String {
        val (queryId, position) = shownIn(hit)
        report(EventType.PURCHASE, hit, queryId, position)
        return hit.url
    }

    /**
     * The app came back to the foreground (Activity.onRestart): a new app session, so that the
     * catalogue's per-session caps (what one session teaches the ranking, how often it sees an ad)
     * start afresh. The session id is random, never a device or user id.
     */
    fun onForeground() {
        synchronized(lock) { client }?.rotateSession()
    }

    /** The current session's id (null before the first search: no client yet). */
    val sessionId: String? get() = synchronized(lock) { client }?.sessionId()

    /** The retry button of whatever message is showing. */
    override fun retry() {
        when (val s = _state.value) {
            is Screen.Failed ->
                if (s.photo != null && !s.message.needsNewPhoto) analyze(s.photo) else begin(Screen.Capture)
            is Screen.Photo -> when (val sheet = s.sheet) {
                is Sheet.Failed -> select(sheet.target)
                null -> if (s.notice == Messages.nothingFound) setDrawing(true)
                else -> Unit
            }
            else -> Unit
        }
    }

    /** New catalogue URL / key from Settings; the next search uses them. */
    fun updateSettings(new: DemoSettings) {
        synchronized(lock) {
            settings = new.normalized()
            client = null
        }
    }

    /**
     * Waits until every event reported so far has been answered (tests; leaving the screen). The
     * work in flight is awaited first: a sheet is shown before its impressions are reported.
     */
    suspend fun awaitEvents() {
        synchronized(lock) { job }?.join()
        val jobs = synchronized(lock) { eventJobs.toList() }
        jobs.joinAll()
    }

    // ------------------------------------------------------------------ for the live viewfinder

    /** A search with this screen's catalogue, settings and session (the live viewfinder's taps). */
    override suspend fun searchEmbedding(embedding: Embedding, category: String?): SearchResponse =
        client().searchEmbeddingAsync(embedding, category, settings.resultsPerSearch.toUInt(), settings.filters())

    /** Reports an event of a sheet shown elsewhere (the live viewfinder's); it joins [events]. */
    override fun reportEvent(type: EventType, hit: SearchHit, queryId: String?, position: Int?) =
        report(type, hit, queryId, position)

    // ------------------------------------------------------------------ internals

    private suspend fun search(s: Screen.Photo, target: Target): SearchResponse {
        val k = settings.resultsPerSearch.toUInt()
        val f = settings.filters()
        val c = client()
        return when (target) {
            is Target.Detected ->
                if (target.item.embedding != null) c.searchAsync(target.item, s.analysis.embedder, k, f)
                else c.searchEmbeddingAsync(engine().embedRegionAsync(s.photo, target.region), target.item.category, k, f)
            is Target.Drawn -> c.searchEmbeddingAsync(engine().embedRegionAsync(s.photo, target.region), null, k, f)
            is Target.Tracked -> c.searchEmbeddingAsync(engine().embedRegionAsync(s.photo, target.region), target.item.category, k, f)
        }
    }

    private fun client(): CatalogueClient = synchronized(lock) {
        client ?: clientFor(settings).also { client = it }
    }

    /** The search [hit] is shown from and its 1-based position there (nulls if it is not showing). */
    private fun shownIn(hit: SearchHit): Pair<String?, Int?> {
        val p = (_state.value as? Screen.Photo)?.sheet as? Sheet.Products ?: return null to null
        val row = p.rows.firstOrNull { it.hit.id == hit.id } ?: return null to null
        return p.response.queryId to row.position
    }

    private fun report(type: EventType, hit: SearchHit, queryId: String?, position: Int?) {
        val j = scope.launch {
            val error = try {
                client().reportEventAsync(type, hit.id, queryId, position?.toUInt())
                null
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                Messages.forError(e)
            }
            val sent = SentEvent(type, hit.id, queryId, error, position)
            synchronized(lock) { _events.value = _events.value + sent }
        }
        synchronized(lock) { eventJobs.add(j) }
    }

    /** A user action: cancels the work in flight and shows [next]. Returns the new generation. */
    private fun begin(next: Screen): Long = synchronized(lock) {
        job?.cancel()
        job = null
        generation += 1
        _state.value = next
        generation
    }

    /** Shows the result of the work started at [gen], unless a later action superseded it. */
    private fun commit(gen: Long, next: (Screen) -> Screen): Boolean = synchronized(lock) {
        if (gen != generation) return false
        _state.value = next(_state.value)
        true
    }
}
