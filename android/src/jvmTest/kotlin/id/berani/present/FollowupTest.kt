// The follow-up presenters with the real core (JNA) and a live berani-server, the team's side
// driven on the case desk over HTTP: the status timeline from drafted to delivered (with the
// office's receipt time) and the case status in plain words; the team's reply in the thread;
// the reporter's answer queued in the outbox, then sent; the copy removed after delivery with
// the follow-up still working. And the code screen: a mistyped code refused with the core's
// words in both languages, the right one opening the report on a fresh home.
package id.berani.present

import id.berani.IntakeServer
import id.berani.R
import id.berani.ResStrings
import id.berani.core.CaseStatus
import id.berani.core.Category
import id.berani.core.Reporter
import id.berani.core.ReportState
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class FollowupTest {
    private val server = IntakeServer.shared
    private val id = ResStrings(Language.ID)
    private val en = ResStrings(Language.EN)

    private fun Reporter.queue(text: String): String {
        val d = createDraft().id
        setCategory(d, Category.PHYSICAL)
        setDistrict(d, districts().first().code)
        setDescription(d, text)
        return submit(d).id
    }

    private fun Reporter.deliver(reportId: String) {
        SyncRunner { this }.run(120u, SendProgress(listOf(reportId)))
        assertEquals(ReportState.DELIVERED, outbox().single { it.id == reportId }.state)
    }

    private fun lines(v: ReportView, s: ResStrings = id): List<String> =
        v.timeline.map { s.deep(if (it.at != null) it.text.copy(args = it.text.args + "<t>") else it.text) }

    @Test
    fun `the timeline, the team's reply and the reporter's answer through the outbox`() {
        server.home(tempDir("followup-")).use { r ->
            val rid = r.queue("CONTOH SINTETIS: tindak lanjut di Android")
            val detail = ReportDetail({ r }, rid)
            var v = detail.view()
            assertEquals(listOf("Ditulis: <t>", "Dikunci dan disimpan: <t>", "Menunggu sinyal untuk dikirim"), lines(v))
            assertNotNull("the code is on the phone", v.code)
            assertFalse("nothing to forget before delivery", v.canForget)

            r.deliver(rid)
            detail.load()
            v = detail.view()
            assertNull(v.problem)
            assertEquals(CaseStatus.RECEIVED, v.status)
            assertEquals(
                listOf("Ditulis: <t>", "Dikunci dan disimpan: <t>", "Terkirim, diterima kantor: <t>", "Status: Diterima (dicek <t>)"),
                lines(v),
            )
            assertEquals("Status: Received (checked <t>)", lines(v, en).last())
            assertTrue(v.timeline.all { it.done })
            assertTrue(v.messages.isEmpty())

            // The team answers on the desk and starts working on the case.
            val team = "CONTOH SINTETIS: Apakah anak aman malam ini?"
            server.desk.reply(rid, team)
            server.desk.identify(rid)
            detail.load()
            v = detail.view()
            assertEquals(CaseStatus.IN_PROGRESS, v.status)
            assertEquals("Status: Sedang ditangani (dicek <t>)", lines(v).last())
            assertEquals("Petugas sedang menangani laporan ini.", id.of(FollowupText.statusExplain(v.status!!)))
            val m = v.messages.single()
            assertTrue(m.fromTeam && m.sent)
            assertEquals(team, m.text)

            // A blank reply is refused with the core's words; a real one waits in the outbox.
            val blank = detail.reply("   ")!!
            assertTrue(blank.render(id, Language.ID), blank.render(id, Language.ID).startsWith("Pesan"))
            assertTrue(blank.render(id, Language.EN).startsWith("Message"))
            val answer = "CONTOH SINTETIS: Ya, dia di rumah neneknya."
            assertNull(detail.reply(answer))
            v = detail.view()
            val queued = v.messages.last()
            assertFalse(queued.fromTeam)
            assertFalse("waits in the outbox", queued.sent)
            assertEquals(answer, queued.text)
            assertEquals(1u, r.queuedMessages())
            assertTrue(DeliveryPolicy.needsAnotherRun(null, r.queuedMessages()))

            val summary = SyncRunner { r }.run(120u, SendProgress(emptyList()))
            assertEquals(1u, summary.messagesSent)
            assertFalse(DeliveryPolicy.needsAnotherRun(summary, r.queuedMessages()))
            detail.load()
            v = detail.view()
            assertEquals(listOf(true, false), v.messages.map { it.fromTeam })
            assertTrue(v.messages.last().sent)
            assertTrue("the desk shows the answer", server.desk.casePage(rid).contains(answer))

            // After delivery the copy can go; status and thread stay.
            assertTrue(v.canForget)
            assertNull(detail.forget())
            v = detail.view()
            assertFalse(v.canForget)
            assertTrue(v.forgotten)
            detail.load()
            v = detail.view()
            assertEquals(CaseStatus.IN_PROGRESS, v.status)
            assertEquals(2, v.messages.size)
            assertTrue(v.canReply)
        }
    }

    @Test
    fun `forgetting a report not yet sent is refused in plain words`() {
        server.home(tempDir("forget-")).use { r ->
            val rid = r.queue("CONTOH SINTETIS: belum terkirim")
            val problem = ReportDetail({ r }, rid).forget()!!
            assertEquals("Laporan belum terkirim; salinannya belum bisa dihapus karena laporan akan hilang.", problem.render(id, Language.ID))
            assertTrue(problem.render(en, Language.EN).contains("would be lost"))
            assertEquals(ReportState.QUEUED, r.outbox().single().state)
            assertEquals(1, r.outbox().single().parts.size)
        }
    }

    @Test
    fun `a mistyped code is refused with the core's words, the right one opens on a fresh home`() {
        val (rid, code) = server.home(tempDir("phone-a-")).use { a ->
            val rid = a.queue("CONTOH SINTETIS: dicek dari ponsel lain")
            a.deliver(rid)
            rid to a.receiptCode(rid)!!.code
        }
        server.home(tempDir("phone-b-")).use { b ->
            val check = CheckCode { b }
            val chars = code.toCharArray()
            chars[0] = if (chars[0] == '7') '8' else '7'
            assertNull(check.check(String(chars)))
            val typo = check.problem!!
            assertTrue(typo.render(id, Language.ID), typo.render(id, Language.ID).startsWith("Kode laporan"))
            assertTrue(typo.render(id, Language.EN), typo.render(id, Language.EN).contains("mistyped"))
            assertFalse(check.checking)
            assertNull(check.check("7K2Q"))
            assertTrue(check.problem!!.render(id, Language.EN).startsWith("Report code"))
            // Well formed, but no report has it: the office's one answer for unknown codes.
            assertNull(check.check("0000-0000-0000-0000-001A-5"))
            assertEquals(id.of(text(R.string.followup_not_found)), check.problem!!.render(id, Language.ID))

            val thread = check.check(" " + code.lowercase().replace("-", " ") + " ")!!
            assertNull(check.problem)
            assertEquals(rid, thread.reportId)
            assertEquals(code, b.receiptCode(rid)!!.code)
            val detail = ReportDetail({ b }, rid)
            detail.seed(thread)
            val v = detail.view()
            assertEquals(listOf("Status: Diterima (dicek <t>)"), lines(v))
            assertTrue(v.canReply)
            assertFalse(v.canForget)
            assertNull(detail.reply("CONTOH SINTETIS: dari ponsel lain"))
            assertEquals(1u, b.queuedMessages())
        }
    }
}
