// One Reporter shared by several Kotlin threads and coroutines at once: drafts from every
// caller are all kept, reads run alongside a sync, and several coroutines await one sync.
package id.berani.core

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread

class ConcurrencyTest {
    @TempDir
    lateinit var tmp: Path

    @Test
    fun `threads and coroutines share one reporter`() {
        val errors = ConcurrentLinkedQueue<Throwable>()
        Reporter.open(tmp.resolve("home").toString(), MemoryKeyStore()).use { r ->
            val cepu = r.districts().first { it.name == "Cepu" }.code
            fun work(who: String, n: Int) {
                repeat(n) { i ->
                    val id = r.createDraft().id
                    r.setCategory(id, Category.entries[i % Category.entries.size])
                    r.setDistrict(id, cepu)
                    r.setDescription(id, "CONTOH SINTETIS $who #$i")
                    check(r.draft(id).description == "CONTOH SINTETIS $who #$i")
                    r.searchAreas("ce")
                    r.drafts()
                }
            }
            val start = CountDownLatch(1)
            val threads = (1..6).map { t ->
                thread(name = "caller-$t") {
                    start.await()
                    runCatching { work("thread-$t", 8) }.onFailure { errors += it }
                }
            }
            start.countDown()
            runBlocking {
                (1..6).map { c -> async(Dispatchers.IO) { work("coroutine-$c", 8) } }.awaitAll()
            }
            threads.forEach { it.join() }
            assertTrue(errors.isEmpty(), "$errors")
            val drafts = r.drafts()
            assertEquals(96, drafts.size)
            assertEquals(96, drafts.map { it.description }.toSet().size, "every caller's draft kept")
        }
    }

    @Test
    fun `reads run alongside a sync, and several coroutines await it`() {
        val data = Files.createTempDirectory("berani-server-")
        IntakeServer(data).use { server ->
            Reporter.open(tmp.resolve("home2").toString(), MemoryKeyStore()).use { r ->
                runBlocking { r.importProfileUrl(server.url, server.profileKey) }
                val ids = (1..4).map { i ->
                    val id = r.createDraft().id
                    r.setCategory(id, Category.OTHER)
                    r.setDistrict(id, "33.16.09")
                    r.setDescription(id, "CONTOH SINTETIS $i")
                    r.attachFile(id, TestPaths.bigJpeg(tmp, 2_000_000).toString(), false, true)
                    r.submit(id).id
                }
                val errors = ConcurrentLinkedQueue<Throwable>()
                r.sync(120u, RecordingListener()).use { handle ->
                    val readers = (1..3).map {
                        thread {
                            runCatching {
                                while (!handle.isFinished()) {
                                    r.outbox()
                                    r.drafts()
                                }
                            }.onFailure { errors += it }
                        }
                    }
                    val summaries = runBlocking {
                        (1..4).map { async(Dispatchers.Default) { handle.wait() } }.awaitAll()
                    }
                    readers.forEach { it.join() }
                    assertTrue(errors.isEmpty(), "$errors")
                    assertEquals(1, summaries.toSet().size, "every waiter gets the same summary")
                    assertEquals(ids.toSet(), summaries.first().delivered.toSet())
                }
            }
        }
    }
}
