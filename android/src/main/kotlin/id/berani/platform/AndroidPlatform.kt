// Small adapters from the core's and presenters' interfaces to the Android framework:
// SharedPreferences, Logcat, and the reporter's chosen language.
package id.berani.platform

import android.content.Context
import android.content.SharedPreferences
import android.content.res.Configuration
import android.util.Log
import id.berani.core.LogLevel
import id.berani.core.LogRecord
import id.berani.core.LogSink
import id.berani.present.KeyValue
import id.berani.present.Language
import java.util.Locale

/** [KeyValue] on a private SharedPreferences file (excluded from backups like everything else). */
class PrefsKeyValue(private val prefs: SharedPreferences) : KeyValue {
    override fun get(key: String): String? = prefs.getString(key, null)
    override fun put(key: String, value: String?) {
        prefs.edit().apply { if (value == null) remove(key) else putString(key, value) }.apply()
    }
}

/** The core's log records to Logcat. They carry ids, counts and states, never report content. */
class LogcatSink : LogSink {
    override fun log(record: LogRecord) {
        val tag = "Berani"
        when (record.level) {
            LogLevel.ERROR -> Log.e(tag, "${record.target}: ${record.message}")
            LogLevel.WARN -> Log.w(tag, "${record.target}: ${record.message}")
            LogLevel.INFO -> Log.i(tag, "${record.target}: ${record.message}")
            LogLevel.DEBUG, LogLevel.TRACE -> Log.d(tag, "${record.target}: ${record.message}")
        }
    }
}

object Locales {
    /** [base] with its configuration switched to [language], for Activity.attachBaseContext. */
    fun wrap(base: Context, language: Language): Context {
        val locale = Locale.forLanguageTag(language.tag)
        Locale.setDefault(locale)
        val config = Configuration(base.resources.configuration)
        config.setLocale(locale)
        return base.createConfigurationContext(config)
    }
}
