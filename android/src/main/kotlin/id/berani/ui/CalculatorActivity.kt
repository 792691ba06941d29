// The disguise: "Kalkulator", a plain working calculator with nothing of Berani on it. When a
// PIN is set, the PIN typed alone and "=" open Berani (Calculator in present/ decides).
package id.berani.ui

import android.app.Activity
import android.content.Context
import android.graphics.Typeface
import android.os.Bundle
import android.util.TypedValue
import android.view.Gravity
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import id.berani.BeraniApp
import id.berani.R
import id.berani.platform.Locales
import id.berani.present.CalcResult
import id.berani.present.Calculator
import id.berani.present.Strings

class CalculatorActivity : Activity() {
    private val app: BeraniApp get() = application as BeraniApp
    lateinit var calculator: Calculator
        private set
    private lateinit var display: TextView
    private lateinit var strings: Strings

    override fun attachBaseContext(base: Context) {
        val app = base.applicationContext as? BeraniApp
        val lang = app?.let { runCatching { it.services.settings.language }.getOrNull() } ?: id.berani.present.Language.ID
        super.attachBaseContext(Locales.wrap(base, lang))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        setTheme(android.R.style.Theme_Material_Light_NoActionBar)
        super.onCreate(savedInstanceState)
        // The digits typed may be the PIN: no screenshots, nothing in recent apps.
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        strings = app.strings(this)
        title = strings.get(R.string.calc_name)
        val safety = app.services.safety
        // The PIN is tried only when one is set; with none, this is only a calculator.
        calculator = Calculator(if (safety.pinSet) { pin -> safety.unlock(pin) } else null)
        val ui = Views(this, app)
        val root = ui.column().apply {
            setBackgroundColor(0xFF263238.toInt())
            setPadding(ui.dp(12), ui.dp(24), ui.dp(12), ui.dp(12))
        }
        display = TextView(this).apply {
            id = R.id.calc_display
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 40f)
            setTextColor(0xFFFFFFFF.toInt())
            gravity = Gravity.END or Gravity.CENTER_VERTICAL
            contentDescription = strings.get(R.string.calc_display_desc)
            minHeight = ui.dp(96)
            layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f)
        }
        root.addView(display)
        val rows = listOf("C⌫÷×", "789−", "456+", "123=", "0.")
        for (keys in rows) {
            root.addView(ui.row().apply {
                layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)
                for (k in keys) addView(key(ui, k))
            })
        }
        root.setOnApplyWindowInsetsListener { v, insets ->
            @Suppress("DEPRECATION")
            v.setPadding(insets.systemWindowInsetLeft + ui.dp(12), insets.systemWindowInsetTop + ui.dp(24), insets.systemWindowInsetRight + ui.dp(12), insets.systemWindowInsetBottom + ui.dp(12))
            insets
        }
        setContentView(root)
        show()
    }

    private fun key(ui: Views, k: Char): Button {
        val spoken = when (k) {
            Calculator.PLUS -> R.string.calc_plus
            Calculator.MINUS -> R.string.calc_minus
            Calculator.TIMES -> R.string.calc_times
            Calculator.DIVIDE -> R.string.calc_divide
            Calculator.EQUALS -> R.string.calc_equals
            Calculator.CLEAR -> R.string.calc_clear
            Calculator.DELETE -> R.string.calc_delete
            '.' -> R.string.calc_point
            else -> null
        }
        val color = if (k in '0'..'9' || k == '.') 0xFF455A64.toInt() else 0xFFFF8F00.toInt()
        val textColor = if (k in '0'..'9' || k == '.') 0xFFFFFFFF.toInt() else 0xFF000000.toInt()
        return ui.button(k.toString(), spoken?.let { strings.get(it) } ?: k.toString(), color, textColor, 28f, 64) { press(k) }.apply {
            setTypeface(typeface, Typeface.BOLD)
            if (k == Calculator.EQUALS) id = R.id.calc_equals
            layoutParams = LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, if (k == '0') 2f else 1f).apply {
                setMargins(ui.dp(4), ui.dp(4), ui.dp(4), ui.dp(4))
            }
        }
    }

    /** One key; "=" may take a moment when it checks a PIN (on a phone: a quarter second). */
    fun press(k: Char) {
        when (calculator.press(k)) {
            CalcResult.UNLOCKED -> BaseActivity.showHome(this)
            CalcResult.WIPED, CalcResult.SHOWN -> show()
        }
    }

    private fun show() {
        display.text = calculator.display
    }
}
