// The device-safety screens under Robolectric with the real core: a PIN set by typing in
// Settings, the disguise switching the launcher aliases, the locked app opening through the
// calculator, the PIN screen counting wrong PINs, the panic wipe from a long press on quick
// exit, and the new screens' FLAG_SECURE, labels and touch targets.
package id.berani.ui

import android.app.Activity
import android.app.AlertDialog
import android.content.ComponentName
import android.content.DialogInterface
import android.content.pm.PackageManager
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.EditText
import android.widget.TextView
import id.berani.R
import id.berani.core.pinStatus
import id.berani.platform.Disguise
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowDialog
import javax.xml.parsers.DocumentBuilderFactory
import org.w3c.dom.Element

@RunWith(RobolectricTestRunner::class)
class SafetyScreensTest {
    private val app: TestApp get() = RuntimeEnvironment.getApplication() as TestApp

    private fun <T : Activity> open(cls: Class<T>): T = Robolectric.buildActivity(cls).setup().get()
    private fun idle() = shadowOf(Looper.getMainLooper()).idle()
    private fun views(root: View): List<View> =
        if (root is ViewGroup) listOf(root) + (0 until root.childCount).flatMap { views(root.getChildAt(it)) } else listOf(root)
    private fun Activity.all(): List<View> = views(window.decorView)
    private fun Activity.texts(): List<String> = all().filterIsInstance<TextView>().map { it.text.toString() }
    private fun Activity.tapId(id: Int) {
        assertTrue(findViewById<View>(id)!!.performClick())
        idle()
    }
    private fun Activity.type(id: Int, words: String) = findViewById<EditText>(id)!!.setText(words)

    private fun enabled(name: String): Int = app.packageManager.getComponentEnabledSetting(ComponentName(app, name))

    private fun setPinInSettings(pin: String): SettingsActivity {
        val s = open(SettingsActivity::class.java)
        assertTrue(s.texts().contains("Pasang PIN dulu untuk bisa menyamarkan aplikasi."))
        s.type(R.id.pin_new, pin)
        s.type(R.id.pin_repeat, pin)
        s.tapId(R.id.pin_save)
        assertTrue(s.texts().toString(), s.texts().contains("PIN disimpan."))
        assertTrue(pinStatus(app.services.home.path).pinSet)
        return s
    }

