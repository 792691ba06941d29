// The Activities under Robolectric, with the real core (JNA) and a live berani-server: walk
// the wizard by tapping, submit, watch the report reach "terkirim ✓" in My reports; the
// emergency numbers first when someone is in danger; FLAG_SECURE and the quick exit on every
// screen; touch targets and TalkBack labels; language switch; sharing; the delivery job.
package id.berani.ui

import android.app.Activity
import android.app.job.JobInfo
import android.app.job.JobScheduler
import android.content.Intent
import android.os.Looper
import android.provider.OpenableColumns
import android.view.KeyEvent
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.EditText
import android.widget.TextView
import id.berani.R
import id.berani.core.ReportState
import id.berani.platform.BeraniFileProvider
import id.berani.platform.DeliveryScheduler
import id.berani.present.Language
import id.berani.present.Step
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import java.io.FileNotFoundException

@RunWith(RobolectricTestRunner::class)
class ScreensTest {
    private val app: TestApp get() = RuntimeEnvironment.getApplication() as TestApp

    private fun <T : Activity> open(cls: Class<T>, intent: Intent? = null): T =
        (if (intent == null) Robolectric.buildActivity(cls) else Robolectric.buildActivity(cls, intent)).setup().get()

    private fun idle() = shadowOf(Looper.getMainLooper()).idle()

    private fun views(root: View): List<View> =
        if (root is ViewGroup) listOf(root) + (0 until root.childCount).flatMap { views(root.getChildAt(it)) } else listOf(root)

    private fun Activity.all(): List<View> = views(window.decorView)
    private fun Activity.texts(): List<String> = all().filterIsInstance<TextView>().map { it.text.toString() }

    /** Taps the clickable view whose text or TalkBack label is (or, for cards, starts with) [words]. */
    private fun Activity.tap(words: String) {
        val v = all().firstOrNull { it.isClickable && ((it as? TextView)?.text?.toString() == words || it.contentDescription?.toString() == words) }
            ?: all().firstOrNull { it.isClickable && it.contentDescription?.toString()?.startsWith(words) == true }
            ?: error("nothing to tap named \"$words\" among ${texts()}")
        assertTrue(v.performClick())
        idle()
    }

    private fun Activity.tapId(id: Int) {
        assertTrue(findViewById<View>(id)!!.performClick())
        idle()
    }

    @Test
    fun `a report walked through the wizard by tapping is delivered and shown as sent`() {
        val home = open(HomeActivity::class.java)
        assertTrue(home.texts().contains("Laporkan kekerasan"))
        home.tapId(R.id.home_report)
        assertEquals(WizardActivity::class.java.name, shadowOf(home).nextStartedActivity.component!!.className)

        val w = open(WizardActivity::class.java)
        assertTrue(w.texts().contains("Langkah 1 dari 9"))
        w.tapId(R.id.danger_no) // answers and moves on
        assertEquals(Step.WHAT, w.wizard.step)
        w.tap("Kekerasan fisik")
        assertEquals(Step.WHO, w.wizard.step)
        w.tap("Anak laki-laki")
        w.tap("13–17 tahun")
        w.tapId(R.id.wizard_next)
        assertEquals(Step.WHERE, w.wizard.step)
        w.findViewById<EditText>(R.id.where_search)!!.setText("cepu")
        w.tap("Cari")
        w.tap("Kecamatan Cepu")
        assertEquals("Cepu", w.wizard.districts().first { it.code == w.wizard.draft.district }.name)
        w.tapId(R.id.wizard_next)
        w.tap("Kemarin")
        w.tapId(R.id.wizard_next)
        assertEquals(Step.TELL, w.wizard.step)
        w.findViewById<EditText>(R.id.tell_text)!!.setText("CONTOH SINTETIS: dipukul di rumah")
        w.tapId(R.id.wizard_next) // saves the text
        // Back to the story: the words are there again, from the core's draft.
        w.tapId(R.id.wizard_back)
        assertEquals("CONTOH SINTETIS: dipukul di rumah", w.findViewById<EditText>(R.id.tell_text)!!.text.toString())
        w.tapId(R.id.wizard_next)
        w.tapId(R.id.wizard_next) // no photos
        assertEquals(Step.CONTACT, w.wizard.step)
        w.tapId(R.id.wizard_next) // anonymous
        assertEquals(Step.REVIEW, w.wizard.step)
        val review = w.texts()
        for (line in listOf("Kekerasan fisik", "Anak laki-laki", "13–17 tahun", "Tulisan, 33 huruf", "Tidak, saya tetap tanpa nama")) {
            assertTrue("$line in $review", review.contains(line))
        }
        w.tapId(R.id.wizard_send)
        val next = shadowOf(w).nextStartedActivity
        assertEquals(OutboxActivity::class.java.name, next.component!!.className)
        assertTrue(w.isFinishing)
        assertNull(app.services.settings.wizardDraftId)
        // The job is scheduled as soon as the report is queued.
        val job = app.getSystemService(JobScheduler::class.java)!!.allPendingJobs.single { it.id == DeliveryScheduler.JOB_ID }
        assertTrue(job.isPersisted)

        // "Send now" started with the submit; wait for the sync against the live server.
        val deadline = System.currentTimeMillis() + 60_000
        while (app.services.reporter.outbox().any { it.state != ReportState.DELIVERED }) {
            assertTrue("not delivered in time", System.currentTimeMillis() < deadline)
            Thread.sleep(100)
        }
        val outbox = open(OutboxActivity::class.java, next)
        val words = outbox.texts()
        assertTrue(words.toString(), words.contains("terkirim ✓"))
        assertTrue(words.toString(), words.contains("Kekerasan fisik"))
        assertTrue(words.toString(), words.any { it.startsWith("Kode tanda terima: ") })
        assertTrue(words.toString(), words.any { it.startsWith("Diterima kantor: ") })
        assertNull(outbox.findViewById<View>(R.id.outbox_send_now))
    }

