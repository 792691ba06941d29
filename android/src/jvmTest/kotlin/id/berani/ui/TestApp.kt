// The Application under Robolectric: the real BeraniApp with what cannot exist here replaced —
// a device key in memory instead of the Android Keystore, a temporary home, the live test
// server as the agency, strings read from the XML files (no aapt, so no compiled resources),
// no icons, and slow work run at once on the calling thread.
package id.berani.ui

import android.content.Context
import android.graphics.drawable.Drawable
import id.berani.BeraniApp
import id.berani.IntakeServer
import id.berani.MemoryKeyStore
import id.berani.ResStrings
import id.berani.Services
import id.berani.present.AppSettings
import id.berani.present.MemoryKeyValue
import id.berani.present.Strings
import id.berani.tempDir
import java.io.File
import java.util.concurrent.Executor

class TestApp : BeraniApp() {
    override val executor: Executor = Executor { it.run() }

    override fun createServices(): Services =
        Services(File(tempDir("app-"), "berani"), MemoryKeyStore(), AppSettings(MemoryKeyValue()), IntakeServer.shared.config)

    override fun strings(context: Context): Strings = Strings { id, args -> ResStrings(services.settings.language).get(id, *args) }

    override fun drawable(context: Context, id: Int): Drawable? = null
}
