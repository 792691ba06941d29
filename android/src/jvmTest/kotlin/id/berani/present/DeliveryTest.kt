// Delivery through the app's SyncRunner to a live berani-server: three reports sent with the
// notification's words counting 1/3 … 3/3, My reports saying "terkirim ✓" with the receipt's
// code and time, a second caller joining the running sync, and a dead server keeping the job
// scheduled.
package id.berani.present

import id.berani.IntakeServer
import id.berani.ResStrings
import id.berani.core.Category
import id.berani.core.Reporter
import id.berani.core.ReportState
import id.berani.core.SyncListener
import id.berani.core.StopReason
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import java.util.Collections
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread

class DeliveryTest {
    private val server = IntakeServer.shared
    private val id = ResStrings(Language.ID)

    private fun Reporter.queue(text: String): String {
        val d = createDraft().id
        setCategory(d, Category.PSYCHOLOGICAL)
        setDistrict(d, districts().first().code)
        setDescription(d, text)
        return submit(d).id
    }

    @Test
    fun `sends every report, counts them for the notification, and shows the receipt`() {
        server.home(tempDir("deliver-")).use { r ->
            val ids = (1..3).map { r.queue("CONTOH SINTETIS $it") }
            val before = r.outbox().map { OutboxText.row(it) }
            assertTrue(before.all { id.of(it.status) == "menunggu sinyal" })
            assertEquals(3, OutboxText.pending(r.outbox()))

            val progress = SendProgress(ids)
            val lines = Collections.synchronizedList(mutableListOf<String>())
            progress.onChange = { lines += id.of(it.text) }
            assertEquals("Berani: mengirim laporan (1/3)", id.of(progress.text))
            val runner = SyncRunner { r }
            val summary = runner.run(DeliveryPolicy.JOB_BUDGET_SECONDS, progress)

            assertEquals(StopReason.DONE, summary.stopped)
            assertEquals(ids.toSet(), summary.delivered.toSet())
            assertFalse(DeliveryPolicy.needsAnotherRun(summary))
            assertEquals(100, progress.percent)
            assertTrue(lines.toString(), lines.containsAll(listOf("Berani: mengirim laporan (1/3)", "Berani: mengirim laporan (2/3)", "Berani: mengirim laporan (3/3)")))
            // The notification's words never carry anything of a report.
            assertTrue(lines.none { it.contains("CONTOH") || it.contains("psikis", ignoreCase = true) })

            for (report in r.outbox()) {
                val row = OutboxText.row(report)
                assertEquals(ReportState.DELIVERED, row.state)
                assertEquals("terkirim ✓", id.of(row.status))
                assertEquals("Kekerasan psikis", id.of(row.title))
                val receipt = assertNotNull(row.receipt).let { row.receipt!! }
                assertTrue(receipt.code, receipt.code.matches(Regex("[A-Z0-9]{4}(-[A-Z0-9]{1,4}){1,3}")))
                // received_at from the signed receipt's payload: an RFC 3339 time.
                assertTrue(receipt.receivedAt ?: "null", receipt.receivedAt?.matches(Regex("\\d{4}-\\d\\d-\\d\\dT.*")) == true)
            }
            assertEquals(0, OutboxText.pending(r.outbox()))
            assertFalse(runner.isRunning)
        }
    }

    @Test
    fun `a second caller joins the sync that is running instead of starting another`() {
        server.home(tempDir("deliver-join-")).use { r ->
            repeat(2) { r.queue("CONTOH SINTETIS join $it") }
            val runner = SyncRunner { r }
            val firstHeard = CountDownLatch(1)
            val calls = Collections.synchronizedList(mutableListOf<String>())
            val slow = object : SyncListener {
                override fun onPartProgress(reportId: String, part: UInt, sent: ULong, total: ULong) {
                    firstHeard.countDown()
                    Thread.sleep(200) // holds the sync long enough for the second caller to join
                }
                override fun onReportState(reportId: String, state: ReportState) {
                    calls += "a:$state"
                }
            }
            val joiner = SendProgress(emptyList())
            var a: id.berani.core.SyncSummary? = null
            val t = thread { a = runner.run(60u, slow) }
            assertTrue(firstHeard.await(30, TimeUnit.SECONDS))
            assertTrue(runner.isRunning)
            val b = runner.run(60u, joiner)
            t.join(60_000)
            // Both callers got the one sync's summary.
            assertEquals(a, b)
            assertEquals(2, b.delivered.size)
            assertEquals(100, joiner.percent)
            assertTrue(calls.contains("a:DELIVERED"))
        }
    }

    @Test
    fun `with the server gone the outbox waits and the job asks to run again`() {
        val gone = IntakeServer()
        val r = gone.home(tempDir("deliver-gone-"))
        r.use {
            r.queue("CONTOH SINTETIS offline")
            gone.close()
            val summary = SyncRunner { r }.run(20u, SendProgress(emptyList()))
            assertEquals(1u, summary.pending)
            assertTrue(DeliveryPolicy.needsAnotherRun(summary))
            assertTrue(DeliveryPolicy.needsAnotherRun(null))
            val row = OutboxText.row(r.outbox().single())
            assertTrue(id.of(row.status), id.of(row.status) == "menunggu sinyal" || id.of(row.status).startsWith("mengirim"))
        }
    }
}
