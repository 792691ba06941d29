// Test support: Kotlin implementations of the platform traits, a live berani-server on
// loopback, and the paths scripts/test-kotlin passes as system properties.
package id.berani.core

import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Duration
import java.util.Collections
import java.util.concurrent.TimeUnit
import kotlin.random.Random

/** A device key kept in memory, as the app keeps it wrapped by the Android Keystore. */
class MemoryKeyStore(private var key: ByteArray = newDeviceKey()) : DeviceKeyStore {
    override fun deviceKey(): ByteArray = synchronized(this) { key.copyOf() }

    /** Forgets the key (zeroed); the next call makes a new one. */
    override fun destroyKey() = synchronized(this) {
        key.fill(0)
        key = newDeviceKey()
    }
}

/** A device key in a file, created on first use; survives closing and reopening. */
class FileKeyStore(private val file: Path) : DeviceKeyStore {
    override fun deviceKey(): ByteArray {
        if (!Files.exists(file)) Files.write(file, newDeviceKey())
        return Files.readAllBytes(file)
    }

    override fun destroyKey() {
        if (Files.exists(file)) {
            Files.write(file, ByteArray(Files.size(file).toInt()))
            Files.delete(file)
        }
    }
}

/** Records what a sync reports; optionally throws from every callback. */
open class RecordingListener(private val throwing: Boolean = false) : SyncListener {
    data class Progress(val reportId: String, val part: UInt, val sent: ULong, val total: ULong)

    val progress: MutableList<Progress> = Collections.synchronizedList(mutableListOf())
    val states: MutableList<Pair<String, ReportState>> = Collections.synchronizedList(mutableListOf())

    override fun onPartProgress(reportId: String, part: UInt, sent: ULong, total: ULong) {
        progress += Progress(reportId, part, sent, total)
        if (throwing) throw IllegalStateException("progress bar is gone")
    }

    override fun onReportState(reportId: String, state: ReportState) {
        states += reportId to state
        if (throwing) throw IllegalStateException("outbox screen is gone")
    }
}

object TestPaths {
    val fixtures: Path = Paths.get(System.getProperty("berani.fixtures") ?: error("-Dberani.fixtures not set"))
    val serverBinary: String = System.getProperty("berani.server") ?: error("-Dberani.server not set")

    fun fixture(name: String): Path = fixtures.resolve(name)

    /** A "photo" of [size] bytes: the JPEG fixture followed by random bytes. */
    fun bigJpeg(dir: Path, size: Int): Path {
        val head = Files.readAllBytes(fixture("photo.jpg"))
        val file = dir.resolve("big-${Random.nextInt(1_000_000)}.jpg")
        Files.write(file, head + Random.nextBytes(size - head.size))
        return file
    }
}

/** A real `berani-server serve` on a free loopback port, with a new data folder. */
class IntakeServer(private val data: Path) : AutoCloseable {
    val port: Int = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private val log: Path = data.resolveSibling("${data.fileName}.log")
    private val process: Process = ProcessBuilder(
        TestPaths.serverBinary, "serve", "--data", data.toString(), "--listen", "127.0.0.1:$port",
    ).redirectErrorStream(true).redirectOutput(log.toFile()).start()

    /** The profile-signing key to trust, from `berani-server profile pubkey`. */
    val profileKey: String

    init {
        val http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90)
        while (true) {
            check(process.isAlive) { "berani-server exited: ${Files.readString(log)}" }
            val ok = runCatching {
                http.send(
                    HttpRequest.newBuilder(URI("$url/v1/profile")).timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.discarding(),
                ).statusCode() == 200
            }.getOrDefault(false)
            if (ok) break
            check(System.nanoTime() < deadline) { "berani-server did not answer" }
            Thread.sleep(50)
        }
        val p = ProcessBuilder(TestPaths.serverBinary, "profile", "pubkey", "--data", data.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start()
        profileKey = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor() == 0 && profileKey.startsWith("ed25519:")) { "profile pubkey failed: $profileKey" }
    }

    override fun close() {
        process.destroyForcibly()
        process.waitFor(10, TimeUnit.SECONDS)
    }
}
