// The volunteer code on "Bagikan aplikasi": the code of the volunteer who passed the app on.
// The core keeps it sealed on the phone and tells the agency's server once per install that
// the app was installed through it (POST /v1/volunteers/installs with the code and nothing
// else: no report, no device id). Until the server has counted it, every sync tries again.
package id.berani.present

import id.berani.R
import id.berani.core.BeraniException
import id.berani.core.Reporter
import id.berani.core.VolunteerInstall
import kotlinx.coroutines.runBlocking

class Volunteers(private val reporter: () -> Reporter) {
    /** The code kept on this phone, as printed (`K7M-2QDV`), or null. */
    fun code(): String? = runCatching { reporter().volunteer()?.code }.getOrNull()

    /** What to say under the field about the code kept, or null when there is none. */
    fun status(): Text? = when (runCatching { reporter().volunteer()?.install }.getOrNull()) {
        VolunteerInstall.COUNTED -> text(R.string.volunteer_counted)
        VolunteerInstall.PENDING -> text(R.string.volunteer_pending)
        VolunteerInstall.REFUSED -> text(R.string.volunteer_refused)
        null -> null
    }

    /** Keeps a code as typed; the core's problem (field `volunteer_code`) when it is wrong. */
    fun save(input: String): Problem? = try {
        reporter().setVolunteerCode(input)
        null
    } catch (e: BeraniException.InvalidInput) {
        Problem.FromCore(e.messageId, e.messageEn)
    } catch (_: BeraniException) {
        Problem.App(text(R.string.volunteer_error))
    }

    /**
     * Sends a pending install count (blocking: call it off the main thread). True when the
     * server counted it now; false when nothing was pending, the network failed (tried again
     * at the next sync), or the server does not know the code.
     */
    fun send(): Boolean = try {
        runBlocking { reporter().reportVolunteerInstall() }
    } catch (_: BeraniException) {
        false
    }
}
