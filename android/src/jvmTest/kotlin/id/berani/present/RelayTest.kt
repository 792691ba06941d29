// Relay through a volunteer in the presenters, with the real core and a live berani-server:
// the reporter's bundle written for the share sheet; the volunteer's phone checks it, asks
// with only the parts, size and agency, imports it on yes and delivers it as "Titipan
// relawan"; a second import changes nothing; a changed file, a file that is too large, no file
// and a "no" leave nothing behind; the manifest's intent filters name the core's media type.
package id.berani.present

import id.berani.IntakeServer
import id.berani.MemoryKeyStore
import id.berani.R
import id.berani.ResStrings
import id.berani.core.Category
import id.berani.core.Reporter
import id.berani.core.ReportState
import id.berani.core.StopReason
import id.berani.core.relayInfo
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.ByteArrayInputStream
import java.io.File
import java.io.IOException
import java.io.InputStream
import javax.xml.parsers.DocumentBuilderFactory
import org.w3c.dom.Element

class RelayTest {
    private val server = IntakeServer.shared
    private val id = ResStrings(Language.ID)
    private val en = ResStrings(Language.EN)

    private fun Reporter.queue(text: String): String {
        val d = createDraft().id
        setCategory(d, Category.SEXUAL)
        setDistrict(d, districts().first().code)
        setDescription(d, text)
        return submit(d).id
    }

    /** A reporter's home with one queued report, and its bundle written by [RelaySend]. */
    private fun exported(): Triple<Reporter, String, File> {
        val r = server.home(tempDir("relay-reporter-"))
        val reportId = r.queue("CONTOH SINTETIS: titipan lewat relawan")
        val out = RelaySend({ r }, tempDir("relay-share-")).export(reportId)
        check(out is RelaySend.Outcome.Ready) { "export refused: $out" }
        return Triple(r, reportId, out.file)
    }

    @Test
    fun `the sending side writes one bundle for the share sheet and says the carrier cannot read it`() {
        server.home(tempDir("relay-send-")).use { r ->
            val a = r.queue("CONTOH SINTETIS: satu")
            val b = r.queue("CONTOH SINTETIS: dua")
            val rows = r.outbox().map { OutboxText.row(it) }
            assertTrue(rows.all { it.canRelay && !it.carried })

            val dir = tempDir("relay-share-")
            val send = RelaySend({ r }, dir)
            val first = send.export(a) as RelaySend.Outcome.Ready
            assertEquals(Relay.fileName(a), first.file.name)
            assertTrue(first.file.name.endsWith(".berani"))
            assertEquals(a, first.bundle.reportId)
            assertEquals(1u, first.bundle.parts)
            assertFalse(String(first.file.readBytes(), Charsets.ISO_8859_1).contains("CONTOH SINTETIS"))
            // A second share replaces the first file: one bundle lingers at most.
            val second = send.export(b) as RelaySend.Outcome.Ready
            assertEquals(listOf(second.file.name), dir.listFiles()!!.map { it.name })
            assertEquals("it still goes from here too", ReportState.QUEUED, r.outbox().first { it.id == a }.state)

            // The media type the app shares and filters for is the core's.
            assertEquals(relayInfo().mimeType, Relay.MIME_TYPE)
            assertEquals(relayInfo().extension, Relay.EXTENSION)
            val words = Relay.explanation().both()
            assertTrue(words, words.indexOf("tidak bisa membuka") in 0 until words.indexOf("cannot open or read"))
            assertTrue(id.get(R.string.relay_also_here).contains("tetap terkirim dari ponsel ini"))
            assertTrue(en.get(R.string.relay_also_here).contains("still goes from this phone"))

            assertEquals(StopReason.DONE, SyncRunner { r }.run(DeliveryPolicy.JOB_BUDGET_SECONDS, SendProgress(emptyList())).stopped)
            val sent = r.outbox().map { OutboxText.row(it) }
            assertTrue(sent.none { it.canRelay })
            val late = send.export(a)
            assertTrue(late is RelaySend.Outcome.Refused)
            val message = (late as RelaySend.Outcome.Refused).problem.render(id, Language.ID)
            assertEquals("Hanya laporan yang masih menunggu dikirim yang bisa dititipkan", message)
            assertTrue("a refused export leaves no file", dir.listFiles()!!.isEmpty())
        }
    }

