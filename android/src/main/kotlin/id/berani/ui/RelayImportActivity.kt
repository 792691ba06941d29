// The carrying side of relay through a volunteer: a bundle file opened or shared to Berani
// (Bluetooth, Nearby Share, WhatsApp, Files) is copied into a private folder, checked by the
// core, and — after "Bawa laporan ini?" with only the number of parts, the size and the
// agency — imported into this phone's outbox and delivered like the phone's own reports.
package id.berani.ui

import android.content.ContentResolver
import android.content.Intent
import android.content.res.Configuration
import android.net.Uri
import android.os.Build
import id.berani.R
import id.berani.platform.DeliveryScheduler
import id.berani.present.Language
import id.berani.present.Palette
import id.berani.present.Relay
import id.berani.present.RelayCarry
import id.berani.present.Strings
import id.berani.present.bilingual
import java.io.File
import java.io.FileNotFoundException
import java.io.InputStream
import java.util.Locale

class RelayImportActivity : BaseActivity() {
    /** The presenter; tests read its state. */
    lateinit var carry: RelayCarry
        private set
    private var started = false

    override fun screenTitle() = R.string.relay_import_title

    override fun onCreate(savedInstanceState: android.os.Bundle?) {
        super.onCreate(savedInstanceState)
        carry = RelayCarry({ services.reporter }, inbox())
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        // Another bundle while this screen is open: start over with it.
        setIntent(intent)
        carry.decline()
        carry = RelayCarry({ services.reporter }, inbox())
        started = false
    }

    private fun inbox() = File(cacheDir, "relay-in")

    override fun render() {
        if (!started) {
            // Only once the home is open (render runs after the PIN check in onResume).
            started = true
            val uri = incoming(intent)
            work({ carry.receive { uri?.let { open(it) } } }) { refresh() }
        }
        when (val st = carry.state) {
            RelayCarry.State.Reading -> content.addView(ui.body(s(R.string.relay_reading), Palette.TEXT_MUTED))
            is RelayCarry.State.Confirm -> {
                content.addView(ui.heading(s(R.string.relay_ask)))
                content.addView(ui.body(s(st.facts), Palette.TEXT, 20f).apply { tag = "relay:facts" })
                if (st.bundle.already) content.addView(ui.body(s(R.string.relay_already), Palette.TEXT_MUTED, 16f))
                content.addView(ui.body(Relay.explanation().both(), Palette.TEXT, 16f))
                content.addView(ui.body(s(R.string.relay_carry_explain), Palette.TEXT, 16f))
                footer.addView(ui.button(s(R.string.relay_yes)) {
                    work({ carry.confirm() }) { r ->
                        if (r.getOrNull() is RelayCarry.State.Imported) DeliveryScheduler.schedule(this)
                        refresh()
                    }
                }.apply { id = R.id.relay_yes })
                footer.addView(ui.button(s(R.string.relay_no), color = Palette.CARD, textColor = Palette.TEXT) {
                    carry.decline()
                    refresh()
                }.apply { id = R.id.relay_no })
            }
            is RelayCarry.State.Imported -> {
                content.addView(ui.body(s(st.message), Palette.SUCCESS, 20f).apply { tag = "relay:done" })
                footer.addView(ui.button(s(R.string.home_my_reports)) {
                    startActivity(Intent(this, OutboxActivity::class.java))
                    finish()
                })
            }
            RelayCarry.State.Declined -> {
                content.addView(ui.body(s(R.string.relay_declined)))
                footer.addView(ui.button(s(R.string.relay_cancel), color = Palette.CARD, textColor = Palette.TEXT) { finish() })
            }
            is RelayCarry.State.Refused -> {
                content.addView(ui.heading(s(R.string.relay_refused), 20f))
                // Indonesian first, English second, whichever language the app is set to.
                val words = st.problem.bilingual(languageStrings(Language.ID), languageStrings(Language.EN))
                content.addView(ui.body(words.both(), Palette.ERROR).apply { tag = "relay:refused" })
                footer.addView(ui.button(s(R.string.relay_cancel), color = Palette.CARD, textColor = Palette.TEXT) { finish() })
            }
        }
    }

    /** The app's words in [lang] (without changing the process's default locale). */
    private fun languageStrings(lang: Language): Strings {
        if (lang == language) return strings
        val config = Configuration(resources.configuration).apply { setLocale(Locale.forLanguageTag(lang.tag)) }
        return app.strings(createConfigurationContext(config))
    }

    /** The bundle's URI: the data of ACTION_VIEW, the stream of ACTION_SEND. */
    private fun incoming(i: Intent?): Uri? = when (i?.action) {
        Intent.ACTION_VIEW -> i.data
        Intent.ACTION_SEND ->
            if (Build.VERSION.SDK_INT >= 33) i.getParcelableExtra(Intent.EXTRA_STREAM, Uri::class.java)
            else @Suppress("DEPRECATION") i.getParcelableExtra<Uri>(Intent.EXTRA_STREAM)
        else -> null
    } ?: i?.clipData?.takeIf { it.itemCount > 0 }?.getItemAt(0)?.uri

    /**
     * Opens [uri] for reading: `content:` through the resolver (with the sender's read grant),
     * `file:` only outside this app's own folders (a file URI must not make Berani read its own
     * private files). Nothing else.
     */
    private fun open(uri: Uri): InputStream? = when (uri.scheme) {
        ContentResolver.SCHEME_CONTENT -> contentResolver.openInputStream(uri)
        ContentResolver.SCHEME_FILE -> {
            val f = File(uri.path ?: throw FileNotFoundException("no path")).canonicalFile
            val own = File(applicationInfo.dataDir).canonicalFile
            if (f.path.startsWith(own.path + File.separator)) throw SecurityException("an app-private file")
            f.inputStream()
        }
        else -> null
    }
}
