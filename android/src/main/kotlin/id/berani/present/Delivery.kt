// Sending the outbox, without Android: one sync at a time for the whole app, when to try
// again, and the progress line of the "Send now" notification.
//
// Both the background job and the "Send now" button go through one SyncRunner, so the two
// never upload the same report at once; a second caller joins the sync already running.
package id.berani.present

import id.berani.R
import id.berani.core.ReportState
import id.berani.core.ReporterInterface
import id.berani.core.SyncHandle
import id.berani.core.SyncListener
import id.berani.core.SyncSummary
import kotlinx.coroutines.runBlocking
import java.util.concurrent.CopyOnWriteArrayList

object DeliveryPolicy {
    /** JobScheduler stops a job after 10 minutes; the sync stops itself a minute before. */
    const val JOB_BUDGET_SECONDS: UInt = 540u

    /** "Send now" runs while the reporter watches; the same budget keeps it bounded. */
    const val SEND_NOW_BUDGET_SECONDS: UInt = 540u

    /** First retry after a failed job; JobScheduler doubles it each time (exponential backoff). */
    const val BACKOFF_INITIAL_MS: Long = 30_000L

    /**
     * Whether the job must run again: something is still queued or sending (offline, budget
     * used up, a receipt not ready yet), a reply to the team is still in the outbox
     * ([queuedMessages]), or the sync itself failed ([summary] null).
     */
    fun needsAnotherRun(summary: SyncSummary?, queuedMessages: UInt = 0u): Boolean =
        summary == null || summary.pending > 0u || queuedMessages > 0u
}

/** Runs one sync at a time for the whole app; callers that come while one runs join it. */
class SyncRunner(private val reporter: () -> ReporterInterface) {
    private class Running(val handle: SyncHandle, val listeners: CopyOnWriteArrayList<SyncListener>)

    private val lock = Any()
    private var current: Running? = null

    /** Fans progress out to everyone waiting on the same sync. */
    private class FanOut(private val listeners: List<SyncListener>) : SyncListener {
        override fun onPartProgress(reportId: String, part: UInt, sent: ULong, total: ULong) =
            listeners.forEach { runCatching { it.onPartProgress(reportId, part, sent, total) } }

        override fun onReportState(reportId: String, state: ReportState) =
            listeners.forEach { runCatching { it.onReportState(reportId, state) } }
    }

    val isRunning: Boolean get() = synchronized(lock) { current?.handle?.isFinished() == false }

    /**
     * Syncs the outbox for at most [budgetSeconds], or joins the sync already running, and
     * blocks until it stops. Throws what `SyncHandle.wait` throws.
     */
    fun run(budgetSeconds: UInt, listener: SyncListener): SyncSummary {
        val running = synchronized(lock) {
            current?.takeIf { !it.handle.isFinished() }?.also { it.listeners += listener }
                ?: run {
                    val listeners = CopyOnWriteArrayList(listOf(listener))
                    Running(reporter().sync(budgetSeconds, FanOut(listeners)), listeners).also { current = it }
                }
        }
        try {
            val summary = runBlocking { running.handle.wait() }
            // A volunteer install still to be counted goes out with the same connection;
            // a failure leaves it for the next sync and never fails this one.
            runCatching { runBlocking { reporter().reportVolunteerInstall() } }
            return summary
        } finally {
            synchronized(lock) {
                running.listeners -= listener
                if (running.listeners.isEmpty()) {
                    if (current === running) current = null
                    running.handle.close()
                }
            }
        }
    }

    /** Stops the running sync soon; what the server confirmed stays confirmed. */
    fun cancel() = synchronized(lock) { current?.handle?.cancel() }
}

/**
 * The progress of one "Send now": which report of how many is on its way. Its [text] is all a
 * notification ever says ("Berani: mengirim laporan (2/3)"): never a category or any content.
 */
class SendProgress(pendingIds: Collection<String>) : SyncListener {
    private val known = LinkedHashSet(pendingIds)
    private val finished = HashSet<String>()
    @Volatile private var fraction = 0.0

    /** Called after every change, on the sync's thread. */
    @Volatile var onChange: ((SendProgress) -> Unit)? = null

    val total: Int get() = synchronized(this) { maxOf(known.size, 1) }

    /** The report on its way now, 1-based. */
    val index: Int get() = synchronized(this) { minOf(finished.size + 1, total) }

    val percent: Int get() = synchronized(this) { (((finished.size + fraction) * 100) / total).toInt().coerceIn(0, 100) }

    val text: Text get() = text(R.string.notif_sending, index, total)

    override fun onPartProgress(reportId: String, part: UInt, sent: ULong, total: ULong) {
        synchronized(this) {
            known += reportId
            fraction = if (total == 0uL) 0.0 else (sent.toDouble() / total.toDouble()).coerceIn(0.0, 0.99)
        }
        onChange?.invoke(this)
    }

    override fun onReportState(reportId: String, state: ReportState) {
        synchronized(this) {
            known += reportId
            if (state == ReportState.DELIVERED || state == ReportState.FAILED) {
                finished += reportId
                fraction = 0.0
            }
        }
        onChange?.invoke(this)
    }
}
