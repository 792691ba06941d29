// The Kotlin half of the FFI overhead benchmark (scripts/bench-ffi; not part of the tests):
// the same calls, counts and texts as bindings/benches/ffi.rs, through the generated bindings
// and JNA. Writes its medians to -Dberani.bench.out for the Rust side to put in BENCHMARKS.md.
package id.berani.core

import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths

@Tag("bench")
class FfiOverheadBench {
    @TempDir
    lateinit var tmp: Path

    private fun median(xs: DoubleArray): Double {
        xs.sort()
        val n = xs.size
        return if (n % 2 == 1) xs[n / 2] else (xs[n / 2 - 1] + xs[n / 2]) / 2
    }

    @Test
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
            val out = "set_description_median_us=${median(w)}\ndraft_median_us=${median(rd)}\n"
            print(out)
            val file = Paths.get(System.getProperty("berani.bench.out") ?: error("-Dberani.bench.out not set"))
            Files.createDirectories(file.parent)
            Files.writeString(file, out)
        }
    }
}
