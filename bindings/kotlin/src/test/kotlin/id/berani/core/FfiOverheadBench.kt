// The Kotlin half of the FFI benchmark (scripts/bench-ffi; not part of the tests): the same
// calls, counts and texts as bindings/benches/ffi.rs, through the generated bindings and JNA.
// Appends its figures as key=value lines to -Dberani.bench.out for the Rust side to put in
// BENCHMARKS.md.
package id.berani.core

import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestMethodOrder
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.StandardOpenOption

@Tag("bench")
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class FfiOverheadBench {
    @TempDir
    lateinit var tmp: Path

    private fun median(xs: DoubleArray): Double {
        xs.sort()
        val n = xs.size
        return if (n % 2 == 1) xs[n / 2] else (xs[n / 2 - 1] + xs[n / 2]) / 2
    }

    /** Median, p95 (nearest rank) and minimum, as `stats` in ffi.rs. */
    private fun stats(name: String, xs: List<Double>): String {
        val s = xs.sorted()
        val n = s.size
        val p95 = s[(Math.ceil(0.95 * n).toInt()).coerceIn(1, n) - 1]
        return "${name}_median_ms=${median(s.toDoubleArray())}\n${name}_p95_ms=$p95\n${name}_min_ms=${s[0]}\n"
    }

    private fun report(lines: String) {
        print(lines)
        val file = Paths.get(System.getProperty("berani.bench.out") ?: error("-Dberani.bench.out not set"))
        Files.createDirectories(file.parent)
        Files.writeString(file, lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND)
    }

    /**
     * Cold `Reporter.open` on the full home the Rust side built (-Dberani.bench.home: its
     * `home` folder and `device.key`), first thing in this JVM: the first open also loads the
     * library through JNA and runs uniffi's checks, and is kept apart as one sample. Then 1
     * warm-up and 30 timed rounds of open and open + `outbox()`, interleaved as in ffi.rs.
     */
    @Test
    @Order(1)
    fun `opening a full home, cold`() {
        val dir = Paths.get(System.getProperty("berani.bench.home") ?: error("-Dberani.bench.home not set"))
        val home = dir.resolve("home").toString()
        val key = Files.readAllBytes(dir.resolve("device.key"))
        // Built without calling into the library, so the first call below is the first one.
        val keys = object : DeviceKeyStore {
            override fun deviceKey(): ByteArray = key.copyOf()
            override fun destroyKey() = error("the benchmark's key is not destroyed")
        }
        val rounds = 30

        val t0 = System.nanoTime()
        Reporter.open(home, keys).close()
        val first = (System.nanoTime() - t0) / 1e6

        val open = mutableListOf<Double>()
        val listed = mutableListOf<Double>()
        for (round in 0..rounds) {
            for (k in 0 until 2) {
                if ((round + k) % 2 == 0) {
                    val t = System.nanoTime()
                    val r = Reporter.open(home, keys)
                    open += (System.nanoTime() - t) / 1e6
                    r.close()
                } else {
                    val t = System.nanoTime()
                    val r = Reporter.open(home, keys)
                    check(r.outbox().isNotEmpty())
                    listed += (System.nanoTime() - t) / 1e6
                    r.close()
                }
            }
            if (round == 0) {
                // Warm-up round: discarded.
                open.clear()
                listed.clear()
            }
        }
        report("open_first_ms=$first\n" + stats("open", open) + stats("open_outbox", listed))
    }

    @Test
    @Order(2)
    fun `draft field update and read, per call`() {
        val writes = 300
        val reads = 3000
        val warmUp = 2000
        val texts = listOf(
            "CONTOH SINTETIS: tetangga mendengar anak menangis setiap malam.",
            "CONTOH SINTETIS: anak terlihat lebam di lengan, dua kali minggu ini.",
        )
        Reporter.open(tmp.resolve("home").toString(), MemoryKeyStore()).use { r ->
            val id = r.createDraft().id
            repeat(warmUp) { r.setDescription(id, texts[it % 2]) }
            val w = DoubleArray(writes) {
                val t = System.nanoTime()
                r.setDescription(id, texts[it % 2])
                (System.nanoTime() - t) / 1e3
            }
            repeat(warmUp) { r.draft(id) }
            val rd = DoubleArray(reads) {
                val t = System.nanoTime()
                r.draft(id)
                (System.nanoTime() - t) / 1e3
            }
            report("set_description_median_us=${median(w)}\ndraft_median_us=${median(rd)}\n")
        }
    }
}
