// Anonymous follow-up through the Kotlin API against a live berani-server on loopback: the
// receipt code after submit, the status, the code typed on a fresh home, a reply queued in the
// outbox and sent by sync, and wrong codes refused. (The team's replies are covered end to
// end in server/tests/followup.rs, which drives the desk.)
package id.berani.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FollowupTest {
    @TempDir
    lateinit var tmp: Path
    private lateinit var server: IntakeServer

    @BeforeAll
    fun startServer() {
        server = IntakeServer(Files.createTempDirectory("berani-server-"))
    }

    @AfterAll
    fun stopServer() = server.close()

    private fun openHome(name: String): Reporter {
        val r = Reporter.open(tmp.resolve(name).toString(), MemoryKeyStore())
        runBlocking { r.importProfileUrl(server.url, server.profileKey) }
        return r
    }

    @Test
    fun `a reporter follows up with the receipt code, from any home, and replies through the outbox`() {
        openHome("a").use { a ->
            val id = a.createDraft().id
            a.setCategory(id, Category.PHYSICAL)
            a.setDistrict(id, "33.16.09")
            a.setDescription(id, "CONTOH SINTETIS: tindak lanjut dari Kotlin")
            a.submit(id)
            val receipt = a.receiptCode(id)!!
            assertTrue(Regex("^([0-9A-Z]{4}-){5}[0-9A-Z*~$=]$").matches(receipt.code), receipt.code)
            assertTrue(receipt.adviceId.contains("aman") && receipt.adviceEn.contains("safe"))
            assertEquals(StopReason.DONE, a.sync(120u, RecordingListener()).use { runBlocking { it.wait() } }.stopped)

            val t = runBlocking { a.followup(id) }
            assertEquals(id, t.reportId)
            assertEquals(CaseStatus.RECEIVED, t.status)
            assertEquals("Diterima", t.statusId)
            assertEquals(emptyList<FollowupMessage>(), t.messages)

            val msgId = a.reply(id, "CONTOH SINTETIS: anak sudah aman")
            val queued = runBlocking { a.followup(id) }.messages.single()
            assertEquals(msgId, queued.id)
            assertFalse(queued.sent)
            assertEquals(MessageSender.REPORTER, queued.from)
            val empty = assertThrows<BeraniException.InvalidInput> { a.reply(id, "   ") }
            assertEquals("message", empty.field)

            val summary = a.sync(120u, RecordingListener()).use { runBlocking { it.wait() } }
            assertEquals(1u, summary.messagesSent)
            val sent = runBlocking { a.followup(id) }.messages.single()
            assertTrue(sent.sent)
            assertEquals("CONTOH SINTETIS: anak sudah aman", sent.text)

            openHome("fresh").use { b ->
                assertNull(b.receiptCode(id))
                val typed = receipt.code.lowercase().replace("-", " ")
                val seen = runBlocking { b.followupWithReceipt(typed) }
                assertEquals(id, seen.reportId)
                assertEquals(CaseStatus.RECEIVED, seen.status)
                val mine = seen.messages.single()
                assertTrue(mine.sent)
                assertNull(mine.text, "sealed to the agency only: another phone cannot read it")
                assertEquals(receipt.code, b.receiptCode(id)!!.code, "kept on the new home")

                val chars = receipt.code.toCharArray()
                chars[0] = if (chars[0] == '7') '8' else '7'
                val typo = assertThrows<BeraniException.InvalidInput> {
                    runBlocking { b.followupWithReceipt(String(chars)) }
                }
                assertEquals("receipt", typo.field)
                assertEquals("mistyped", typo.reason)
                assertThrows<BeraniException.NotFound> {
                    runBlocking { b.followupWithReceipt("0000-0000-0000-0000-001A-5") }
                }
            }
        }
    }
}
