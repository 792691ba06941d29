// Relay through a volunteer through the Kotlin API against a live berani-server on loopback:
// a queued report exported as a bundle from the reporter's home, inspected and imported into
// a volunteer's home, delivered from there; the reporter's receipt code follows it up; the
// reporter's own later sync is the same upload, not a second report; a changed bundle and a
// file that is no bundle are refused with BeraniException.Relay.
package id.berani.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RelayTest {
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

    private fun Reporter.syncNow(): SyncSummary = sync(120u, RecordingListener()).use { runBlocking { it.wait() } }

    @Test
    fun `relay_info names the bundle's media type, extension and the explanation in both languages`() {
        val info = relayInfo()
        assertEquals("application/vnd.berani.relay", info.mimeType)
        assertEquals("berani", info.extension)
        assertTrue(info.explanationId.contains("tidak bisa membuka"), info.explanationId)
        assertTrue(info.explanationEn.contains("cannot open or read"), info.explanationEn)
    }

    @Test
    fun `a bundle carried by a volunteer is delivered once and the reporter's receipt follows it up`() {
        val bundle = tmp.resolve("laporan.berani")
        openHome("reporter").use { a ->
            val id = a.createDraft().id
            a.setCategory(id, Category.PHYSICAL)
            a.setDistrict(id, "33.16.09")
            a.setDescription(id, "CONTOH SINTETIS: titipan relawan dari Kotlin")
            a.submit(id)
            val receipt = a.receiptCode(id)!!

            val out = a.relayExport(id, bundle.toString())
            assertEquals(id, out.reportId)
            assertEquals(1u, out.parts)
            assertFalse(out.already)
            val bytes = Files.readAllBytes(bundle)
            assertEquals(out.bytes, a.outbox().single().parts.sumOf { it.size })
            // Nothing the reporter wrote is readable in the file.
            assertFalse(String(bytes, Charsets.ISO_8859_1).contains("CONTOH SINTETIS"))
            assertEquals(ReportState.QUEUED, a.outbox().single().state, "still queued on the reporter's phone")

            openHome("volunteer").use { v ->
                val seen = v.relayInspect(bundle.toString())
                assertEquals(RelayBundle(id, 1u, out.bytes, false), seen)
                assertTrue(v.outbox().isEmpty(), "inspect stores nothing")

                val imported = v.relayImport(bundle.toString())
                assertEquals(RelayBundle(id, 1u, out.bytes, false), imported)
                val carried = v.outbox().single()
                assertTrue(carried.carried)
                assertEquals(null, carried.category, "the carrier never learns the category")
                assertEquals(ReportState.QUEUED, carried.state)
                assertTrue(v.relayImport(bundle.toString()).already, "a second import is a no-op")
                assertTrue(v.relayInspect(bundle.toString()).already)
                assertEquals(1, v.outbox().size)

                val summary = v.syncNow()
                assertEquals(StopReason.DONE, summary.stopped)
                assertEquals(listOf(id), summary.delivered)
                assertEquals(ReportState.DELIVERED, v.outbox().single().state)
            }

            // The reporter's receipt code works for the carried report.
            val t = runBlocking { a.followup(id) }
            assertEquals(id, t.reportId)
            assertEquals(CaseStatus.RECEIVED, t.status)
            openHome("fresh").use { f ->
                assertEquals(id, runBlocking { f.followupWithReceipt(receipt.code) }.reportId)
            }

            // The reporter's own sync later is the same upload: delivered, with a receipt.
            val own = a.syncNow()
            assertEquals(StopReason.DONE, own.stopped)
            assertEquals(ReportState.DELIVERED, a.outbox().single().state)
            // A delivered report is not offered for carrying any more.
            val late = assertThrows<BeraniException.Relay> { a.relayExport(id, tmp.resolve("late.berani").toString()) }
            assertEquals("not_waiting", late.reason)
        }
    }

    @Test
    fun `a changed bundle and a file that is no bundle are refused, and nothing is stored`() {
        val bundle = tmp.resolve("ubah.berani")
        openHome("reporter-2").use { a ->
            val id = a.createDraft().id
            a.setCategory(id, Category.NEGLECT)
            a.setDistrict(id, "33.16.09")
            a.setDescription(id, "CONTOH SINTETIS: file titipan yang diubah")
            a.submit(id)
            a.relayExport(id, bundle.toString())
        }
        val original = Files.readAllBytes(bundle)
        // Flip one byte inside the sealed part: the ustar header of the manifest gives its size
        // (octal at offset 124), then come its 512-byte blocks, then the part's header and data.
        val manifestSize = String(original, 124, 11, Charsets.US_ASCII).trim().toInt(8)
        val partData = 512 + (manifestSize + 511) / 512 * 512 + 512
        assertEquals("parts/0.age", String(original, partData - 512, 11, Charsets.US_ASCII))
        val changed = original.copyOf()
        val at = partData + 100
        changed[at] = (changed[at].toInt() xor 0x01).toByte()
        val tampered = tmp.resolve("tampered.berani")
        Files.write(tampered, changed)
        val junk = tmp.resolve("junk.berani")
        Files.write(junk, "bukan file titipan".toByteArray())

        openHome("volunteer-2").use { v ->
            for (call in listOf<(String) -> RelayBundle>(v::relayInspect, v::relayImport)) {
                val e = assertThrows<BeraniException.Relay> { call(tampered.toString()) }
                assertEquals("tampered", e.reason)
                assertTrue(e.messageId.startsWith("File titipan rusak atau diubah"), e.messageId)
                assertTrue(e.messageEn.contains("damaged or was changed"), e.messageEn)
                val j = assertThrows<BeraniException.Relay> { call(junk.toString()) }
                assertEquals("not_a_bundle", j.reason)
                assertEquals("Ini bukan file titipan Berani", j.messageId)
            }
            assertTrue(v.outbox().isEmpty())
            assertArrayEquals(original, Files.readAllBytes(bundle))
            assertEquals(1u, v.relayImport(bundle.toString()).parts, "the untouched bundle still imports")
        }
    }
}
