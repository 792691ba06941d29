// Device safety on the JVM with the real core (JNA): the calculator disguise computes and
// unlocks with the PIN and "=", wrong PINs are counted and wipe the home at the limit (key,
// wrapped key and database gone), the PIN set, changed and removed through the presenter, the
// panic wipe keeping only queued reports when asked, and the background auto-lock.
package id.berani.present

import id.berani.IntakeServer
import id.berani.MemoryKeyStore
import id.berani.R
import id.berani.core.BeraniException
import id.berani.core.Reporter
import id.berani.core.ReportState
import id.berani.core.pinStatus
import id.berani.platform.WrappedKeyFile
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Test
import java.io.File
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

class SafetyTest {
    private fun calc(c: Calculator, keys: String): CalcResult {
        var last = CalcResult.SHOWN
        for (k in keys) last = c.press(k)
        return last
    }

    /** A device key store as on a phone (WrappedKeyFile), with a software AES key as the Keystore. */
    private class SoftKeystore(dir: File) {
        var key: SecretKey? = null
        var deletions = 0
        val file = File(dir, "device.key.wrapped")
        val store = WrappedKeyFile(file, deleteWrappingKey = { deletions++; key = null }) { create ->
            key ?: if (create) KeyGenerator.getInstance("AES").apply { init(256) }.generateKey().also { key = it } else null
        }
    }

    @Test
    fun `the calculator calculates, with x and divide before plus and minus`() {
        val c = Calculator(null)
        calc(c, "12+7×3=")
        assertEquals("33", c.display)
        calc(c, "C10÷4=")
        assertEquals("2.5", c.display)
        calc(c, "−2=") // the result stays and can be used further
        assertEquals("0.5", c.display)
        calc(c, "C7−9=")
        assertEquals("−2", c.display)
        calc(c, "×3=")
        assertEquals("−6", c.display)
        calc(c, "C1÷0=")
        assertEquals(Calculator.ERROR, c.display)
        calc(c, "C0.1+0.2=")
        assertEquals("0.3", c.display)
        calc(c, "C12⌫3")
        assertEquals("13", c.display)
        calc(c, "=9") // after "=", a digit starts a new number
        assertEquals("9", c.display)
        calc(c, "C5+×2=") // a second operator replaces the first
        assertEquals("10", c.display)
        // With no PIN set, digits and "=" are only a number.
        assertEquals(CalcResult.SHOWN, calc(c, "C2468="))
        assertEquals("2468", c.display)
    }

    @Test
    fun `the PIN then = opens Berani, a wrong PIN is calculated and counted`() {
        val dir = tempDir("calc-unlock-")
        val home = File(dir, "berani")
        val keys = MemoryKeyStore()
        val settings = AppSettings(MemoryKeyValue())
        val safety = Safety(home, keys, settings)
        safety.reporter().createDraft()
        assertNull(safety.changePin(null, "2468", "2468"))
        // A new process: the home is closed, a PIN is needed.
        val fresh = Safety(home, keys, settings)
        assertTrue(fresh.needsUnlock)
        try {
            fresh.reporter()
            fail("opened without the PIN")
        } catch (_: BeraniException.WrongPin) {
        }
        val c = Calculator { fresh.unlock(it) }
        assertEquals(CalcResult.SHOWN, calc(c, "1357="))
        assertEquals("1357", c.display)
        assertEquals(1u, pinStatus(home.path).failedAttempts)
        // Sums with the PIN's digits are not PIN attempts.
        calc(c, "C2468+1=")
        assertEquals("2469", c.display)
        assertEquals(1u, pinStatus(home.path).failedAttempts)
        assertTrue(fresh.needsUnlock)
        assertEquals(CalcResult.UNLOCKED, calc(c, "C2468="))
        assertEquals("0", c.display)
        assertFalse(fresh.needsUnlock)
        assertEquals(1, fresh.reporter().drafts().size)
        assertEquals(0u, pinStatus(home.path).failedAttempts) // a right PIN resets the count
    }

