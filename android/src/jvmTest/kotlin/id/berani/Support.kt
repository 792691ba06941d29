// Test support: the app's strings read from res/values*/strings.xml (there is no aapt here), a
// device key in memory, a live berani-server on loopback, and a home folder with its profile.
package id.berani

import id.berani.core.DeviceKeyStore
import id.berani.core.Reporter
import id.berani.core.newDeviceKey
import id.berani.present.Language
import id.berani.present.Strings
import kotlinx.coroutines.runBlocking
import java.io.File
import java.net.ServerSocket
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.time.Duration
import java.util.Locale
import java.util.concurrent.TimeUnit
import javax.xml.parsers.DocumentBuilderFactory
import org.w3c.dom.Element

/** The words of the app's string resources, as a phone would show them, from the XML files. */
class ResStrings(private val language: Language) : Strings {
    override fun get(id: Int, vararg args: Any): String {
        val name = NAMES[id] ?: error("no string resource with id 0x${Integer.toHexString(id)}")
        val raw = (if (language == Language.EN) EN[name] else null) ?: ID[name] ?: error("string/$name not in strings.xml")
        return if (args.isEmpty()) raw.replace("%%", "%") else String.format(Locale.forLanguageTag(language.tag), raw, *args)
    }

    companion object {
        val res: Path = Paths.get(System.getProperty("berani.res") ?: error("-Dberani.res not set"))

        /** The text of each <string>, unescaped as aapt does (\' \" \n, surrounding quotes). */
        fun load(folder: String): Map<String, String> {
            val doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(res.resolve(folder).resolve("strings.xml").toFile())
            val nodes = doc.getElementsByTagName("string")
            return (0 until nodes.length).associate { i ->
                val e = nodes.item(i) as Element
                e.getAttribute("name") to unescape(e.textContent)
            }
        }

        fun unescape(s: String): String {
            val t = s.trim().let { if (it.length >= 2 && it.startsWith('"') && it.endsWith('"')) it.substring(1, it.length - 1) else it }
            return t.replace("\\'", "'").replace("\\\"", "\"").replace("\\n", "\n")
        }

        val ID: Map<String, String> by lazy { load("values") }
        val EN: Map<String, String> by lazy { load("values-en") }
        private val NAMES: Map<Int, String> by lazy {
            R.string::class.java.declaredFields.filter { it.type == Int::class.javaPrimitiveType }
                .associate { it.getInt(null) to it.name }
        }
    }
}

class MemoryKeyStore(private var key: ByteArray = newDeviceKey()) : DeviceKeyStore {
    override fun deviceKey(): ByteArray = synchronized(this) { key.copyOf() }

    /** Forgets the key (zeroed); the next call makes a new one. */
    override fun destroyKey() = synchronized(this) {
        key.fill(0)
        key = newDeviceKey()
    }
}

object TestPaths {
    val fixtures: Path = Paths.get(System.getProperty("berani.fixtures") ?: error("-Dberani.fixtures not set"))
    val serverBinary: String = System.getProperty("berani.server") ?: error("-Dberani.server not set")

    /**
     * An M4A-looking voice note: an `ftypM4A ` box, then an `mdat` box of bytes (well formed
     * boxes: the core refuses an M4A whose boxes do not add up, as it cannot strip it).
     */
    fun voiceNote(dir: File): File = File(dir, "voice-${System.nanoTime()}.m4a").apply {
        val head = byteArrayOf(0, 0, 0, 0x18) + "ftypM4A ".toByteArray() + byteArrayOf(0, 0, 0, 0) + "M4A mp42".toByteArray()
        val mdat = byteArrayOf(0, 0, 0x0F, 0xA8.toByte()) + "mdat".toByteArray()
        writeBytes(head + mdat + ByteArray(4000) { (it * 7).toByte() })
    }
}

