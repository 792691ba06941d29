// The disguise: a plain, working calculator. When a PIN is set, typing the PIN alone and
// pressing "=" opens Berani; anything else (and a wrong PIN) is simply calculated. A wrong
// PIN typed alone is counted as a failed attempt: otherwise the calculator would let anyone
// guess the PIN without limit, past the "wipe after N wrong PINs" setting.
package id.berani.present

import java.math.BigDecimal
import java.math.MathContext
import java.math.RoundingMode

/** What a key press did. */
enum class CalcResult { SHOWN, UNLOCKED, WIPED }

class Calculator(
    /** Tries a PIN (digits only, 4 to 12 of them); null when no PIN is set (nothing to try). */
    private val tryPin: ((String) -> Unlock)?,
) {
    private val entry = StringBuilder()

    /** The display holds a result: a digit starts a new number, an operator continues it. */
    private var result = false

    /** What the display shows: the expression being typed, or the last result. */
    var display: String = "0"
        private set

    /** The keys, as on the screen: digits, decimal point, operators, "=", clear and delete. */
    fun press(key: Char): CalcResult {
        if (result && (key in '0'..'9' || key == '.')) entry.setLength(0)
        result = false
        when (key) {
            in '0'..'9' -> if (entry.length < MAX_LEN) entry.append(key)
            '.' -> if (!currentNumber().contains('.') && entry.length < MAX_LEN) entry.append(if (currentNumber().isEmpty()) "0." else ".")
            PLUS, MINUS, TIMES, DIVIDE -> {
                if (entry.isEmpty() && key == MINUS) entry.append(MINUS)
                else if (entry.isNotEmpty()) {
                    if (entry.last() in OPERATORS) entry.setLength(entry.length - 1)
                    if (entry.isNotEmpty()) entry.append(key)
                }
            }
            CLEAR -> entry.setLength(0)
            DELETE -> if (entry.isNotEmpty()) entry.setLength(entry.length - 1)
            EQUALS -> return equals()
            else -> throw IllegalArgumentException("not a calculator key: $key")
        }
        display = entry.ifEmpty { "0" }.toString()
        return CalcResult.SHOWN
    }

    private fun currentNumber(): String = entry.takeLastWhile { it !in OPERATORS }.toString()

    private fun equals(): CalcResult {
        val typed = entry.toString()
        if (tryPin != null && typed.length in 4..12 && typed.all { it in '0'..'9' }) {
            when (tryPin.invoke(typed)) {
                is Unlock.Opened -> {
                    entry.setLength(0)
                    display = "0"
                    return CalcResult.UNLOCKED
                }
                is Unlock.Wiped -> {
                    show(typed)
                    return CalcResult.WIPED
                }
                else -> Unit // a wrong PIN: calculated like any number
            }
        }
        show(typed)
        return CalcResult.SHOWN
    }

    private fun show(typed: String) {
        val result = evaluate(typed)
        display = result ?: ERROR
        entry.setLength(0)
        if (result != null && result != "0") entry.append(result)
        this.result = true
    }

    companion object {
        const val PLUS = '+'
        const val MINUS = '−'
        const val TIMES = '×'
        const val DIVIDE = '÷'
        const val EQUALS = '='
        const val CLEAR = 'C'
        const val DELETE = '⌫'
        const val ERROR = "Error"
        private const val MAX_LEN = 40
        private val OPERATORS = setOf(PLUS, MINUS, TIMES, DIVIDE)
        private val MC = MathContext(16, RoundingMode.HALF_EVEN)

        /**
         * The value of [expr] (numbers and + − × ÷, × and ÷ before + and −), in plain decimal
         * form; null for division by zero or an expression that is not one.
         */
        fun evaluate(expr: String): String? {
            if (expr.isEmpty()) return "0"
            val tokens = ArrayList<Any>()
            var i = 0
            while (i < expr.length) {
                val c = expr[i]
                val unary = c == MINUS && (tokens.isEmpty() || tokens.last() is Char)
                if (c in '0'..'9' || c == '.' || unary) {
                    val start = i
                    i++
                    while (i < expr.length && (expr[i] in '0'..'9' || expr[i] == '.')) i++
                    val text = expr.substring(start, i).replace(MINUS, '-')
                    tokens += text.toBigDecimalOrNull() ?: return null
                } else if (c in OPERATORS) {
                    tokens += c
                    i++
                } else {
                    return null
                }
            }
            if (tokens.last() is Char) tokens.removeAt(tokens.lastIndex)
            // × and ÷ first, into a list of terms; then the sum.
            val terms = ArrayList<BigDecimal>()
            val signs = ArrayList<Char>()
            var acc = tokens[0] as? BigDecimal ?: return null
            var k = 1
            while (k < tokens.size) {
                val op = tokens[k] as Char
                val v = tokens.getOrNull(k + 1) as? BigDecimal ?: return null
                when (op) {
                    TIMES -> acc = acc.multiply(v, MC)
                    DIVIDE -> {
                        if (v.signum() == 0) return null
                        acc = acc.divide(v, MC)
                    }
                    else -> {
                        terms += acc
                        signs += op
                        acc = v
                    }
                }
                k += 2
            }
            terms += acc
            var sum = terms[0]
            for (j in signs.indices) sum = if (signs[j] == PLUS) sum.add(terms[j + 1], MC) else sum.subtract(terms[j + 1], MC)
            val plain = sum.stripTrailingZeros().toPlainString()
            return if (plain.startsWith("-")) MINUS + plain.substring(1) else plain
        }
    }
}
