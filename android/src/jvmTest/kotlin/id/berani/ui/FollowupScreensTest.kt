// The follow-up screens under Robolectric, with the real core (JNA), a live berani-server and
// the team's side on the case desk over HTTP: My reports → the report screen with its status
// timeline and the team's message → a reply typed and sent through the outbox → the copy
// removed after delivery; and "Cek laporan dengan kode" on a freshly installed app: a mistyped
// code refused with the core's words, then the right code opening the report. FLAG_SECURE,
// labels, 48 dp and sp on the new screens; the Settings switch for forgetting after delivery.
package id.berani.ui

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.EditText
import android.widget.TextView
import id.berani.IntakeServer
import id.berani.R
import id.berani.core.Category
import id.berani.core.ReportState
import id.berani.present.SendProgress
import id.berani.present.SyncRunner
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

@RunWith(RobolectricTestRunner::class)
class FollowupScreensTest {
    private val app: TestApp get() = RuntimeEnvironment.getApplication() as TestApp
    private val server = IntakeServer.shared

    private fun <T : Activity> open(cls: Class<T>, intent: Intent? = null): T =
        (if (intent == null) Robolectric.buildActivity(cls) else Robolectric.buildActivity(cls, intent)).setup().get().also { idle() }

    private fun idle() = shadowOf(Looper.getMainLooper()).idle()
    private fun views(root: View): List<View> =
        if (root is ViewGroup) listOf(root) + (0 until root.childCount).flatMap { views(root.getChildAt(it)) } else listOf(root)
    private fun Activity.all(): List<View> = views(window.decorView)
    private fun Activity.texts(): List<String> = all().filterIsInstance<TextView>().map { it.text.toString() }
    private fun Activity.tapId(id: Int) {
        assertTrue(findViewById<View>(id)!!.performClick())
        idle()
    }
    private fun Activity.has(prefix: String) = texts().any { it.startsWith(prefix) }

    /** A report submitted and delivered from the app's own home; returns its id. */
    private fun delivered(): String {
        val r = app.services.reporter
        assertNotNull(app.services.ensureProfile())
        val d = r.createDraft().id
        r.setCategory(d, Category.SEXUAL)
        r.setDistrict(d, r.districts().first().code)
        r.setDescription(d, "CONTOH SINTETIS: laporan untuk layar tindak lanjut")
        val id = r.submit(d).id
        app.services.sync.run(120u, SendProgress(listOf(id)))
        assertEquals(ReportState.DELIVERED, r.outbox().single().state)
        return id
    }

    @Test
    fun `My reports opens the report, shows status and the team's message, and a reply is sent`() {
        val rid = delivered()
        val team = "CONTOH SINTETIS: Kami akan datang besok pagi."
        server.desk.reply(rid, team)

        val outbox = open(OutboxActivity::class.java)
        val openButton = outbox.all().single { it.tag == "open:$rid" }
        assertTrue(openButton.performClick())
        val next = shadowOf(outbox).nextStartedActivity
        assertEquals(ReportActivity::class.java.name, next.component!!.className)
        assertEquals(rid, next.getStringExtra(ReportActivity.EXTRA_REPORT_ID))

        val screen = open(ReportActivity::class.java, next)
        assertTrue(screen.texts().toString(), screen.has("✓  Terkirim, diterima kantor: "))
        assertTrue(screen.texts().toString(), screen.has("✓  Status: Diterima (dicek "))
        assertTrue(screen.texts().contains("Laporan sudah sampai dan menunggu petugas."))
        assertTrue(screen.texts().contains(team))
        assertTrue(screen.has("Petugas, "))
        assertTrue(screen.has("Kode laporan: "))
        assertTrue("no please-wait once loaded", screen.all().none { it.tag == "wait" })

        val answer = "CONTOH SINTETIS: Baik, saya tunggu."
        screen.findViewById<EditText>(R.id.report_reply_input)!!.setText(answer)
        screen.tapId(R.id.report_reply_send)
        assertTrue(screen.texts().contains("Balasan disimpan dan terkirim sendiri saat ada sinyal."))
        assertTrue(screen.texts().contains(answer))
        assertEquals("", screen.findViewById<EditText>(R.id.report_reply_input)!!.text.toString())
        // "Send now" runs the sync on its own thread against the live server.
        val deadline = System.currentTimeMillis() + 60_000
        while (app.services.reporter.queuedMessages() > 0u || app.services.sync.isRunning) {
            assertTrue("the reply was not sent in time", System.currentTimeMillis() < deadline)
            Thread.sleep(100)
        }
        screen.tapId(R.id.report_refresh)
        assertTrue(screen.texts().contains(answer))
        assertTrue("sent now", screen.texts().none { it.contains("menunggu dikirim") })
        assertTrue(server.desk.casePage(rid).contains(answer))

        // Remove the copy after delivery: asked once, then done; the thread stays.
        screen.tapId(R.id.report_forget)
        val dialog = ShadowAlertDialog.getLatestAlertDialog()!!
        assertTrue(shadowOf(dialog).message.toString().startsWith("Hapus isi laporan ini dari ponsel?"))
        dialog.getButton(AlertDialog.BUTTON_POSITIVE).performClick()
        idle()
        assertTrue(screen.texts().contains("Salinan laporan sudah dihapus. Kode dan tanda terima tetap ada."))
        assertTrue(screen.texts().contains("Isi laporan sudah dihapus dari ponsel ini."))
        assertTrue(screen.findViewById<View>(R.id.report_forget) == null)
        assertTrue(app.services.reporter.outbox().single().parts.isEmpty())
        assertTrue(screen.texts().contains(team))

        checkScreen(screen)
    }

