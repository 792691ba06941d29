// What the screens and the delivery job share: the one Reporter (the core), the app's
// settings, the sync runner, and the agency the app is built for.
package id.berani

import id.berani.core.AgencyProfile
import id.berani.core.BeraniException
import id.berani.core.DeviceKeyStore
import id.berani.core.ProfileProblem
import id.berani.core.Reporter
import id.berani.present.AppSettings
import id.berani.present.Safety
import id.berani.present.SyncRunner
import id.berani.present.Volunteers
import kotlinx.coroutines.runBlocking
import java.io.File
import java.time.Duration
import java.time.Instant

/**
 * The agency this build serves: its intake server, the profile-signing key to trust on first
 * use, and the download page for sharing (res/values/config.xml on a phone).
 */
data class AgencyConfig(val intakeUrl: String, val profileKey: String, val downloadUrl: String?)

class Services(
    val home: File,
    private val keys: DeviceKeyStore,
    val settings: AppSettings,
    val config: AgencyConfig,
    /** A signed profile shipped inside the app (assets/agency_profile.jws), if the build has one. */
    private val bundledProfile: () -> ByteArray? = { null },
    /** A monotonic clock in milliseconds, for the auto-lock. */
    clock: () -> Long = { System.nanoTime() / 1_000_000 },
) {
    /** The app PIN, the lock and the panic wipe; it holds the open home. */
    val safety = Safety(home, keys, settings, clock) { stopSync() }

    /**
     * The core, opened through the PIN layer on first use (the device key is unwrapped then).
     * With a PIN set it throws `BeraniException.WrongPin` until [Safety.unlock].
     */
    val reporter: Reporter get() = safety.reporter()

    /** The panic wipe ([Safety.wipe]; delivery is stopped first). */
    fun wipe(keepSending: Boolean) = safety.wipe(keepSending)

    private fun stopSync() {
        sync.cancel()
        val deadline = System.currentTimeMillis() + 10_000
        while (sync.isRunning && System.currentTimeMillis() < deadline) Thread.sleep(20)
    }

    val sync = SyncRunner { reporter }

    /** The volunteer code of "Bagikan aplikasi", counted once per install through the core. */
    val volunteers = Volunteers { reporter }

    /** The installed agency profile, or null before the first import. */
    fun profile(): AgencyProfile? = runCatching { reporter.profile() }.getOrNull()

    /**
     * Installs or refreshes the agency profile: the bundled one when none is installed (so a
     * phone that never had signal can seal reports), then the server's when the installed one
     * is missing or expires within a week. Returns the profile in force; network problems
     * leave the installed one and are not errors.
     */
    fun ensureProfile(now: Instant = Instant.now()): AgencyProfile? {
        var p = profile()
        if (p == null) {
            bundledProfile()?.let { bytes -> runCatching { p = reporter.importProfileBytes(bytes, config.profileKey) } }
        }
        val current = p
        if (current == null || current.expiresAt.isBefore(now.plus(Duration.ofDays(7)))) {
            refreshProfile()?.let { p = it }
        }
        return p
    }

    /**
     * Downloads the agency's current profile from its server and installs it; null when the
     * server cannot be reached or offers nothing newer (the installed profile stays).
     */
    fun refreshProfile(): AgencyProfile? = try {
        runBlocking { reporter.importProfileUrl(config.intakeUrl, config.profileKey) }
    } catch (e: BeraniException.Profile) {
        // The server's profile is the one installed already (not newer): that is up to date.
        if (e.problem == ProfileProblem.OLDER) profile() else null
    } catch (_: BeraniException) {
        null
    }
}
