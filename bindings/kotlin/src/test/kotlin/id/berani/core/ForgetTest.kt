// After delivery, the phone's copy of a report can be removed through the Kotlin API: refused
// before delivery (the report would be lost), then the sealed parts gone from the home folder
// while the receipt and the follow-up stay; the setting forgets each report as it is delivered.
package id.berani.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForgetTest {
    @TempDir
    lateinit var tmp: Path
    private lateinit var server: IntakeServer

    @BeforeAll
    fun startServer() {
        server = IntakeServer(Files.createTempDirectory("berani-server-"))
    }

    @AfterAll
    fun stopServer() = server.close()

    private fun Reporter.queue(text: String): String {
        val id = createDraft().id
        setCategory(id, Category.NEGLECT)
        setDistrict(id, "33.16.09")
        setDescription(id, text)
        return submit(id).id
    }

    private fun Reporter.syncAll() =
        assertEquals(StopReason.DONE, sync(120u, RecordingListener()).use { runBlocking { it.wait() } }.stopped)

    @Test
    fun `a delivered report is forgotten but its receipt still follows the case up`() {
        val home = tmp.resolve("a")
        Reporter.open(home.toString(), MemoryKeyStore()).use { r ->
            runBlocking { r.importProfileUrl(server.url, server.profileKey) }
            assertFalse(r.forgetAfterDelivery(), "off by default")
            val id = r.queue("CONTOH SINTETIS: PENANDA-KOTLIN-LUPA")
            val parts = home.resolve("outbox").resolve(id)
            assertEquals(1, Files.list(parts).use { it.count() }.toInt())

            val refused = assertThrows<BeraniException.WrongState> { r.forgetDelivered(id) }
            assertTrue(refused.detail.contains("not delivered"), refused.detail)
            val words = forgetRefusedMessage()
            assertTrue(words.id.contains("belum terkirim"), words.id)
            assertTrue(words.en.contains("would be lost"), words.en)
            assertTrue(Files.exists(parts), "nothing touched")

            r.syncAll()
            r.forgetDelivered(id)
            assertFalse(Files.exists(parts), "the sealed parts are gone")
            val after = r.outbox().single { it.id == id }
            assertEquals(ReportState.DELIVERED, after.state)
            assertNotNull(after.receipt)
            assertTrue(after.parts.isEmpty())
            assertEquals(CaseStatus.RECEIVED, runBlocking { r.followup(id) }.status)
            assertNotNull(r.receiptCode(id))

            assertEquals(0u, r.setForgetAfterDelivery(true))
            assertTrue(r.forgetAfterDelivery())
            val second = r.queue("CONTOH SINTETIS: kedua")
            r.syncAll()
            assertFalse(Files.exists(home.resolve("outbox").resolve(second)), "forgotten once delivered")
            assertEquals(ReportState.DELIVERED, r.outbox().single { it.id == second }.state)
        }
    }
}
