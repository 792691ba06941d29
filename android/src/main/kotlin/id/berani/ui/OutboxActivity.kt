// My reports: the outbox in plain words, the draft still being written, "Send now", and
// "Kirim lewat relawan" on a report still waiting (its sealed bundle through the share sheet).
package id.berani.ui

import android.app.AlertDialog
import android.content.Context
import android.content.Intent
import android.os.Handler
import android.os.Looper
import android.widget.ProgressBar
import id.berani.R
import id.berani.core.ReportState
import id.berani.platform.BeraniFileProvider
import id.berani.platform.SendNow
import id.berani.present.OutboxText
import id.berani.present.Palette
import id.berani.present.Relay
import id.berani.present.RelaySend
import java.io.File
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.time.format.FormatStyle
import java.util.Locale

class OutboxActivity : BaseActivity() {
    private val ticker = Handler(Looper.getMainLooper())
    private val poll = object : Runnable {
        override fun run() {
            refresh()
            if (services.sync.isRunning) ticker.postDelayed(this, 1000)
        }
    }

    override fun screenTitle() = R.string.home_my_reports

    override fun onPause() {
        ticker.removeCallbacks(poll)
        super.onPause()
    }

    override fun render() {
        if (intent.getBooleanExtra(EXTRA_JUST_SENT, false)) {
            content.addView(ui.body(s(R.string.outbox_just_queued), Palette.SUCCESS))
        }
        if (services.settings.wizardDraftId != null) {
            content.addView(ui.button(s(R.string.outbox_draft), color = Palette.CARD, textColor = Palette.TEXT) { go(WizardActivity::class.java) })
        }
        val reports = runCatching { services.reporter.outbox() }.getOrDefault(emptyList())
        if (reports.isEmpty()) content.addView(ui.body(s(R.string.outbox_empty), Palette.TEXT_MUTED))
        val date = DateTimeFormatter.ofLocalizedDateTime(FormatStyle.MEDIUM).withLocale(Locale.forLanguageTag(language.tag)).withZone(ZoneId.systemDefault())
        for (r in reports) {
            val row = OutboxText.row(r)
            val box = ui.column().apply {
                setPadding(ui.dp(12), ui.dp(8), ui.dp(12), ui.dp(12))
                setBackgroundColor(Palette.CARD)
                isFocusable = true
            }
            val statusColor = when (row.state) {
                ReportState.DELIVERED -> Palette.SUCCESS
                ReportState.FAILED -> Palette.ERROR
                else -> Palette.TEXT
            }
            box.addView(ui.heading(s(row.title), 20f))
            box.addView(ui.body(s(R.string.outbox_queued_at, date.format(row.queuedAt)), Palette.TEXT_MUTED, 16f))
            box.addView(ui.body(s(row.status), statusColor, 20f).apply { tag = "status:${row.id}" })
            if (row.state == ReportState.SENDING) {
                box.addView(ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply {
                    max = 100
                    progress = row.percent
                    contentDescription = s(row.status)
                })
            }
            row.advice?.let { box.addView(ui.body(s(it), Palette.TEXT, 16f)) }
            row.receipt?.let {
                box.addView(ui.body(s(R.string.outbox_receipt_code, it.code), Palette.TEXT, 18f))
                it.receivedAt?.let { at -> box.addView(ui.body(s(R.string.outbox_received_at, at), Palette.TEXT_MUTED, 16f)) }
            }
            if (row.canRelay) {
                box.addView(ui.button(s(R.string.relay_send), s(R.string.relay_send_desc), color = Palette.BACKGROUND, textColor = Palette.TEXT, sizeSp = 17f) {
                    sendViaVolunteer(row.id)
                }.apply { tag = "relay:${row.id}" })
            }
            box.contentDescription = listOf(s(row.title), s(row.status)).joinToString(". ")
            content.addView(box)
            content.addView(ui.button(s(R.string.outbox_open_report), color = Palette.CARD, textColor = Palette.TEXT) {
                startActivity(ReportActivity.intent(this, row.id))
            }.apply { tag = "open:${row.id}" })
            content.addView(ui.body(""))
        }
        val pending = OutboxText.pending(reports)
        if (services.sync.isRunning) {
            footer.addView(ui.body(s(R.string.outbox_sending_now), Palette.TEXT_MUTED, 16f))
            ticker.removeCallbacks(poll)
            ticker.postDelayed(poll, 1000)
        } else if (pending > 0) {
            footer.addView(ui.button(s(R.string.outbox_send_now)) { sendNow() }.apply { id = R.id.outbox_send_now })
        }
    }

    private fun sendNow() {
        // Android 13+: ask for notifications once, in plain words; sending does not wait for it.
        if (android.os.Build.VERSION.SDK_INT >= 33 && !granted(WizardActivity.NOTIFICATIONS)) {
            withPermission(WizardActivity.NOTIFICATIONS, R.string.permission_notifications) {}
        }
        SendNow.start(app, notify = granted(WizardActivity.NOTIFICATIONS))
        ticker.postDelayed(poll, 300)
        refresh()
    }

    /**
     * Writes the report's sealed bundle, then says plainly (Indonesian first, English second)
     * that the carrier cannot read it and that it still goes from here too, and shares it.
     */
    private fun sendViaVolunteer(reportId: String) {
        val sender = RelaySend({ services.reporter }, BeraniFileProvider.relayDir(this))
        work({ sender.export(reportId) }) { r ->
            when (val out = r.getOrNull()) {
                is RelaySend.Outcome.Ready -> AlertDialog.Builder(this)
                    .setTitle(s(R.string.relay_send_heading))
                    .setMessage(Relay.explanation().both() + "\n\n" + s(R.string.relay_also_here))
                    .setPositiveButton(s(R.string.relay_share)) { _, _ -> share(out.file) }
                    .setNegativeButton(s(R.string.relay_cancel)) { _, _ -> sender.clear() }
                    .show()
                is RelaySend.Outcome.Refused -> toastProblem(out.problem.render(strings, language))
                null -> toastProblem(s(R.string.relay_export_failed))
            }
        }
    }

    private fun share(file: File) {
        try {
            startActivity(Intent.createChooser(shareIntent(this, file), s(R.string.relay_send)))
        } catch (_: android.content.ActivityNotFoundException) {
            toastProblem(s(R.string.error_no_app))
        }
    }

    companion object {
        const val EXTRA_JUST_SENT = "just_sent"

        /**
         * The share sheet's intent for a bundle in [BeraniFileProvider.relayDir]: the relay media
         * type, the app's own content URI and a one-off read grant (Bluetooth, Nearby Share,
         * WhatsApp, Files).
         */
        fun shareIntent(ctx: Context, file: File): Intent {
            val uri = BeraniFileProvider.relayUri(ctx, file.name)
            return Intent(Intent.ACTION_SEND)
                .setType(Relay.MIME_TYPE)
                .putExtra(Intent.EXTRA_STREAM, uri)
                .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
                .apply { clipData = android.content.ClipData.newRawUri(file.name, uri) }
        }
    }
}
