// Device safety without Android: the app PIN (open through it, set, change, remove), the
// failed-PIN counter and its wipe, the panic wipe, and the background auto-lock.
//
// Every home is opened through the core's PIN layer (Reporter.openWithPin), so a PIN can be
// set at any time. The core keeps the PIN state in the home folder (device-key.wrap) and
// counts wrong PINs durably; this class only decides when to ask and what a wrong PIN means.
package id.berani.present

import id.berani.R
import id.berani.core.BeraniException
import id.berani.core.DeviceKeyStore
import id.berani.core.PinStatus
import id.berani.core.Reporter
import id.berani.core.WipeOutcome
import id.berani.core.pinFailed
import id.berani.core.pinStatus
import id.berani.core.setPin
import id.berani.core.setWipeAfter
import id.berani.core.wipeHome
import java.io.File

/** What typing a PIN did. */
sealed class Unlock {
    /** The PIN was right: the home is open. */
    data object Opened : Unlock()

    /** The PIN was wrong; [remaining] tries before the wipe, when "wipe after" is on. */
    data class Wrong(val attempts: Int, val remaining: Int?) : Unlock()

    /** That was the last allowed wrong PIN: everything was wiped, the app is new again. */
    data object Wiped : Unlock()

    /** The core could not check it (the key store failed); nothing was counted. */
    data class Failed(val problem: Problem) : Unlock()
}

class Safety(
    private val home: File,
    private val keys: DeviceKeyStore,
    private val settings: AppSettings,
    /** Milliseconds of a monotonic clock (SystemClock.elapsedRealtime on a phone). */
    private val clock: () -> Long = { System.nanoTime() / 1_000_000 },
    /** Stops any running delivery and waits for it (before the home is closed for a wipe). */
    private val stopSync: () -> Unit = {},
) {
    private val lock = Any()
    private var open: Reporter? = null

    /** The PIN typed at the last unlock, kept in memory only while the home is open (see [wipe]). */
    private var pin: String? = null

    /** When the app last went to the background, or null while it is shown. */
    private var backgroundSince: Long? = null

    /** The screens are locked: the PIN (or the calculator) must be passed again. */
    @Volatile var uiLocked: Boolean = false
        private set

    /** Called after any wipe, once the home is empty (the app resets its launcher and jobs). */
    var afterWipe: (() -> Unit)? = null

    fun status(): PinStatus = runCatching { pinStatus(home.path) }.getOrElse { PinStatus(false, 0u, null) }

    val pinSet: Boolean get() = status().pinSet

    /** The screens must ask for the PIN before showing anything. */
    val needsUnlock: Boolean get() = synchronized(lock) { pinSet && (open == null || uiLocked) }

    /**
     * The open home. Without a PIN it is opened on first use; with one it must have been
     * unlocked since the process started (throws `BeraniException.WrongPin` otherwise).
     * Auto-lock hides the screens but keeps the home open, so delivery goes on in the
     * background while the process lives.
     */
    fun reporter(): Reporter = synchronized(lock) {
        open ?: Reporter.openWithPin(home.path, keys, null).also { open = it }
    }

    /** Tries [typed] as the PIN. A wrong PIN is counted and may wipe everything ([Unlock.Wiped]). */
    fun unlock(typed: String): Unlock = synchronized(lock) {
        try {
            val r = Reporter.openWithPin(home.path, keys, typed)
            open?.close()
            open = r
            pin = typed
            uiLocked = false
            backgroundSince = null
            Unlock.Opened
        } catch (_: BeraniException.WrongPin) {
            counted()
        } catch (_: BeraniException) {
            Unlock.Failed(Problem.App(text(R.string.pin_error)))
        }
    }

    private fun counted(): Unlock = try {
        // If this wrong PIN is the last one allowed, the core wipes the home: close it first.
        val st = status()
        if (st.wipeAfter != null && st.failedAttempts + 1u >= st.wipeAfter) closeForWipe()
        val f = pinFailed(home.path, keys)
        if (f.wiped) {
            reset()
            Unlock.Wiped
        } else {
            Unlock.Wrong(f.failedAttempts.toInt(), f.remaining?.toInt())
        }
    } catch (_: BeraniException) {
        Unlock.Failed(Problem.App(text(R.string.pin_error)))
    }

    /**
     * Sets a first PIN, changes it, or removes it ([new] null). [current] must be the PIN in
     * force, if one is; [repeat] must equal [new]. Returns what is wrong, or null when done.
     */
    fun changePin(current: String?, new: String?, repeat: String?): Problem? = synchronized(lock) {
        if (new != null && new != repeat) return Problem.App(text(R.string.pin_mismatch))
        try {
            setPin(home.path, keys, current?.takeIf { it.isNotEmpty() }, new)
            pin = new
            if (new == null) settings.disguised = false
            null
        } catch (e: BeraniException.InvalidInput) {
            Problem.FromCore(e.messageId, e.messageEn)
        } catch (_: BeraniException.WrongPin) {
            Problem.App(text(R.string.pin_wrong_current))
        } catch (_: BeraniException.WrongState) {
            Problem.App(text(R.string.pin_old_home))
        } catch (_: BeraniException) {
            Problem.App(text(R.string.pin_error))
        }
    }

    /** Wipe after [attempts] wrong PINs in a row (3 at least), or never (null). Needs a PIN. */
    fun changeWipeAfter(attempts: Int?): Problem? = synchronized(lock) {
        val p = pin ?: return Problem.App(text(R.string.pin_error))
        try {
            setWipeAfter(home.path, keys, p, attempts?.toUInt())
            null
        } catch (_: BeraniException) {
            Problem.App(text(R.string.pin_error))
        }
    }

    /**
     * The panic wipe: delivery is stopped and the home closed first. With [keepSending], queued reports stay and keep going (the PIN typed at the
     * last unlock reopens the home for that); otherwise everything goes. Afterwards the app
     * is as on its first start: no PIN, no disguise, no settings.
     */
    fun wipe(keepSending: Boolean): WipeOutcome = synchronized(lock) {
        closeForWipe()
        try {
            wipeHome(home.path, keys, pin, keepSending)
        } finally {
            reset()
        }
    }

    private fun closeForWipe() {
        stopSync()
        open?.close()
        open = null
    }

    private fun reset() {
        open?.close()
        open = null
        pin = null
        uiLocked = false
        backgroundSince = null
        settings.clearAll()
        afterWipe?.invoke()
    }

    /** The last screen of the app left the foreground. */
    fun wentToBackground() {
        backgroundSince = clock()
    }

    /**
     * A screen of the app came to the foreground: locks the screens when a PIN is set and the
     * app was away for [AUTO_LOCK_MS] or more. Returns whether the PIN must be asked now.
     */
    fun cameToForeground(): Boolean {
        val since = backgroundSince
        backgroundSince = null
        if (since != null && clock() - since >= AUTO_LOCK_MS && pinSet) uiLocked = true
        return needsUnlock
    }

    /** Locks the screens at once (nothing else changes). */
    fun lockNow() {
        if (pinSet) uiLocked = true
    }

    companion object {
        /** Auto-lock: a PIN is asked again after a minute in the background. */
        const val AUTO_LOCK_MS = 60_000L

        /** The choices offered for "wipe after N wrong PINs" (null: never). */
        val WIPE_AFTER_CHOICES: List<Int?> = listOf(null, 3, 5, 10)
    }
}