/** A real `berani-server serve` on a free loopback port, with a new data folder. */
class IntakeServer : AutoCloseable {
    private val data: Path = Files.createTempDirectory("berani-server-")
    val port: Int = ServerSocket(0).use { it.localPort }
    val url = "http://127.0.0.1:$port"
    private val log: Path = data.resolveSibling("${data.fileName}.log")
    private val process: Process = ProcessBuilder(
        TestPaths.serverBinary, "serve", "--data", data.toString(), "--listen", "127.0.0.1:$port",
        "--hotline", "Dinsos P3A Blora=0296123456,081234567890",
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

    val config: AgencyConfig get() = AgencyConfig(url, profileKey, "https://lapor.example.go.id/unduh")

    /** A reporter home with this server's profile installed. */
    fun home(dir: File, keys: DeviceKeyStore = MemoryKeyStore()): Reporter {
        val r = Reporter.openWithPin(dir.path, keys, null) // as the app opens every home
        runBlocking { r.importProfileUrl(url, profileKey) }
        return r
    }

    /** The first admin password, from the `admin password:` line printed at the first start. */
    fun adminPassword(): String {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
        while (true) {
            Files.readAllLines(log).firstOrNull { it.startsWith("admin password: ") }?.let { return it.removePrefix("admin password: ") }
            check(System.nanoTime() < deadline) { "no admin password printed" }
            Thread.sleep(20)
        }
    }

    /** The case desk, logged in as the admin (once per server; the first password is replaced). */
    val desk: Desk by lazy { Desk(url).also { it.loginFirstAdmin(adminPassword()) } }

    override fun close() {
        process.destroyForcibly()
        process.waitFor(10, TimeUnit.SECONDS)
    }

    companion object {
        /** One server for the whole test run (each test uses its own reporter home). */
        val shared: IntakeServer by lazy { IntakeServer().also { s -> Runtime.getRuntime().addShutdownHook(Thread { s.close() }) } }
    }
}

fun tempDir(prefix: String): File = Files.createTempDirectory(prefix).toFile()

/**
 * The case desk driven over HTTP as a browser would (cookies, redirects followed by hand, the
 * page's CSRF token in every form), for the team's side of the follow-up tests.
 */
class Desk(private val base: String) {
    private val http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build()
    private val cookies = java.util.concurrent.ConcurrentHashMap<String, String>()
    @Volatile private var csrf: String? = null

    data class Page(val status: Int, val path: String, val body: String)

    @Synchronized
    fun send(method: String, path0: String, form: Map<String, String>? = null): Page {
        var method0 = method
        var path = path0
        var body = form?.entries?.joinToString("&") { (k, v) ->
            java.net.URLEncoder.encode(k, Charsets.UTF_8) + "=" + java.net.URLEncoder.encode(v, Charsets.UTF_8)
        }
        repeat(10) {
            val b = HttpRequest.newBuilder(URI("$base$path")).timeout(Duration.ofSeconds(30))
            if (cookies.isNotEmpty()) b.header("Cookie", cookies.entries.joinToString("; ") { "${it.key}=${it.value}" })
            if (method0 == "POST") b.header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(body ?: ""))
            else b.GET()
            val r = http.send(b.build(), HttpResponse.BodyHandlers.ofString())
            for (c in r.headers().allValues("set-cookie")) {
                val (name, value) = c.substringBefore(';').split('=', limit = 2).let { it[0] to it.getOrElse(1) { "" } }
                if (value.isEmpty() || c.contains("Max-Age=0")) cookies.remove(name) else cookies[name] = value
            }
            if (r.statusCode() in 300..399) {
                path = r.headers().firstValue("location").get()
                method0 = "GET"
                body = null
                return@repeat
            }
            Regex("name=\"csrf\" value=\"([^\"]+)\"").find(r.body())?.let { csrf = it.groupValues[1] }
            return Page(r.statusCode(), path, r.body())
        }
        error("too many redirects from $path0")
    }

    fun post(path: String, fields: Map<String, String>): Page {
        if (csrf == null) send("GET", "/desk/account")
        return send("POST", path, mapOf("csrf" to (csrf ?: "")) + fields)
    }

    fun loginFirstAdmin(first: String) {
        send("GET", "/desk/login")
        val p = post("/desk/login", mapOf("username" to "admin", "password" to first, "code" to ""))
        check(p.status == 200 && !p.path.startsWith("/desk/login")) { "login failed: ${p.status} ${p.path}" }
        val c = post("/desk/account/password", mapOf("current" to first, "new" to PASSWORD, "again" to PASSWORD))
        check(c.status == 200) { "password change failed: ${c.status} ${c.body}" }
    }

    /** A team member replies to the reporter from the case page. */
    fun reply(reportId: String, text: String) {
        send("GET", "/desk/cases/$reportId")
        val p = post("/desk/cases/$reportId/message", mapOf("message" to text))
        check(p.status == 200 && p.body.contains(text)) { "reply failed: ${p.status}" }
    }

    /** Moves the case to identification (the reporter then sees "Sedang ditangani"). */
    fun identify(reportId: String) {
        send("GET", "/desk/cases/$reportId")
        val p = post("/desk/cases/$reportId/stage", mapOf("to" to "identified", "risk" to "low", "note" to "CONTOH SINTETIS: identifikasi"))
        check(p.status == 200) { "stage change failed: ${p.status} ${p.body.take(400)}" }
    }

    /** The desk's view of a case page (to see the reporter's answer). */
    fun casePage(reportId: String): String = send("GET", "/desk/cases/$reportId").body

    companion object {
        const val PASSWORD = "Kopi tubruk, tiga gelas!"
    }
}
