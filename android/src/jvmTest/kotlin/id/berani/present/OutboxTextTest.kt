// My reports in plain words, for every state and failure, in both languages.
package id.berani.present

import id.berani.ResStrings
import id.berani.core.Category
import id.berani.core.FailureReason
import id.berani.core.OutboxReport
import id.berani.core.PartKind
import id.berani.core.PartStatus
import id.berani.core.ReportState
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test
import java.time.Instant

class OutboxTextTest {
    private val id = ResStrings(Language.ID)
    private val en = ResStrings(Language.EN)

    private fun report(state: ReportState, percent: Int, failure: FailureReason? = null, receipt: String? = null, carried: Boolean = false) = OutboxReport(
        "01jd4x7k2m9qz8w3e5r6t7y8u9", state, Instant.EPOCH, Instant.EPOCH, if (carried) null else Category.SEXUAL, Instant.EPOCH,
        listOf(PartStatus(0u, PartKind.REPORT, 1000u, (percent * 10).toULong(), percent == 100)), percent.toUByte(), failure, receipt, carried,
    )

    @Test
    fun `a report carried for someone shows as Titipan relawan with its state only`() {
        val carried = OutboxText.row(report(ReportState.QUEUED, 0, carried = true))
        assertEquals("Titipan relawan", id.of(carried.title))
        assertEquals("Carried for someone", en.of(carried.title))
        assertEquals("menunggu sinyal", id.of(carried.status))
        assertEquals(true, carried.carried)
        assertEquals(true, carried.canRelay)
        val own = OutboxText.row(report(ReportState.QUEUED, 0))
        assertEquals(false, own.carried)
        assertEquals(true, own.canRelay)
        assertEquals(false, OutboxText.row(report(ReportState.DELIVERED, 100)).canRelay)
        assertEquals(false, OutboxText.row(report(ReportState.FAILED, 0, FailureReason.REJECTED_BY_SERVER)).canRelay)
    }

    @Test
    fun `each state says what it is and what to do`() {
        val waiting = OutboxText.row(report(ReportState.QUEUED, 0))
        assertEquals("menunggu sinyal", id.of(waiting.status))
        assertEquals("waiting for signal", en.of(waiting.status))
        assertEquals("Kekerasan seksual", id.of(waiting.title))

        val sending = OutboxText.row(report(ReportState.SENDING, 35))
        assertEquals("mengirim 35%", id.of(sending.status))
        assertEquals("sending 35%", en.of(sending.status))
        assertNull(sending.advice)

        val payload = OutboxText.run {
            java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                """{"schema_version":1,"report":"x","received_at":"2026-11-20T08:15:00Z","parts":[]}""".toByteArray(),
            )
        }
        val sent = OutboxText.row(report(ReportState.DELIVERED, 100, receipt = """{"protected":"e30","payload":"$payload","signature":"AA"}"""))
        assertEquals("terkirim ✓", id.of(sent.status))
        assertEquals("01JD-4X7K-2M9Q-Z8W3", sent.receipt!!.code)
        assertEquals("2026-11-20T08:15:00Z", sent.receipt.receivedAt)

        val expired = OutboxText.row(report(ReportState.FAILED, 10, FailureReason.PROFILE_EXPIRED))
        assertEquals("Gagal: data kantor di aplikasi sudah kedaluwarsa", id.of(expired.status))
        assertEquals(true, id.of(expired.advice!!).contains("SAPA 129"))
        val rejected = OutboxText.row(report(ReportState.FAILED, 10, FailureReason.REJECTED_BY_SERVER))
        assertEquals("Not sent: the office did not accept this report", en.of(rejected.status))
        val damaged = OutboxText.row(report(ReportState.FAILED, 10, FailureReason.PART_DAMAGED))
        assertEquals("Buat laporan ini lagi. Jika mendesak, hubungi SAPA 129.", id.of(damaged.advice!!))
    }

    @Test
    fun `base64url decoding matches the JDK's`() {
        for (n in 0..40) {
            val bytes = ByteArray(n) { (it * 37 + n).toByte() }
            val s = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
            assertEquals(bytes.toList(), OutboxText.base64UrlDecode(s)!!.toList())
        }
        assertNull(OutboxText.base64UrlDecode("not base64!"))
    }
}
