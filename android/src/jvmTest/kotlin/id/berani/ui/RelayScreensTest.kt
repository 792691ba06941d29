// Relay through a volunteer on the screens, under Robolectric with the real core and a live
// berani-server: "Kirim lewat relawan" in My reports explains, then shares the bundle through
// the share sheet with the relay media type, the app's own URI and a read grant; a bundle
// shared to Berani is asked about ("Bawa laporan ini?"), imported on yes, scheduled for
// delivery and listed as "Titipan relawan" with no category; a changed one is refused in
// Indonesian and English.
package id.berani.ui

import android.app.Activity
import android.app.AlertDialog
import android.app.job.JobScheduler
import android.content.Intent
import android.net.Uri
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.TextView
import id.berani.IntakeServer
import id.berani.R
import id.berani.core.Category
import id.berani.core.Reporter
import id.berani.platform.BeraniFileProvider
import id.berani.platform.DeliveryScheduler
import id.berani.present.Relay
import id.berani.present.RelayCarry
import id.berani.present.RelaySend
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowAlertDialog
import java.io.File

@RunWith(RobolectricTestRunner::class)
class RelayScreensTest {
    private val app: TestApp get() = RuntimeEnvironment.getApplication() as TestApp

    private fun idle() = shadowOf(Looper.getMainLooper()).idle()

    private fun views(root: View): List<View> =
        if (root is ViewGroup) listOf(root) + (0 until root.childCount).flatMap { views(root.getChildAt(it)) } else listOf(root)

    private fun Activity.texts(): List<String> = views(window.decorView).filterIsInstance<TextView>().map { it.text.toString() }

    private fun Reporter.queue(text: String): String {
        val d = createDraft().id
        setCategory(d, Category.PHYSICAL)
        setDistrict(d, districts().first().code)
        setDescription(d, text)
        return submit(d).id
    }

    /** A bundle from another reporter's phone (the same agency). */
    private fun bundleFromAnotherPhone(): Pair<String, File> =
        IntakeServer.shared.home(tempDir("relay-other-")).use { other ->
            val id = other.queue("CONTOH SINTETIS: dari ponsel lain")
            val out = RelaySend({ other }, tempDir("relay-other-share-")).export(id) as RelaySend.Outcome.Ready
            id to out.file
        }

    private fun importScreen(intent: Intent): RelayImportActivity {
        val a = Robolectric.buildActivity(RelayImportActivity::class.java, intent).setup().get()
        idle()
        return a
    }

    @Test
    fun `Kirim lewat relawan explains, then shares the bundle with the relay type, the app's URI and a read grant`() {
        val reportId = app.services.reporter.queue("CONTOH SINTETIS: kirim lewat relawan")
        val outbox = Robolectric.buildActivity(OutboxActivity::class.java).setup().get()
        val button = views(outbox.window.decorView).single { it.tag == "relay:$reportId" } as TextView
        assertEquals("Kirim lewat relawan", button.text.toString())
        assertTrue(button.performClick())
        idle()

        val dialog = ShadowAlertDialog.getLatestAlertDialog() as AlertDialog
        val message = shadowOf(dialog).message.toString()
        assertTrue(message, message.startsWith(Relay.info.explanationId))
        assertTrue(message, message.contains(Relay.info.explanationEn))
        assertTrue(message, message.contains("tetap terkirim dari ponsel ini juga"))
        assertTrue(dialog.getButton(AlertDialog.BUTTON_POSITIVE).performClick())
        idle()

        val chooser = shadowOf(outbox).nextStartedActivity
        assertEquals(Intent.ACTION_CHOOSER, chooser.action)
        @Suppress("DEPRECATION")
        val send = chooser.getParcelableExtra<Intent>(Intent.EXTRA_INTENT)!!
        assertEquals(Intent.ACTION_SEND, send.action)
        assertEquals("application/vnd.berani.relay", send.type)
        val name = Relay.fileName(reportId)
        @Suppress("DEPRECATION")
        assertEquals(BeraniFileProvider.relayUri(app, name), send.getParcelableExtra(Intent.EXTRA_STREAM))
        assertEquals(Uri.parse("content://${BeraniFileProvider.authority(app)}/relay/$name"), send.clipData!!.getItemAt(0).uri)
        assertTrue(send.flags and Intent.FLAG_GRANT_READ_URI_PERMISSION != 0)
        assertTrue(send.flags and Intent.FLAG_GRANT_WRITE_URI_PERMISSION == 0)

        // What the receiving app reads through the provider is the bundle, read-only.
        val provider = Robolectric.setupContentProvider(BeraniFileProvider::class.java, BeraniFileProvider.authority(app))
        val uri = BeraniFileProvider.relayUri(app, name)
        assertEquals(Relay.MIME_TYPE, provider.getType(uri))
        val file = File(BeraniFileProvider.relayDir(app), name)
        provider.openFile(uri, "r").use { fd ->
            assertEquals(file.readBytes().toList(), java.io.FileInputStream(fd.fileDescriptor).readBytes().toList())
        }
        try {
            provider.openFile(uri, "rw")
            error("a bundle opened for writing")
        } catch (_: SecurityException) {
        }
        // The bundle checks out on another phone of the agency.
        IntakeServer.shared.home(tempDir("relay-check-")).use { v -> assertEquals(reportId, v.relayInspect(file.path).reportId) }
    }

