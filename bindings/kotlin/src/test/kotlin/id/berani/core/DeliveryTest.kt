// From the Kotlin API to a live berani-server on loopback: the profile imported over HTTP and
// as bytes (no trusted key, another key, tampered bytes), reports delivered with receipts, a
// sync cancelled partway and resumed, the outbox kept across closing and reopening, and logs
// without report content.
package id.berani.core

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.util.Collections
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeliveryTest {
    @TempDir
    lateinit var tmp: Path
    private lateinit var server: IntakeServer

    @BeforeAll
    fun startServer() {
        server = IntakeServer(Files.createTempDirectory("berani-server-"))
    }

    @AfterAll
    fun stopServer() = server.close()

    private fun openHome(name: String, keys: DeviceKeyStore = MemoryKeyStore()): Reporter {
        val r = Reporter.open(tmp.resolve(name).toString(), keys)
        runBlocking { r.importProfileUrl(server.url, server.profileKey) }
        return r
    }

    private fun Reporter.queue(text: String, attach: Path? = null): String {
        val id = createDraft().id
        setCategory(id, Category.PHYSICAL)
        setDistrict(id, districts().first { it.name == "Cepu" }.code)
        setDescription(id, text)
        if (attach != null) attachFile(id, attach.toString(), false, true)
        return submit(id).id
    }

    private fun Reporter.syncNow(listener: SyncListener = RecordingListener()): SyncSummary =
        sync(120u, listener).use { runBlocking { it.wait() } }

    @Test
    fun `imports the profile from the server and delivers a report with a receipt`() {
        Reporter.open(tmp.resolve("a").toString(), MemoryKeyStore()).use { r ->
            val noTrust = assertThrows<BeraniException.Profile> {
                runBlocking { r.importProfileUrl(server.url, null) }
            }
            assertEquals(ProfileProblem.NO_TRUSTED_KEY, noTrust.problem)
            val p = runBlocking { r.importProfileUrl(server.url, server.profileKey) }
            assertEquals("33.16", p.regencyCode)
            assertEquals(server.url, p.intakeUrl.trimEnd('/'))
            assertEquals(p, r.profile())
            assertEquals(server.profileKey, r.trustedProfileKey())
            val offline = assertThrows<BeraniException.Network> {
                runBlocking { r.importProfileUrl("http://127.0.0.1:9", null) }
            }
            assertTrue(offline.detail.isNotBlank())

            val id = r.createDraft().id
            val incomplete = assertThrows<BeraniException.Incomplete> { r.submit(id) }
            assertEquals(
                listOf("category", "district", "description"),
                incomplete.problems.map { it.field },
            )
            assertTrue(incomplete.problems.all { it.messageId.isNotBlank() && it.messageEn.isNotBlank() })
            r.setCategory(id, Category.NEGLECT)
            r.setDistrict(id, "33.16.09")
            r.setDescription(id, "CONTOH SINTETIS: anak ditinggal sendirian")
            r.attachFile(id, TestPaths.fixture("photo.jpg").toString(), false, false)
            val queued = r.submit(id)
            assertEquals(ReportState.QUEUED, queued.state)
            assertEquals(listOf(PartKind.REPORT, PartKind.ATTACHMENT), queued.parts.map { it.kind })
            assertEquals(queued, r.submit(id), "a second submit returns the queued report")

            val listener = RecordingListener()
            val summary = r.syncNow(listener)
            assertEquals(StopReason.DONE, summary.stopped)
            assertEquals(listOf(id), summary.delivered)
            assertEquals(0u, summary.pending)
            assertTrue(summary.stoppedMessageId.isNotBlank())
            val last = listener.progress.groupBy { it.part }.mapValues { it.value.last() }
            assertEquals(setOf(0u, 1u), last.keys)
            assertTrue(last.values.all { it.sent == it.total && it.reportId == id }, "$last")
            assertEquals(listOf(id to ReportState.SENDING, id to ReportState.DELIVERED), listener.states.toList())

            val delivered = r.outbox().single()
            assertEquals(ReportState.DELIVERED, delivered.state)
            assertNotNull(delivered.receipt)
            assertEquals(100.toUByte(), delivered.percent)
            assertTrue(delivered.parts.all { it.done && it.sent == it.size })
            assertFalse(delivered.toString().contains(delivered.receipt!!), "toString leaves the receipt out")
            assertEquals(emptyList<Draft>(), r.drafts(), "the draft is gone once queued")
        }
    }

    @Test
    fun `a profile imported as bytes needs a trusted key and refuses another key or a change`() {
        val response = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI("${server.url}/v1/profile")).GET().build(),
            HttpResponse.BodyHandlers.ofByteArray(),
        )
        assertEquals(200, response.statusCode())
        val bytes = response.body()
        Reporter.open(tmp.resolve("bytes").toString(), MemoryKeyStore()).use { r ->
            fun refused(bytes: ByteArray, trust: String?) =
                assertThrows<BeraniException.Profile> { r.importProfileBytes(bytes, trust) }.problem

            assertEquals(ProfileProblem.NO_TRUSTED_KEY, refused(bytes, null))
            assertEquals(ProfileProblem.BAD_KEY, refused(bytes, "ed25519:not-a-key"))
            assertNull(r.profile())
            assertNull(r.trustedProfileKey())

            val p = r.importProfileBytes(bytes, server.profileKey)
            assertEquals("33.16", p.regencyCode)
            assertEquals(server.url, p.intakeUrl.trimEnd('/'))
            assertEquals(p, r.profile())
            assertEquals(server.profileKey, r.trustedProfileKey())
            // Once a key is pinned, the same bytes import again without naming it.
            assertEquals(p, r.importProfileBytes(bytes, null))

            // Another well-formed key than the pinned one: one base64url character changed.
            val key = server.profileKey
            val at = key.length / 2
            val otherKey = key.substring(0, at) + (if (key[at] == 'A') 'B' else 'A') + key.substring(at + 1)
            assertEquals(ProfileProblem.KEY_MISMATCH, refused(bytes, otherKey))

            // One character of the signed payload changed: still well-formed, badly signed.
            val text = String(bytes, Charsets.UTF_8)
            val payload = Regex("\"payload\"\\s*:\\s*\"").find(text)!!.range.last + 1
            val i = payload + 20
            val tampered = (text.substring(0, i) + (if (text[i] == 'A') 'B' else 'A') + text.substring(i + 1))
                .toByteArray(Charsets.UTF_8)
            assertEquals(ProfileProblem.BAD_SIGNATURE, refused(tampered, null))
            assertEquals(ProfileProblem.MALFORMED, refused("not a profile".toByteArray(), null))

            // Every refusal left the installed profile and the pinned key as they were.
            assertEquals(p, r.profile())
            assertEquals(server.profileKey, r.trustedProfileKey())
        }
    }

    @Test
    fun `a sync cancelled partway resumes from the server's offset`() {
        openHome("b").use { r ->
            val big = TestPaths.bigJpeg(tmp, 12_000_000)
            val id = r.queue("CONTOH SINTETIS: video panjang", big)
            val handle = CompletableFuture<SyncHandle>()
            var cancelledAt = 0uL
            val cancelling = object : RecordingListener() {
                override fun onPartProgress(reportId: String, part: UInt, sent: ULong, total: ULong) {
                    super.onPartProgress(reportId, part, sent, total)
                    if (part == 1u && sent in 1uL until total && cancelledAt == 0uL) {
                        cancelledAt = sent
                        handle.get(10, TimeUnit.SECONDS).cancel()
                    }
                }
            }
            val first = r.sync(120u, cancelling).use {
                handle.complete(it)
                runBlocking { it.wait() }
            }
            assertEquals(StopReason.CANCELLED, first.stopped, "$first")
            assertTrue(cancelledAt > 0uL)
            val half = r.outbox().single()
            assertEquals(ReportState.SENDING, half.state)
            val part = half.parts[1]
            assertFalse(part.done)
            assertTrue(part.sent >= cancelledAt && part.sent < part.size, "$part")

            val again = RecordingListener()
            val second = r.syncNow(again)
            assertEquals(listOf(id), second.delivered)
            val resumedFrom = again.progress.first { it.part == 1u }.sent
            assertTrue(resumedFrom >= cancelledAt, "resumed at $resumedFrom, not from 0")
            assertEquals(ReportState.DELIVERED, r.outbox().single().state)
        }
    }

    @Test
    fun `closing and reopening the home keeps the outbox`() {
        val keys = FileKeyStore(tmp.resolve("c.key"))
        val home = tmp.resolve("c").toString()
        val (sent, queued) = openHome("c", keys).use { r ->
            val sent = r.queue("CONTOH SINTETIS: pertama")
            assertEquals(listOf(sent), r.syncNow().delivered)
            sent to r.queue("CONTOH SINTETIS: kedua", TestPaths.fixture("photo.jpg"))
        }
        val before = Reporter.open(home, keys).use { it.outbox() }
        assertEquals(listOf(queued, sent), before.map { it.id })
        assertEquals(listOf(ReportState.QUEUED, ReportState.DELIVERED), before.map { it.state })
        Reporter.open(home, keys).use { r ->
            assertEquals(before, r.outbox())
            assertEquals(listOf(queued), r.syncNow().delivered)
            assertTrue(r.outbox().all { it.state == ReportState.DELIVERED && it.receipt != null })
        }
    }

    @Test
    fun `a listener that throws does not stop delivery`() {
        openHome("d").use { r ->
            val id = r.queue("CONTOH SINTETIS: pendengar rusak")
            val throwing = RecordingListener(throwing = true)
            assertEquals(listOf(id), r.syncNow(throwing).delivered)
            assertTrue(throwing.progress.isNotEmpty() && throwing.states.isNotEmpty())
        }
    }

    @Test
    fun `logs reach the Kotlin sink, and report text never does`() {
        val records = Collections.synchronizedList(mutableListOf<LogRecord>())
        initLogging(
            object : LogSink {
                override fun log(record: LogRecord) {
                    records += record
                }
            },
            LogLevel.TRACE,
        )
        val marker = "PENANDA-91c2-ISI"
        openHome("e").use { r ->
            val id = r.queue("CONTOH SINTETIS $marker", TestPaths.fixture("photo.jpg"))
            assertEquals(listOf(id), r.syncNow().delivered)
        }
        val mine = records.toList()
        assertTrue(mine.any { it.target == "berani_ffi::sync" && it.message.startsWith("sync stopped") }, "$mine")
        assertTrue(mine.none { marker in it.message }, "no log line holds report text")
    }
}
