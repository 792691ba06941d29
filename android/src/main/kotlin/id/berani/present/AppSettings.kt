// The app's own small settings: language, and where the reporter is in
// the report wizard. None of it is report content (the draft itself is in the core's
// encrypted store); on a phone these live in a private SharedPreferences file.
package id.berani.present


/** A small string store: SharedPreferences on a phone, a map in tests. */
interface KeyValue {
    fun get(key: String): String?
    fun put(key: String, value: String?)
}

/** A [KeyValue] in memory. */
class MemoryKeyValue : KeyValue {
    private val map = java.util.concurrent.ConcurrentHashMap<String, String>()
    override fun get(key: String): String? = map[key]
    override fun put(key: String, value: String?) {
        if (value == null) map.remove(key) else map[key] = value
    }
}

class AppSettings(private val kv: KeyValue) {
    var language: Language
        get() = Language.of(kv.get(LANGUAGE))
        set(value) = kv.put(LANGUAGE, value.tag)

    /** Pressing volume-down leaves the app at once (quick exit), when the reporter turned it on. */
    var volumeKeyExit: Boolean
        get() = kv.get(VOLUME_EXIT) == "1"
        set(value) = kv.put(VOLUME_EXIT, if (value) "1" else null)

    /** The draft the wizard is working on, so that it resumes after the app was killed. */
    var wizardDraftId: String?
        get() = kv.get(WIZARD_DRAFT)
        set(value) = kv.put(WIZARD_DRAFT, value)

    /** The wizard step last shown. */
    var wizardStep: Int
        get() = kv.get(WIZARD_STEP)?.toIntOrNull() ?: 0
        set(value) = kv.put(WIZARD_STEP, value.toString())

    /** The app shows itself as the calculator ("Kalkulator"); offered only while a PIN is set. */
    var disguised: Boolean
        get() = kv.get(DISGUISED) == "1"
        set(value) = kv.put(DISGUISED, if (value) "1" else null)

    /** Back to the first start (after a panic wipe): every setting, the language too. */
    fun clearAll() {
        for (k in listOf(LANGUAGE, VOLUNTEER, WIZARD_DRAFT, WIZARD_STEP, VOLUME_EXIT, DISGUISED)) kv.put(k, null)
    }

    companion object {
        private const val DISGUISED = "disguised"
        private const val LANGUAGE = "language"
        /** Where earlier versions kept a volunteer code; cleared by a wipe. The core keeps it now. */
        private const val VOLUNTEER = "volunteer_code"
        private const val WIZARD_DRAFT = "wizard_draft"
        private const val WIZARD_STEP = "wizard_step"
        private const val VOLUME_EXIT = "volume_key_exit"
    }
}