    @Test
    fun `the volunteer's phone asks, imports on yes, delivers it as Titipan relawan, and a second import changes nothing`() {
        val (reporter, reportId, bundle) = exported()
        reporter.use {
            server.home(tempDir("relay-volunteer-")).use { v ->
                val inbox = tempDir("relay-inbox-")
                val carry = RelayCarry({ v }, inbox)
                val asked = carry.receive { bundle.inputStream() }
                assertTrue(asked.toString(), asked is RelayCarry.State.Confirm)
                asked as RelayCarry.State.Confirm
                assertEquals(reportId, asked.bundle.reportId)
                assertFalse(asked.bundle.already)
                val agency = v.profile()!!.agencyName
                assertEquals("1 bagian, ${Relay.size(asked.bundle.bytes)}, untuk $agency", id.of(asked.facts))
                assertEquals("1 part(s), ${Relay.size(asked.bundle.bytes)}, for $agency", en.of(asked.facts))
                assertTrue("nothing stored before yes", v.outbox().isEmpty())
                assertEquals(1, inbox.listFiles()!!.size)

                val done = carry.confirm()
                assertTrue(done.toString(), done is RelayCarry.State.Imported)
                assertEquals(id.get(R.string.relay_imported), id.of((done as RelayCarry.State.Imported).message))
                assertTrue("the private copy is gone", inbox.listFiles()!!.isEmpty())
                val row = OutboxText.row(v.outbox().single())
                assertTrue(row.carried)
                assertEquals("Titipan relawan", id.of(row.title))
                assertEquals("Carried for someone", en.of(row.title))
                assertEquals("menunggu sinyal", id.of(row.status))
                assertEquals(1, OutboxText.pending(v.outbox()))

                // The same file again: shown as already here, and importing it changes nothing.
                val again = RelayCarry({ v }, inbox)
                val seen = again.receive { bundle.inputStream() } as RelayCarry.State.Confirm
                assertTrue(seen.bundle.already)
                val twice = again.confirm() as RelayCarry.State.Imported
                assertTrue(twice.bundle.already)
                assertEquals("Laporan ini sudah ada di ponsel ini. Tidak ada yang berubah.", id.of(twice.message))
                assertEquals(1, v.outbox().size)

                val summary = SyncRunner { v }.run(DeliveryPolicy.JOB_BUDGET_SECONDS, SendProgress(listOf(reportId)))
                assertEquals(listOf(reportId), summary.delivered)
                val sent = OutboxText.row(v.outbox().single())
                assertEquals(ReportState.DELIVERED, sent.state)
                assertEquals("Titipan relawan", id.of(sent.title))
                assertEquals("terkirim ✓", id.of(sent.status))
                assertNull("someone else's receipt is not shown to the carrier", sent.receipt)
            }
            // The reporter's own copy is the same upload: delivered once, with its receipt.
            val own = SyncRunner { reporter }.run(DeliveryPolicy.JOB_BUDGET_SECONDS, SendProgress(listOf(reportId)))
            assertEquals(StopReason.DONE, own.stopped)
            val mine = OutboxText.row(reporter.outbox().single())
            assertEquals(ReportState.DELIVERED, mine.state)
            assertFalse(mine.carried)
            assertEquals(OutboxText.receiptCode(reportId), mine.receipt!!.code)
        }
    }