    @Test
    fun `wrong PINs wipe the home at the limit, the Keystore key included`() {
        val dir = tempDir("pin-wipe-")
        val home = File(dir, "berani")
        val ks = SoftKeystore(dir)
        val settings = AppSettings(MemoryKeyValue())
        settings.language = Language.EN
        val safety = Safety(home, ks.store, settings)
        var wiped = 0
        safety.afterWipe = { wiped++ }
        val r = safety.reporter()
        val d = r.createDraft()
        r.setDescription(d.id, "CONTOH SINTETIS: rahasia")
        assertNull(safety.changePin(null, "24680", "24680"))
        assertNull(safety.changeWipeAfter(3))
        settings.disguised = true
        r.close()
        assertTrue(File(home, "berani.db").exists())
        assertTrue(File(home, "device-key.wrap").exists())
        assertTrue(ks.file.exists())

        val fresh = Safety(home, ks.store, settings).also { it.afterWipe = { wiped++ } }
        val c = Calculator { fresh.unlock(it) }
        assertEquals(CalcResult.SHOWN, calc(c, "1111="))
        assertEquals(Unlock.Wrong(2, 1), fresh.unlock("2222"))
        assertEquals(0, wiped)
        assertEquals(CalcResult.WIPED, calc(c, "3333="))
        assertEquals("3333", c.display) // the calculator still just shows the number
        assertEquals(1, wiped)
        // The key and the database are gone, the Keystore key too; the home holds nothing.
        assertFalse(File(home, "berani.db").exists())
        assertFalse(File(home, "device-key.wrap").exists())
        assertFalse(ks.file.exists())
        assertEquals(1, ks.deletions)
        assertNull(ks.key)
        assertTrue(home.listFiles().orEmpty().isEmpty())
        // First-run state: no PIN, no disguise, default language; a new empty home opens.
        assertFalse(pinStatus(home.path).pinSet)
        assertFalse(settings.disguised)
        assertEquals(Language.ID, settings.language)
        assertFalse(fresh.needsUnlock)
        assertTrue(fresh.reporter().drafts().isEmpty())
    }

    @Test
    fun `the PIN is set, changed and removed through the presenter`() {
        val home = File(tempDir("pin-set-"), "berani")
        val keys = MemoryKeyStore()
        val settings = AppSettings(MemoryKeyValue())
        val safety = Safety(home, keys, settings)
        safety.reporter().createDraft()
        assertFalse(safety.pinSet)
        assertEquals(Problem.App(text(R.string.pin_mismatch)), safety.changePin(null, "1234", "1243"))
        val format = safety.changePin(null, "12a", "12a")
        assertTrue("$format", format is Problem.FromCore)
        assertFalse(safety.pinSet)
        assertNull(safety.changePin(null, "1234", "1234"))
        assertTrue(safety.pinSet)
        assertWrongPin { Reporter.openWithPin(home.path, keys, null) }
        assertEquals(1, Reporter.openWithPin(home.path, keys, "1234").use { it.drafts().size })

        assertEquals(Problem.App(text(R.string.pin_wrong_current)), safety.changePin("9999", "5678", "5678"))
        assertNull(safety.changePin("1234", "5678", "5678"))
        assertWrongPin { Reporter.openWithPin(home.path, keys, "1234") }
        assertEquals(1, Reporter.openWithPin(home.path, keys, "5678").use { it.drafts().size })

        settings.disguised = true
        assertEquals(Problem.App(text(R.string.pin_wrong_current)), safety.changePin("1234", null, null))
        assertNull(safety.changePin("5678", null, null))
        assertFalse(safety.pinSet)
        assertFalse("no disguise without a PIN", settings.disguised)
        assertEquals(1, Reporter.openWithPin(home.path, keys, null).use { it.drafts().size })
    }

    private fun assertWrongPin(open: () -> Reporter) {
        try {
            open().close()
            fail("opened with a wrong PIN")
        } catch (_: BeraniException.WrongPin) {
        }
    }