    @Test
    fun `a PIN set in Settings, the disguise on, and the locked app opens through the calculator`() {
        app.services.reporter.createDraft()
        val s = setPinInSettings("97531")
        s.tapId(R.id.settings_disguise)
        assertTrue(app.services.settings.disguised)
        assertEquals(PackageManager.COMPONENT_ENABLED_STATE_ENABLED, enabled(Disguise.CALCULATOR))
        assertEquals(PackageManager.COMPONENT_ENABLED_STATE_DISABLED, enabled(Disguise.LAUNCHER))

        app.services.safety.lockNow()
        val home = open(HomeActivity::class.java)
        assertTrue(home.isFinishing)
        assertEquals(CalculatorActivity::class.java.name, shadowOf(home).nextStartedActivity.component!!.className)

        val calc = open(CalculatorActivity::class.java)
        assertTrue(calc.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        assertFalse("nothing of Berani on the calculator", calc.texts().any { it.contains("Berani") || it.contains("Keluar") })
        checkControls(calc)
        for (k in "12×3") calc.press(k)
        calc.tapId(R.id.calc_equals)
        assertEquals("36", calc.findViewById<TextView>(R.id.calc_display)!!.text.toString())
        for (k in "C11111") calc.press(k)
        calc.tapId(R.id.calc_equals)
        assertEquals("11111", calc.findViewById<TextView>(R.id.calc_display)!!.text.toString())
        assertEquals(1u, pinStatus(app.services.home.path).failedAttempts)
        assertTrue(app.services.safety.needsUnlock)
        for (k in "C97531") calc.press(k)
        calc.tapId(R.id.calc_equals)
        assertFalse(app.services.safety.needsUnlock)
        assertEquals(HomeActivity::class.java.name, shadowOf(calc).nextStartedActivity.component!!.className)
        assertEquals(1, app.services.reporter.drafts().size)

        // Removing the PIN turns the disguise off: Berani is back in the launcher.
        val again = open(SettingsActivity::class.java)
        again.type(R.id.pin_current, "97531")
        again.tapId(R.id.pin_remove)
        assertTrue(again.texts().contains("PIN dihapus."))
        assertFalse(app.services.settings.disguised)
        assertEquals(PackageManager.COMPONENT_ENABLED_STATE_ENABLED, enabled(Disguise.LAUNCHER))
        assertEquals(PackageManager.COMPONENT_ENABLED_STATE_DISABLED, enabled(Disguise.CALCULATOR))
    }

    @Test
    fun `the PIN screen says how many tries are left, then wipes and starts fresh`() {
        app.services.reporter.createDraft()
        setPinInSettings("2580")
        val settings = open(SettingsActivity::class.java)
        val three = settings.all().first { (it as? TextView)?.text == "Setelah 3 kali salah berturut-turut" }
        assertTrue(three.performClick())
        assertEquals(3u, pinStatus(app.services.home.path).wipeAfter)
        app.services.safety.lockNow()

        val lock = open(LockActivity::class.java)
        assertTrue(lock.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        checkControls(lock)
        lock.type(R.id.pin_input, "0000")
        lock.tapId(R.id.pin_unlock)
        assertTrue(lock.texts().toString(), lock.texts().contains("PIN salah. Jika salah 2 kali lagi, semua data Berani di ponsel ini dihapus."))
        lock.type(R.id.pin_input, "1111")
        lock.tapId(R.id.pin_unlock)
        lock.type(R.id.pin_input, "2222")
        lock.tapId(R.id.pin_unlock)
        assertTrue(lock.isFinishing)
        assertEquals(HomeActivity::class.java.name, shadowOf(lock).nextStartedActivity.component!!.className)
        assertFalse(pinStatus(app.services.home.path).pinSet)
        assertTrue(app.services.reporter.drafts().isEmpty())
    }

    @Test
    fun `a long press on quick exit asks once, wipes everything and leaves`() {
        app.services.reporter.createDraft()
        app.services.settings.volumeKeyExit = true
        // A voice note being recorded and a relay bundle on its way out live in the cache.
        val voice = java.io.File(app.cacheDir, "voice-1.m4a").apply { writeText("voice") }
        val bundle = java.io.File(app.cacheDir, "relay/x.berani").apply { parentFile!!.mkdirs(); writeText("sealed") }
        val home = open(HomeActivity::class.java)
        val exit = home.findViewById<View>(R.id.quick_exit)!!
        assertTrue(exit.performLongClick())
        idle()
        val dialog = ShadowDialog.getLatestDialog() as AlertDialog
        assertTrue(dialog.isShowing)
        // Nothing queued: only "delete everything" and "cancel".
        assertEquals(View.GONE, dialog.getButton(DialogInterface.BUTTON_POSITIVE).visibility)
        dialog.getButton(DialogInterface.BUTTON_NEGATIVE).performClick()
        idle()
        assertTrue(home.isFinishing)
        assertTrue(app.services.reporter.drafts().isEmpty())
        assertFalse(app.services.settings.volumeKeyExit)
        assertFalse(voice.exists())
        assertFalse(bundle.exists())
        assertTrue(app.cacheDir.listFiles()!!.isEmpty())
    }

    @Test
    fun `the safety guidance is in plain words, in both languages`() {
        val g = open(GuidanceActivity::class.java)
        assertTrue(g.window.attributes.flags and WindowManager.LayoutParams.FLAG_SECURE != 0)
        checkControls(g)
        assertTrue(g.texts().containsAll(listOf("Keamanan ponsel", "Menyembunyikan aplikasi", "Keluar cepat", "Ponsel bisa diawasi", "Pakai ponsel lain")))
        app.services.settings.language = id.berani.present.Language.EN
        val en = open(GuidanceActivity::class.java)
        assertTrue(en.texts().containsAll(listOf("Phone safety", "Hiding the app", "Quick exit", "The phone may be watched", "Use another phone")))
        checkControls(open(SettingsActivity::class.java))
    }

    @Test
    fun `the manifest has exactly the two launcher aliases the disguise switches`() {
        val doc = DocumentBuilderFactory.newInstance().apply { isNamespaceAware = true }.newDocumentBuilder()
            .parse(id.berani.ResStrings.res.resolveSibling("AndroidManifest.xml").toFile())
        val ns = "http://schemas.android.com/apk/res/android"
        val aliases = doc.getElementsByTagName("activity-alias").let { l -> (0 until l.length).map { l.item(it) as Element } }
        val byName = aliases.associateBy { "id.berani" + it.getAttributeNS(ns, "name") }
        assertEquals(setOf(Disguise.LAUNCHER, Disguise.CALCULATOR), byName.keys)
        assertEquals("true", byName.getValue(Disguise.LAUNCHER).getAttributeNS(ns, "enabled"))
        assertEquals("false", byName.getValue(Disguise.CALCULATOR).getAttributeNS(ns, "enabled"))
        assertEquals(".ui.CalculatorActivity", byName.getValue(Disguise.CALCULATOR).getAttributeNS(ns, "targetActivity"))
        assertEquals("@drawable/ic_calculator", byName.getValue(Disguise.CALCULATOR).getAttributeNS(ns, "icon"))
        assertEquals("@string/calc_name", byName.getValue(Disguise.CALCULATOR).getAttributeNS(ns, "label"))
        for (a in aliases) assertTrue(a.getElementsByTagName("category").item(0).let { (it as Element).getAttributeNS(ns, "name") } == "android.intent.category.LAUNCHER")
        // No other launcher entry: the activities themselves have none.
        val launchers = doc.getElementsByTagName("category").let { l -> (0 until l.length).count { (l.item(it) as Element).getAttributeNS(ns, "name") == "android.intent.category.LAUNCHER" } }
        assertEquals(2, launchers)
        assertEquals("Kalkulator", id.berani.ResStrings.ID["calc_name"])
        assertEquals("Calculator", id.berani.ResStrings.EN["calc_name"])
    }

    /** Every clickable view has a TalkBack label and is at least 48 dp tall; all text is in sp. */
    private fun checkControls(a: Activity) {
        val min = (48 * a.resources.displayMetrics.density).toInt()
        val clickable = a.all().filter { it.isClickable }
        assertTrue(clickable.size >= 3)
        for (v in clickable) {
            val label = v.contentDescription?.toString() ?: (v as? TextView)?.text?.toString()
            assertTrue("${a.javaClass.simpleName}: ${v.javaClass.simpleName} without a label", !label.isNullOrBlank())
            assertTrue("${a.javaClass.simpleName}: \"$label\" is ${v.minimumHeight}px < 48dp", v.minimumHeight >= min)
        }
        for (t in a.all().filterIsInstance<TextView>()) {
            assertEquals("${a.javaClass.simpleName}: \"${t.text}\"", android.util.TypedValue.COMPLEX_UNIT_SP, t.textSizeUnit)
        }
    }
}