    @Test
    fun `the code screen refuses a typo and opens the report on a freshly installed app`() {
        val (rid, code) = server.home(tempDir("other-phone-")).use { other ->
            val d = other.createDraft().id
            other.setCategory(d, Category.NEGLECT)
            other.setDistrict(d, other.districts().first().code)
            other.setDescription(d, "CONTOH SINTETIS: dari ponsel lain")
            val id = other.submit(d).id
            SyncRunner { other }.run(120u, SendProgress(listOf(id)))
            id to other.receiptCode(id)!!.code
        }
        // This app has never seen the report.
        assertNotNull(app.services.ensureProfile())
        assertTrue(app.services.reporter.outbox().isEmpty())

        val home = open(HomeActivity::class.java)
        home.tapId(R.id.home_check_code)
        assertEquals(CheckCodeActivity::class.java.name, shadowOf(home).nextStartedActivity.component!!.className)
        val c = open(CheckCodeActivity::class.java)
        assertTrue(c.texts().contains("Cek laporan dengan kode"))
        val chars = code.toCharArray()
        chars[3] = if (chars[3] == '7') '8' else '7'
        c.findViewById<EditText>(R.id.check_code_input)!!.setText(String(chars))
        c.tapId(R.id.check_code_button)
        val problem = c.all().single { it.tag == "problem" } as TextView
        assertTrue(problem.text.toString(), problem.text.startsWith("Kode laporan"))
        assertEquals("the typed code stays to correct", String(chars), c.findViewById<EditText>(R.id.check_code_input)!!.text.toString())
        assertTrue(c.all().none { it.tag == "wait" })
        // The "please wait" line is drawn while the check runs.
        c.check.begin()
        c.refresh()
        assertEquals("Mohon tunggu… kode sedang diperiksa. Ini bisa memakan beberapa detik.", (c.all().single { it.tag == "wait" } as TextView).text.toString())
        assertFalse(c.findViewById<View>(R.id.check_code_button)!!.isEnabled)

        val d = open(CheckCodeActivity::class.java)
        d.findViewById<EditText>(R.id.check_code_input)!!.setText(code.lowercase().replace("-", " "))
        d.tapId(R.id.check_code_button)
        val next = shadowOf(d).nextStartedActivity
        assertEquals(ReportActivity::class.java.name, next.component!!.className)
        assertEquals(rid, next.getStringExtra(ReportActivity.EXTRA_REPORT_ID))
        val screen = open(ReportActivity::class.java, next)
        assertTrue(screen.texts().toString(), screen.has("✓  Status: Diterima (dicek "))
        assertTrue(screen.texts().contains("Kode laporan: $code"))
        assertNotNull("a reply box on the fresh phone", screen.findViewById<EditText>(R.id.report_reply_input))
        assertTrue("nothing of the report itself to forget here", screen.findViewById<View>(R.id.report_forget) == null)
        checkScreen(c)
        checkScreen(screen)
    }

    @Test
    fun `the settings switch turns forgetting after delivery on and off`() {
        app.services.ensureProfile()
        val s = open(SettingsActivity::class.java)
        assertFalse(app.services.reporter.forgetAfterDelivery())
        assertTrue(s.texts().contains("Hapus salinan setelah terkirim"))
        s.tapId(R.id.settings_forget)
        assertTrue(app.services.reporter.forgetAfterDelivery())
        assertTrue(s.findViewById<View>(R.id.settings_forget)!!.isSelected)
        s.tapId(R.id.settings_forget)
        assertFalse(app.services.reporter.forgetAfterDelivery())
    }

    /** FLAG_SECURE; every clickable view labelled and at least 48 dp tall; text sizes in sp. */
    private fun checkScreen(a: Activity) {
        assertTrue(a.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        val min = (48 * a.resources.displayMetrics.density).toInt()
        for (v in a.all().filter { it.isClickable }) {
            val label = v.contentDescription?.toString() ?: (v as? TextView)?.text?.toString()
            assertTrue("${a.javaClass.simpleName}: ${v.javaClass.simpleName} without a label", !label.isNullOrBlank())
            assertTrue("${a.javaClass.simpleName}: \"$label\" is ${v.minimumHeight}px < 48dp", v.minimumHeight >= min)
        }
        for (t in a.all().filterIsInstance<TextView>()) {
            assertEquals("${a.javaClass.simpleName}: \"${t.text}\"", android.util.TypedValue.COMPLEX_UNIT_SP, t.textSizeUnit)
        }
    }
}
