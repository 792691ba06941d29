// Text that a presenter hands to a screen: a string resource id and its format arguments.
//
// Presenters never hold a Context, so they cannot turn an id into words themselves; the
// screen does, in the language the reporter chose. That keeps every word in
// res/values*/strings.xml and lets the JVM tests read the same words from those files.
package id.berani.present

/** A string resource ([id], e.g. `R.string.state_sending`) with its format arguments. */
data class Text(val id: Int, val args: List<Any> = emptyList())

/** Shorthand for a [Text] with arguments. */
fun text(id: Int, vararg args: Any): Text = Text(id, args.toList())

/** Turns a string resource into words: `Context.getString` on a phone, strings.xml in tests. */
fun interface Strings {
    fun get(id: Int, vararg args: Any): String
}

/** The words of [t]. */
fun Strings.of(t: Text): String = get(t.id, *t.args.toTypedArray())

/** The languages of the app: Indonesian first, English selectable. */
enum class Language(val tag: String) {
    ID("id"),
    EN("en");

    /** Picks the message in this language from a pair the core supplies (`messageId`, `messageEn`). */
    fun pick(indonesian: String, english: String): String = if (this == ID) indonesian else english

    companion object {
        fun of(tag: String?): Language = entries.firstOrNull { it.tag == tag } ?: ID
    }
}

/**
 * A problem to show the reporter: either the core's own message in both languages (a refused
 * field) or one of the app's strings.
 */
sealed class Problem {
    data class FromCore(val messageId: String, val messageEn: String) : Problem()
    data class App(val text: Text) : Problem()

    fun render(strings: Strings, language: Language): String = when (this) {
        is FromCore -> language.pick(messageId, messageEn)
        is App -> strings.of(text)
    }
}
