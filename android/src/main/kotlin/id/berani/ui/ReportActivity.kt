// One report: its status timeline (written, locked and saved, sent with the office's receipt
// time, then the team's status in plain words), the report code, the messages with the team,
// a reply box (replies go through the outbox and send themselves when there is signal), and
// "remove this report's copy" once it was delivered.
package id.berani.ui

import android.app.AlertDialog
import android.content.Context
import android.content.Intent
import android.os.Bundle
import android.widget.EditText
import id.berani.R
import id.berani.platform.DeliveryScheduler
import id.berani.platform.SendNow
import id.berani.present.FollowupText
import id.berani.present.Palette
import id.berani.present.ReportDetail
import id.berani.present.deep
import java.time.Instant
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle
import java.util.Locale

class ReportActivity : BaseActivity() {
    lateinit var detail: ReportDetail
        private set
    private var started = false
    private var note: String? = null
    private var noteIsProblem = false
    /** The reply being written, kept across redraws (memory only). */
    private var replyDraft = ""
    private var replyInput: EditText? = null

    override fun screenTitle() = R.string.report_title

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        detail = ReportDetail({ services.reporter }, intent.getStringExtra(EXTRA_REPORT_ID) ?: "")
    }

    private fun date(at: Instant): String =
        DateTimeFormatter.ofLocalizedDateTime(FormatStyle.MEDIUM).withLocale(Locale.forLanguageTag(language.tag))
            .withZone(ZoneId.systemDefault()).format(at)

    /** Asks the office again, off the UI thread, with "please wait" on screen meanwhile. */
    private fun load() {
        replyInput?.let { replyDraft = it.text.toString() }
        detail.loading = true
        refresh()
        work({ detail.load() }) {
            detail.loading = false
            refresh()
        }
    }

    override fun render() {
        if (!started) {
            started = true
            load()
            return
        }
        val v = detail.view()
        if (detail.loading) content.addView(ui.body(s(R.string.followup_wait), Palette.TEXT_MUTED).apply { tag = "wait" })
        content.addView(ui.body(v.code?.let { s(R.string.report_code, it) } ?: s(R.string.report_code_missing), Palette.TEXT, 18f))

        content.addView(ui.heading(s(R.string.timeline_heading), 20f))
        for (step in v.timeline) {
            val t = step.at?.let { step.text.copy(args = step.text.args + date(it)) } ?: step.text
            content.addView(ui.body((if (step.done) "✓  " else "○  ") + strings.deep(t), if (step.done) Palette.TEXT else Palette.TEXT_MUTED))
        }
        v.status?.let { content.addView(ui.body(s(FollowupText.statusExplain(it)), Palette.TEXT_MUTED, 16f)) }
        v.problem?.let { content.addView(ui.body(it.render(strings, language), Palette.ERROR, 16f)) }
        if (v.forgotten) content.addView(ui.body(s(R.string.forget_removed_note), Palette.TEXT_MUTED, 16f))

        content.addView(ui.heading(s(R.string.thread_heading), 20f))
        if (v.messages.isEmpty()) content.addView(ui.body(s(R.string.thread_empty), Palette.TEXT_MUTED, 16f))
        for (m in v.messages) {
            val box = ui.column().apply {
                setPadding(ui.dp(12), ui.dp(8), ui.dp(12), ui.dp(8))
                setBackgroundColor(if (m.fromTeam) Palette.CARD else Palette.BACKGROUND)
                isFocusable = true
            }
            val who = s(if (m.fromTeam) R.string.thread_from_team else R.string.thread_from_me, date(m.at)) +
                (if (m.sent) "" else " · " + s(R.string.thread_not_sent))
            box.addView(ui.body(who, Palette.TEXT_MUTED, 16f))
            box.addView(ui.body(m.text ?: s(R.string.thread_other_phone), Palette.TEXT))
            box.contentDescription = who + ". " + (m.text ?: s(R.string.thread_other_phone))
            content.addView(box)
        }
        note?.let { content.addView(ui.body(it, if (noteIsProblem) Palette.ERROR else Palette.SUCCESS, 16f)) }
        if (v.canReply) {
            val input = ui.input(s(R.string.reply_hint), s(R.string.reply_hint), multiline = true).apply {
                id = R.id.report_reply_input
                setText(replyDraft)
            }
            replyInput = input
            content.addView(input)
            content.addView(ui.button(s(R.string.reply_send)) { reply(input.text.toString()) }.apply { id = R.id.report_reply_send })
        } else {
            replyInput = null
        }
        content.addView(ui.button(s(R.string.followup_refresh), color = Palette.CARD, textColor = Palette.TEXT) { load() }
            .apply { id = R.id.report_refresh })
        if (v.canForget) {
            content.addView(ui.button(s(R.string.forget_button), color = Palette.CARD, textColor = Palette.TEXT) { askForget() }
                .apply { id = R.id.report_forget })
        }
    }

    private fun reply(words: String) {
        val problem = detail.reply(words)
        noteIsProblem = problem != null
        note = problem?.render(strings, language) ?: s(R.string.reply_queued)
        if (problem == null) {
            replyDraft = ""
            replyInput?.setText("")
            // Through the outbox: the job sends it when there is a network, "send now" at once.
            DeliveryScheduler.schedule(this)
            SendNow.start(app, notify = false)
        } else {
            replyDraft = words
        }
        refresh()
    }

    private fun askForget() {
        AlertDialog.Builder(this)
            .setMessage(s(R.string.forget_question))
            .setPositiveButton(s(R.string.forget_yes)) { _, _ ->
                work({ detail.forget() }) { r ->
                    val problem = r.getOrNull()
                    noteIsProblem = problem != null || r.isFailure
                    note = problem?.render(strings, language) ?: s(if (r.isFailure) R.string.forget_refused else R.string.forget_done)
                    refresh()
                }
            }
            .setNegativeButton(s(R.string.forget_cancel), null)
            .show()
    }

    companion object {
        const val EXTRA_REPORT_ID = "report_id"

        fun intent(ctx: Context, reportId: String): Intent =
            Intent(ctx, ReportActivity::class.java).putExtra(EXTRA_REPORT_ID, reportId)
    }
}
