// One report's follow-up: the status timeline (written, locked and saved, sent with the
// office's receipt time, then the team's status in plain words) and the message thread with
// the team, a reply box whose messages go through the outbox, and "remove the copy" after
// delivery. And "Cek laporan dengan kode": a receipt code typed by hand, on any phone.
//
// The presenters call the core only; the slow parts (the Argon2id derivation of a typed code,
// the network) are run by the screen off the UI thread while it shows a "please wait" line.
package id.berani.present

import id.berani.R
import id.berani.core.BeraniException
import id.berani.core.CaseStatus
import id.berani.core.FollowupMessage
import id.berani.core.FollowupThread
import id.berani.core.MessageSender
import id.berani.core.OutboxReport
import id.berani.core.ReportState
import id.berani.core.ReporterInterface
import kotlinx.coroutines.runBlocking
import java.time.Instant

/**
 * One line of the status timeline. When [at] is known the screen formats it and passes it as
 * the text's last argument (`Ditulis: %1$s`, `Status: %1$s (dicek %2$s)`).
 */
data class TimelineStep(val text: Text, val at: Instant?, val done: Boolean)

/** One message of the thread, ready to draw. */
data class MessageRow(val id: String, val fromTeam: Boolean, val at: Instant, val text: String?, val sent: Boolean)

/** What the report screen shows. */
data class ReportView(
    val reportId: String,
    val timeline: List<TimelineStep>,
    /** The receipt code kept on this phone (to write down), or null. */
    val code: String?,
    val status: CaseStatus?,
    val messages: List<MessageRow>,
    /** The team's status could not be fetched: why, in the reporter's words. */
    val problem: Problem?,
    /** The report is delivered and its copy is still on the phone: "remove the copy" is offered. */
    val canForget: Boolean,
    /** Its copy was removed after delivery. */
    val forgotten: Boolean,
    /** A reply can be written (this phone holds the code). */
    val canReply: Boolean,
)

object FollowupText {
    fun status(s: CaseStatus): Text = text(
        when (s) {
            CaseStatus.RECEIVED -> R.string.status_received
            CaseStatus.IN_PROGRESS -> R.string.status_in_progress
            CaseStatus.CLOSED -> R.string.status_closed
        },
    )

    fun statusExplain(s: CaseStatus): Text = text(
        when (s) {
            CaseStatus.RECEIVED -> R.string.status_received_explain
            CaseStatus.IN_PROGRESS -> R.string.status_in_progress_explain
            CaseStatus.CLOSED -> R.string.status_closed_explain
        },
    )

    /** A follow-up failure in plain words: the core's own message for a refused code. */
    fun problem(e: Throwable): Problem = when (e) {
        is BeraniException.InvalidInput -> Problem.FromCore(e.messageId, e.messageEn)
        is BeraniException.NotFound -> Problem.App(text(if (e.what == "receipt") R.string.followup_not_found else R.string.followup_no_code))
        is BeraniException.Network -> Problem.App(text(if (e.detail.contains("too many")) R.string.followup_busy else R.string.followup_offline))
        is BeraniException.Profile -> Problem.App(text(R.string.settings_no_profile))
        else -> Problem.App(text(R.string.followup_offline))
    }
}

/** The report screen's presenter, for the report [reportId] on this phone. */
class ReportDetail(private val reporter: () -> ReporterInterface, val reportId: String, private val now: () -> Instant = { Instant.now() }) {
    /** The last status and thread fetched from the office, and when. */
    private var thread: FollowupThread? = null
    private var checkedAt: Instant? = null
    private var problem: Problem? = null

    /** Set while the screen waits for the office; the screen shows "Mohon tunggu…". */
    @Volatile
    var loading: Boolean = false

    /** The thread as last fetched (from "Cek laporan dengan kode", before this screen opened). */
    fun seed(t: FollowupThread) {
        thread = t
        checkedAt = now()
        problem = null
    }

    /** Asks the office for the status and messages (network: call off the UI thread). */
    fun load() {
        val r = reporter()
        try {
            seed(runBlocking { r.followup(reportId) })
        } catch (e: BeraniException) {
            problem = FollowupText.problem(e)
        }
    }

