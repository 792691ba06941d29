// The app's colours, as ARGB ints, and the WCAG 2 contrast ratio the tests check them with.
// Plain Kotlin so that PaletteTest can compute every text/background pair the screens use.
package id.berani.present

import kotlin.math.pow

object Palette {
    const val BACKGROUND = 0xFFFFFFFF.toInt()
    const val TEXT = 0xFF1B1B1F.toInt()
    const val TEXT_MUTED = 0xFF49454F.toInt()
    const val PRIMARY = 0xFF5B2A86.toInt() // buttons: white text
    const val ON_PRIMARY = 0xFFFFFFFF.toInt()
    const val CARD = 0xFFF3EDF7.toInt()
    const val SELECTED = 0xFFE3D3F5.toInt()
    const val EMERGENCY = 0xFFB3261E.toInt() // call buttons: white text
    const val WHATSAPP = 0xFF0B6B3A.toInt()
    const val ON_EMERGENCY = 0xFFFFFFFF.toInt()
    const val EMERGENCY_BAR = 0xFFFCE8E6.toInt()
    const val EXIT = 0xFF1B1B1F.toInt()
    const val ERROR = 0xFFB3261E.toInt()
    const val SUCCESS = 0xFF1E6B34.toInt()

    /** Every (text, background) pair a screen draws, for the contrast test. */
    val PAIRS: List<Pair<Int, Int>> = listOf(
        TEXT to BACKGROUND, TEXT_MUTED to BACKGROUND, TEXT to CARD, TEXT_MUTED to CARD, TEXT to SELECTED,
        ON_PRIMARY to PRIMARY, ON_EMERGENCY to EMERGENCY, ON_EMERGENCY to WHATSAPP, TEXT to EMERGENCY_BAR,
        ON_PRIMARY to EXIT, ERROR to BACKGROUND, SUCCESS to BACKGROUND, ERROR to CARD, SUCCESS to CARD,
        PRIMARY to BACKGROUND, PRIMARY to CARD,
    )

    private fun channel(c: Int): Double {
        val s = c / 255.0
        return if (s <= 0.03928) s / 12.92 else ((s + 0.055) / 1.055).pow(2.4)
    }

    /** Relative luminance (WCAG 2.x). */
    fun luminance(argb: Int): Double =
        0.2126 * channel((argb shr 16) and 0xFF) + 0.7152 * channel((argb shr 8) and 0xFF) + 0.0722 * channel(argb and 0xFF)

    /** Contrast ratio, 1 to 21; WCAG AA asks 4.5 for normal text. */
    fun contrast(a: Int, b: Int): Double {
        val (hi, lo) = luminance(a).let { la -> luminance(b).let { lb -> if (la > lb) la to lb else lb to la } }
        return (hi + 0.05) / (lo + 0.05)
    }
}