    @Test
    fun `someone in danger brings the emergency numbers first and large, and they dial`() {
        val w = open(WizardActivity::class.java)
        assertFalse(w.texts().contains("Dalam bahaya? Hubungi sekarang"))
        w.tapId(R.id.danger_yes)
        assertTrue(w.wizard.draft.inDangerNow)
        val words = w.texts()
        val heading = words.indexOf("Dalam bahaya? Hubungi sekarang")
        assertTrue(heading >= 0)
        assertTrue(heading < words.indexOf("Langkah 1 dari 9"))
        val call = w.all().first { (it as? TextView)?.text == "Telepon 112" }
        assertTrue(call.minimumHeight >= (72 * w.resources.displayMetrics.density).toInt())
        w.tap("Telepon 112")
        val dial = shadowOf(w).nextStartedActivity
        assertEquals(Intent.ACTION_DIAL, dial.action)
        assertEquals("tel:112", dial.dataString)
        w.tap("WhatsApp SAPA 129")
        assertEquals("https://wa.me/628111129129", shadowOf(w).nextStartedActivity.dataString)
        // The agency's hotline from its profile is there too.
        w.tap("Telepon Dinsos P3A Blora")
        assertEquals("tel:0296123456", shadowOf(w).nextStartedActivity.dataString)
    }