    /** Everything to draw, from the core's outbox and the last thread fetched. */
    fun view(): ReportView {
        val r = reporter()
        val report = runCatching { r.outbox().firstOrNull { it.id == reportId } }.getOrNull()
        val code = runCatching { r.receiptCode(reportId)?.code }.getOrNull()
        val t = thread
        // The core's thread holds the team's replies and this phone's own messages, sent or
        // still queued in the outbox.
        val messages = t?.messages.orEmpty().map { MessageRow(it.id, it.from == MessageSender.TEAM, it.at, it.text, it.sent) }
        val forgotten = report != null && report.state == ReportState.DELIVERED && report.parts.isEmpty()
        return ReportView(
            reportId = reportId,
            timeline = timeline(report, t, checkedAt),
            code = code,
            status = t?.status,
            messages = messages,
            problem = problem,
            canForget = report != null && report.state == ReportState.DELIVERED && report.parts.isNotEmpty(),
            forgotten = forgotten,
            canReply = code != null,
        )
    }

    /**
     * Queues a reply to the team in the outbox (sealed at once; the next sync sends it) and
     * shows it in the thread as "waiting to be sent". Returns the problem when refused.
     */
    fun reply(words: String): Problem? {
        val r = reporter()
        return try {
            val messageId = r.reply(reportId, words)
            val t = thread
            if (t != null) {
                val mine = FollowupMessage(messageId, MessageSender.REPORTER, now(), words.trim(), false)
                thread = t.copy(messages = t.messages + mine)
            }
            null
        } catch (e: BeraniException) {
            FollowupText.problem(e)
        }
    }

    /** Removes the delivered report's copy from the phone (receipt and code stay). */
    fun forget(): Problem? = try {
        reporter().forgetDelivered(reportId)
        null
    } catch (_: BeraniException.WrongState) {
        Problem.App(text(R.string.forget_refused))
    } catch (e: BeraniException) {
        FollowupText.problem(e)
    }

    companion object {
        /** The status timeline: what happened to the report on the phone, then at the office. */
        fun timeline(report: OutboxReport?, thread: FollowupThread?, checkedAt: Instant?): List<TimelineStep> {
            val steps = mutableListOf<TimelineStep>()
            if (report != null) {
                steps += TimelineStep(text(R.string.timeline_drafted), report.draftedAt, true)
                steps += TimelineStep(text(R.string.timeline_queued), report.queuedAt, true)
                steps += when (report.state) {
                    ReportState.QUEUED -> TimelineStep(text(R.string.timeline_waiting), null, false)
                    ReportState.SENDING -> TimelineStep(text(R.string.timeline_sending, report.percent.toInt()), null, false)
                    ReportState.FAILED -> TimelineStep(text(R.string.timeline_failed), report.updatedAt, false)
                    ReportState.DELIVERED -> {
                        val at = report.receipt?.let { OutboxText.receivedAt(it) }?.let { runCatching { Instant.parse(it) }.getOrNull() }
                        if (at != null) TimelineStep(text(R.string.timeline_delivered), at, true)
                        else TimelineStep(text(R.string.timeline_delivered_no_time), report.updatedAt, true)
                    }
                }
            }
            if (thread != null && checkedAt != null) {
                // "Status: Sedang ditangani (dicek <time>)": the status's words are a nested text.
                steps += TimelineStep(Text(R.string.timeline_status, listOf(FollowupText.status(thread.status))), checkedAt, true)
            } else if (report == null || report.state == ReportState.DELIVERED) {
                steps += TimelineStep(text(R.string.timeline_status_unknown), null, false)
            }
            return steps
        }
    }
}

/** "Cek laporan dengan kode": a receipt code typed by hand. */
class CheckCode(private val reporter: () -> ReporterInterface) {
    /** Set while the code is checked (the slow derivation, then the network). */
    @Volatile
    var checking: Boolean = false
        private set

    var problem: Problem? = null
        private set

    /**
     * Checks [typed] with the office (slow: call off the UI thread). Case, spaces and dashes
     * do not matter; a mistyped character is refused by the core with its message in both
     * languages. On success the code is kept on this phone (sealed) and the thread returned.
     */
    fun check(typed: String): FollowupThread? {
        checking = true
        problem = null
        return try {
            runBlocking { reporter().followupWithReceipt(typed) }
        } catch (e: BeraniException) {
            problem = FollowupText.problem(e)
            null
        } finally {
            checking = false
        }
    }

    /** The screen calls this just before starting [check] off the UI thread, to show "please wait". */
    fun begin() {
        checking = true
        problem = null
    }
}

/** Renders a [Text] whose arguments may themselves be [Text]s (the status inside a line). */
fun Strings.deep(t: Text): String = get(t.id, *t.args.map { if (it is Text) deep(it) else it }.toTypedArray())