    @Test
    fun `the panic wipe keeps only the queued reports when asked, and they still go`() {
        val server = IntakeServer.shared
        val home = File(tempDir("panic-"), "berani")
        val keys = MemoryKeyStore()
        val settings = AppSettings(MemoryKeyValue())
        val safety = Safety(home, keys, settings)
        assertNull(safety.changePin(null, "8642", "8642"))
        assertEquals(Unlock.Opened, safety.unlock("8642"))
        val r = safety.reporter()
        kotlinx.coroutines.runBlocking { r.importProfileUrl(server.url, server.profileKey) }
        val w = Wizard(r, settings)
        w.open()
        w.chooseCategory(id.berani.core.Category.PHYSICAL)
        w.chooseDistrict(r.districts().first().code)
        w.setDescription("CONTOH SINTETIS: antre")
        assertTrue(w.submit() is SubmitResult.Queued)
        r.createDraft() // an unfinished draft, which must go
        settings.volumeKeyExit = true

        val out = safety.wipe(keepSending = true)
        assertEquals(1u, out.keptReports)
        assertFalse(settings.volumeKeyExit)
        assertFalse(pinStatus(home.path).pinSet)
        val after = safety.reporter()
        assertTrue(after.drafts().isEmpty())
        assertEquals(listOf(ReportState.QUEUED), after.outbox().map { it.state })
        // Delivered after the wipe, under the new key.
        val summary = SyncRunner { after }.run(60u, SendProgress(emptyList()))
        assertEquals(0u, summary.pending)
        assertEquals(ReportState.DELIVERED, after.outbox().single().state)

        safety.wipe(keepSending = false)
        assertTrue(safety.reporter().outbox().isEmpty())
    }

    @Test
    fun `the screens lock after a minute in the background when a PIN is set`() {
        var now = 1_000_000L
        val home = File(tempDir("autolock-"), "berani")
        val safety = Safety(home, MemoryKeyStore(), AppSettings(MemoryKeyValue()), clock = { now })
        safety.wentToBackground()
        now += 10 * 60_000
        assertFalse("no PIN, no lock", safety.cameToForeground())
        safety.reporter() // the app is open when the PIN is set
        assertNull(safety.changePin(null, "1234", "1234"))
        safety.wentToBackground()
        now += Safety.AUTO_LOCK_MS - 1
        assertFalse(safety.cameToForeground())
        safety.wentToBackground()
        now += Safety.AUTO_LOCK_MS
        assertTrue(safety.cameToForeground())
        assertTrue(safety.needsUnlock)
        // Locked screens keep the home open, so delivery goes on.
        safety.reporter().outbox()
        assertTrue(safety.unlock("1234") == Unlock.Opened)
        assertFalse(safety.needsUnlock)
    }

    @Test
    fun `keep metadata is off by default, applies to one file, and comes with the core's warning`() {
        IntakeServer.shared.home(tempDir("keep-meta-")).use { r ->
            val w = Wizard(r, AppSettings(MemoryKeyValue()))
            w.open()
            assertFalse(w.keepMetadataNext)
            val photo = id.berani.TestPaths.fixtures.resolve("photo.jpg").toString()
            assertNull(w.attach(photo, voiceNote = false))
            assertTrue(w.keptMetadata.isEmpty())
            w.keepMetadataNext = true
            assertNull(w.attach(photo, voiceNote = false))
            assertEquals(2, w.draft.attachments.size)
            assertEquals(setOf(w.draft.attachments.map { it.id }.last { it in w.keptMetadata }), w.keptMetadata)
            assertFalse("only for that one file", w.keepMetadataNext)
            val warning = id.berani.core.keepMetadataWarning()
            assertEquals(warning.id, w.keepMetadataWarning(Language.ID))
            assertEquals(warning.en, w.keepMetadataWarning(Language.EN))
            assertTrue(warning.id.isNotBlank() && warning.id != warning.en)
        }
    }
}