    @Test
    fun `a changed file, a file too large, no file and a no are refused with the reason and leave nothing`() {
        val (reporter, _, bundle) = exported()
        reporter.use {
            server.home(tempDir("relay-volunteer-")).use { v ->
                val inbox = tempDir("relay-inbox-")
                val bytes = bundle.readBytes()
                // The manifest's ustar header gives its size (octal at 124); the part's data follows
                // the manifest's blocks and the part's own header. One bit flipped inside it:
                val manifestSize = String(bytes, 124, 11, Charsets.US_ASCII).trim().toInt(8)
                val part = 512 + (manifestSize + 511) / 512 * 512 + 512
                val changed = bytes.copyOf().also { it[part + 100] = (it[part + 100].toInt() xor 1).toByte() }

                val refused = RelayCarry({ v }, inbox).receive { ByteArrayInputStream(changed) }
                assertTrue(refused.toString(), refused is RelayCarry.State.Refused)
                val words = (refused as RelayCarry.State.Refused).problem.bilingual(id, en)
                assertTrue(words.id, words.id.startsWith("File titipan rusak atau diubah: `parts/0.age`"))
                assertTrue(words.en, words.en.contains("damaged or was changed"))
                assertTrue(words.both().indexOf(words.id) < words.both().indexOf(words.en))

                val junk = RelayCarry({ v }, inbox).receive { ByteArrayInputStream("bukan titipan".toByteArray()) }
                assertEquals("Ini bukan file titipan Berani", ((junk as RelayCarry.State.Refused).problem as Problem.FromCore).messageId)

                val big = RelayCarry({ v }, inbox, maxBytes = { 1000L }).receive { bundle.inputStream() }
                assertEquals(
                    "File ini terlalu besar untuk file titipan (lebih dari 1 KB).",
                    (big as RelayCarry.State.Refused).problem.render(id, Language.ID),
                )

                val none = RelayCarry({ v }, inbox).receive { null }
                assertEquals(Problem.App(text(R.string.relay_no_file)), (none as RelayCarry.State.Refused).problem)

                val broken = RelayCarry({ v }, inbox).receive {
                    object : InputStream() {
                        override fun read(): Int = throw IOException("the sender went away")
                    }
                }
                val unreadable = (broken as RelayCarry.State.Refused).problem.bilingual(id, en)
                assertEquals(Bilingual("File tidak bisa dibaca. Minta dikirim ulang.", "The file cannot be read. Ask for it to be sent again."), unreadable)

                val carry = RelayCarry({ v }, inbox)
                assertTrue(carry.receive { bundle.inputStream() } is RelayCarry.State.Confirm)
                assertEquals(RelayCarry.State.Declined, carry.decline())
                // A yes after a no does nothing.
                assertEquals(RelayCarry.State.Declined, carry.confirm())

                assertTrue(v.outbox().isEmpty())
                assertTrue(inbox.listFiles()!!.isEmpty())
            }
        }
    }

    @Test
    fun `a phone without the agency profile says so instead of reading the file`() {
        val home = Reporter.openWithPin(tempDir("relay-bare-").path, MemoryKeyStore(), null)
        home.use { bare ->
            var opened = false
            val st = RelayCarry({ bare }, tempDir("relay-inbox-")).receive {
                opened = true
                ByteArrayInputStream(ByteArray(10))
            }
            assertEquals(Problem.App(text(R.string.relay_no_profile)), (st as RelayCarry.State.Refused).problem)
            assertFalse(opened)
        }
    }

    @Test
    fun `the manifest sends the relay media type and the berani files to the import screen`() {
        val manifest = File(System.getProperty("berani.res")).resolveSibling("AndroidManifest.xml")
        val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder().parse(manifest)
        val ns = "http://schemas.android.com/apk/res/android"
        val activity = (0 until doc.getElementsByTagName("activity").length).map { doc.getElementsByTagName("activity").item(it) as Element }
            .single { it.getAttributeNS(ns, "name") == ".ui.RelayImportActivity" }
        assertEquals("true", activity.getAttributeNS(ns, "exported"))
        val filters = activity.getElementsByTagName("intent-filter").let { l -> (0 until l.length).map { l.item(it) as Element } }
        fun Element.values(tag: String, attr: String): Set<String> =
            getElementsByTagName(tag).let { l -> (0 until l.length).map { (l.item(it) as Element).getAttributeNS(ns, attr) }.filter { it.isNotEmpty() }.toSet() }
        val byType = filters.single { it.values("data", "mimeType") == setOf(Relay.MIME_TYPE) }
        assertEquals(setOf("android.intent.action.VIEW", "android.intent.action.SEND"), byType.values("action", "name"))
        assertEquals(setOf("content", "file"), byType.values("data", "scheme"))
        val byName = filters.single { it.values("data", "pathPattern").isNotEmpty() }
        assertTrue(byName.values("data", "pathPattern").all { it.endsWith("\\.${Relay.EXTENSION}") })
        assertEquals(setOf("content", "file"), byName.values("data", "scheme"))
        for (f in filters) assertTrue(f.values("category", "name").contains("android.intent.category.DEFAULT"))
    }
}
