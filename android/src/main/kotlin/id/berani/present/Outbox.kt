// My reports: each report of the outbox in plain words — waiting for signal, sending 35 %,
// sent with its receipt, or failed with what to do.
package id.berani.present

import id.berani.R
import id.berani.core.FailureReason
import id.berani.core.OutboxReport
import id.berani.core.ReportState
import java.time.Instant

/** What the reporter keeps as proof: a short code for the report and when the office received it. */
data class ReceiptInfo(val code: String, val receivedAt: String?)

/** One report on the My reports screen. */
data class OutboxRow(
    val id: String,
    val state: ReportState,
    /** What kind of report it was (the category), or "Laporan". */
    val title: Text,
    /** "menunggu sinyal", "mengirim 35%", "terkirim ✓", or what failed. */
    val status: Text,
    /** What to do now, when there is something to do. */
    val advice: Text?,
    /** 0–100. */
    val percent: Int,
    val queuedAt: Instant,
    val receipt: ReceiptInfo?,
    /** Carried for someone else ("Titipan relawan"). */
    val carried: Boolean = false,
    /** "Kirim lewat relawan" is offered: the report still waits to be sent. */
    val canRelay: Boolean = false,
)

object OutboxText {
    fun row(r: OutboxReport): OutboxRow {
        // A report carried for someone else: only its state is known here, never its category.
        val title = if (r.carried) text(R.string.relay_carried_title)
            else r.category?.let { text(Labels.labelOf(Labels.categories, it)) } ?: text(R.string.report_generic)
        val percent = r.percent.toInt()
        val (status, advice) = when (r.state) {
            ReportState.QUEUED -> text(R.string.state_waiting) to text(R.string.state_waiting_advice)
            // A report all of whose bytes are on the server waits for its receipt: still "sending".
            ReportState.SENDING -> text(R.string.state_sending, percent) to null
            ReportState.DELIVERED -> text(R.string.state_sent) to null
            ReportState.FAILED -> when (r.failure) {
                FailureReason.PROFILE_EXPIRED -> text(R.string.state_failed_expired) to text(R.string.state_failed_expired_advice)
                FailureReason.REJECTED_BY_SERVER -> text(R.string.state_failed_rejected) to text(R.string.state_failed_rejected_advice)
                FailureReason.PART_DAMAGED -> text(R.string.state_failed_damaged) to text(R.string.state_failed_damaged_advice)
                null -> text(R.string.state_failed) to text(R.string.state_failed_rejected_advice)
            }
        }
        // A carried report's receipt is someone else's proof: not shown to the carrier.
        val receipt = if (r.state == ReportState.DELIVERED && r.receipt != null && !r.carried) ReceiptInfo(receiptCode(r.id), receivedAt(r.receipt)) else null
        return OutboxRow(r.id, r.state, title, status, advice, percent, r.queuedAt, receipt, r.carried, Relay.canSend(r))
    }

    /** How many reports still wait to be sent (queued or sending). */
    fun pending(reports: List<OutboxReport>): Int = reports.count { it.state == ReportState.QUEUED || it.state == ReportState.SENDING }

    /** The report id in groups of four, upper case: what the reporter reads out to the office. */
    fun receiptCode(id: String): String =
        id.filter { it.isLetterOrDigit() }.uppercase().take(16).chunked(4).joinToString("-")

    private val RECEIVED_AT = Regex("\"received_at\"\\s*:\\s*\"([^\"]+)\"")
    private val PAYLOAD = Regex("\"payload\"\\s*:\\s*\"([A-Za-z0-9_-]+)\"")

    /**
     * When the office received the report, from the signed receipt (a flattened JWS whose
     * payload holds `received_at`); null when it cannot be read. The signature was already
     * checked by the core before it marked the report delivered.
     */
    fun receivedAt(receipt: String): String? {
        val payload = PAYLOAD.find(receipt)?.groupValues?.get(1)?.let {
            base64UrlDecode(it)?.let { b -> String(b, Charsets.UTF_8) }
        } ?: receipt
        return RECEIVED_AT.find(payload)?.groupValues?.get(1)
    }

    /** Base64url without padding (RFC 4648 §5); java.util.Base64 needs API 26, the app runs from 24. */
    fun base64UrlDecode(s: String): ByteArray? {
        val alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        val out = java.io.ByteArrayOutputStream()
        var buffer = 0
        var bits = 0
        for (c in s.trimEnd('=')) {
            val v = alphabet.indexOf(c)
            if (v < 0) return null
            buffer = (buffer shl 6) or v
            bits += 6
            if (bits >= 8) {
                bits -= 8
                out.write((buffer shr bits) and 0xFF)
            }
        }
        return out.toByteArray()
    }
}