    @Test
    fun `every screen is secure, has quick exit, and every control is big and labelled`() {
        val screens = listOf(
            HomeActivity::class.java, WizardActivity::class.java, OutboxActivity::class.java,
            EmergencyActivity::class.java, SettingsActivity::class.java, ShareActivity::class.java, GuidanceActivity::class.java,
        )
        for (cls in screens) {
            val a = open(cls)
            assertTrue(cls.simpleName, a.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
            checkControls(cls.simpleName, a)
            if (a is WizardActivity) {
                // Every question of the wizard, and the contact step with the number fields open.
                for (step in Step.entries) {
                    a.wizard.goTo(step)
                    a.refresh()
                    checkControls("${cls.simpleName} ${step.name}", a)
                }
                a.wizard.goTo(Step.CONTACT)
                a.refresh()
                a.tapId(R.id.contact_yes)
                assertNotNull(a.findViewById<View>(R.id.contact_consent))
                checkControls("${cls.simpleName} CONTACT with number", a)
            }
            val exit = a.findViewById<View>(R.id.quick_exit)
            assertNotNull(cls.simpleName, exit)
            assertEquals("Keluar cepat: tutup aplikasi sekarang dan hapus dari daftar aplikasi terbaru", exit!!.contentDescription)
            exit.performClick()
            assertTrue(cls.simpleName, a.isFinishing)
            assertTrue(shadowOf(a).nextStartedActivity.hasCategory(Intent.CATEGORY_HOME))
        }
    }

    /** Every clickable view has a TalkBack label and is at least 48 dp tall; all text is in sp. */
    private fun checkControls(screen: String, a: Activity) {
        val min = (48 * a.resources.displayMetrics.density).toInt()
        val clickable = a.all().filter { it.isClickable }
        assertTrue(screen, clickable.size >= 3)
        for (v in clickable) {
            val label = v.contentDescription?.toString() ?: (v as? TextView)?.text?.toString()
            assertTrue("$screen: ${v.javaClass.simpleName} without a label", !label.isNullOrBlank())
            assertTrue("$screen: \"$label\" is ${v.minimumHeight}px < 48dp", v.minimumHeight >= min)
        }
        for (t in a.all().filterIsInstance<TextView>()) {
            // Text sizes are in sp, so they grow with the reporter's font size.
            assertEquals("$screen: \"${t.text}\"", android.util.TypedValue.COMPLEX_UNIT_SP, t.textSizeUnit)
        }
    }

    @Test
    fun `settings switch to English and turn on the volume-key quick exit`() {
        val s = open(SettingsActivity::class.java)
        assertTrue(s.texts().contains("Bahasa"))
        s.tapId(R.id.settings_lang_en)
        assertEquals(Language.EN, app.services.settings.language)
        val again = open(SettingsActivity::class.java)
        assertTrue(again.texts().toString(), again.texts().containsAll(listOf("Language", "Settings", "Call 112")))
        again.tapId(R.id.settings_volume_exit)
        assertTrue(app.services.settings.volumeKeyExit)
        val home = open(HomeActivity::class.java)
        home.dispatchKeyEvent(KeyEvent(KeyEvent.ACTION_DOWN, KeyEvent.KEYCODE_VOLUME_DOWN))
        assertTrue(home.isFinishing)
    }

    @Test
    fun `share offers the app file, the link with its QR code, and keeps the volunteer code in the core`() {
        val s = open(ShareActivity::class.java)
        s.tapId(R.id.share_apk)
        val chooser = shadowOf(s).nextStartedActivity
        assertEquals(Intent.ACTION_CHOOSER, chooser.action)
        @Suppress("DEPRECATION")
        val send = chooser.getParcelableExtra<Intent>(Intent.EXTRA_INTENT)!!
        assertEquals("application/vnd.android.package-archive", send.type)
        @Suppress("DEPRECATION")
        assertEquals(BeraniFileProvider.apkUri(s), send.getParcelableExtra(Intent.EXTRA_STREAM))
        assertTrue(send.flags and Intent.FLAG_GRANT_READ_URI_PERMISSION != 0)
        assertTrue(s.texts().contains("https://lapor.example.go.id/unduh"))
        assertTrue(s.all().any { it.contentDescription == "Kode QR untuk tautan https://lapor.example.go.id/unduh" })

        s.findViewById<EditText>(R.id.volunteer_code)!!.setText("no spaces allowed")
        s.tapId(R.id.volunteer_save)
        assertTrue(s.texts().any { it.startsWith("Kode relawan") && it != "Kode relawan" })
        assertNull(app.services.reporter.volunteer())
        s.findViewById<EditText>(R.id.volunteer_code)!!.setText("0000-000")
        s.tapId(R.id.volunteer_save)
        assertEquals("000-0000", app.services.reporter.volunteer()!!.code)
    }

    @Test
    fun `the file provider serves the APK and refuses every other path`() {
        // Robolectric installs no APK: a stand-in file plays the installed app.
        val apk = java.io.File(id.berani.tempDir("apk-"), "base.apk").apply { writeBytes(ByteArray(1234) { it.toByte() }) }
        app.applicationInfo.sourceDir = apk.path
        val provider = Robolectric.setupContentProvider(BeraniFileProvider::class.java, BeraniFileProvider.authority(app))
        val uri = BeraniFileProvider.apkUri(app)
        assertEquals("application/vnd.android.package-archive", provider.getType(uri))
        provider.query(uri, null, null, null, null).use { c ->
            assertTrue(c.moveToFirst())
            assertEquals("Berani.apk", c.getString(c.getColumnIndexOrThrow(OpenableColumns.DISPLAY_NAME)))
            assertEquals(1234L, c.getLong(c.getColumnIndexOrThrow(OpenableColumns.SIZE)))
        }
        provider.openFile(uri, "r").use { fd ->
            assertEquals(apk.readBytes().toList(), java.io.FileInputStream(fd.fileDescriptor).readBytes().toList())
        }
        try {
            provider.openFile(uri, "w")
            error("the app file opened for writing")
        } catch (_: SecurityException) {
        }
        val other = android.net.Uri.parse("content://${BeraniFileProvider.authority(app)}/capture/../files/device.key.wrapped")
        assertNull(provider.getType(other))
        try {
            provider.openFile(other, "r")
            error("opened a path outside the provider")
        } catch (_: FileNotFoundException) {
        }
    }

    @Test
    fun `the delivery job needs a network, survives reboots and backs off exponentially`() {
        DeliveryScheduler.schedule(app)
        val job = app.getSystemService(JobScheduler::class.java)!!.allPendingJobs.single { it.id == DeliveryScheduler.JOB_ID }
        assertEquals(JobInfo.NETWORK_TYPE_ANY, @Suppress("DEPRECATION") job.networkType)
        assertTrue(job.isPersisted)
        assertEquals(JobInfo.BACKOFF_POLICY_EXPONENTIAL, job.backoffPolicy)
        assertEquals(30_000L, job.initialBackoffMillis)
    }
}