    @Test
    fun `a bundle shared to Berani is asked about, imported on yes, scheduled and listed as Titipan relawan`() {
        val (reportId, bundle) = bundleFromAnotherPhone()
        // The sending app's content provider (Bluetooth, WhatsApp) cannot run here: Robolectric's
        // resolver hands out the bundle's bytes for its URI instead.
        val uri = Uri.parse("content://com.example.bluetooth.files/received/42")
        shadowOf(app.contentResolver).registerInputStreamSupplier(uri) { bundle.inputStream() }
        val intent = Intent(Intent.ACTION_SEND).setType(Relay.MIME_TYPE).putExtra(Intent.EXTRA_STREAM, uri)
            .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)

        val screen = importScreen(intent)
        assertTrue(screen.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        assertNotNull(screen.findViewById<View>(R.id.quick_exit))
        val asked = screen.carry.state as RelayCarry.State.Confirm
        val texts = screen.texts()
        assertTrue(texts.toString(), texts.contains("Bawa laporan ini?"))
        val agency = app.services.profile()!!.agencyName
        assertTrue(texts.toString(), texts.contains("1 bagian, ${Relay.size(asked.bundle.bytes)}, untuk $agency"))
        assertTrue(texts.toString(), texts.contains(Relay.explanation().both()))
        assertFalse("nothing of the report is shown", texts.any { it.contains("CONTOH") || it.contains("fisik", ignoreCase = true) })
        assertTrue(app.services.reporter.outbox().isEmpty())

        assertTrue(screen.findViewById<View>(R.id.relay_yes)!!.performClick())
        idle()
        assertTrue(screen.texts().toString(), screen.texts().contains("Diterima. Laporan ini terkirim saat ada sinyal. Di Laporan saya, laporan ini tertulis Titipan relawan."))
        val carried = app.services.reporter.outbox().single()
        assertEquals(reportId, carried.id)
        assertTrue(carried.carried)
        assertNotNull(app.getSystemService(JobScheduler::class.java)!!.allPendingJobs.singleOrNull { it.id == DeliveryScheduler.JOB_ID })

        val outbox = Robolectric.buildActivity(OutboxActivity::class.java).setup().get()
        val shown = outbox.texts()
        assertTrue(shown.toString(), shown.contains("Titipan relawan"))
        assertTrue(shown.toString(), shown.contains("menunggu sinyal"))
        assertFalse(shown.toString(), shown.any { it.contains("Kekerasan fisik") || it.contains("CONTOH") })

        // Opened again (from Files): already here, and yes changes nothing.
        val again = importScreen(Intent(Intent.ACTION_VIEW).setDataAndType(Uri.fromFile(bundle), Relay.MIME_TYPE))
        assertTrue(again.texts().contains("Laporan ini sudah ada di ponsel ini. Tidak ada yang berubah."))
        assertTrue(again.findViewById<View>(R.id.relay_yes)!!.performClick())
        idle()
        assertEquals(1, app.services.reporter.outbox().size)
    }

    @Test
    fun `a changed bundle is refused in Indonesian and English and nothing is stored`() {
        val (_, bundle) = bundleFromAnotherPhone()
        val bytes = bundle.readBytes()
        val manifestSize = String(bytes, 124, 11, Charsets.US_ASCII).trim().toInt(8)
        val part = 512 + (manifestSize + 511) / 512 * 512 + 512
        val changed = File(tempDir("relay-changed-"), "laporan.berani").apply {
            writeBytes(bytes.copyOf().also { it[part + 7] = (it[part + 7].toInt() xor 0x40).toByte() })
        }
        val screen = importScreen(Intent(Intent.ACTION_VIEW).setDataAndType(Uri.fromFile(changed), "application/octet-stream"))
        assertTrue(screen.texts().contains("File tidak diterima"))
        val refused = views(screen.window.decorView).single { it.tag == "relay:refused" } as TextView
        val words = refused.text.toString()
        assertTrue(words, words.startsWith("File titipan rusak atau diubah: `parts/0.age`"))
        assertTrue(words, words.contains("the bundle is damaged or was changed: `parts/0.age`"))
        assertEquals(null, screen.findViewById<View>(R.id.relay_yes))
        assertTrue(app.services.reporter.outbox().isEmpty())
        assertTrue(File(app.cacheDir, "relay-in").listFiles().orEmpty().isEmpty())

        // A file URI into Berani's own folders is never read.
        val own = File(app.filesDir, "berani/x.berani").apply { parentFile!!.mkdirs(); writeBytes(bundle.readBytes()) }
        val inside = importScreen(Intent(Intent.ACTION_VIEW).setDataAndType(Uri.fromFile(own), Relay.MIME_TYPE))
        assertTrue(inside.texts().toString(), inside.texts().any { it.startsWith("File tidak bisa dibaca. Minta dikirim ulang.") })
    }
}
