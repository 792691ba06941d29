// Building blocks of every screen, on plain framework Views: big buttons, cards and text in sp,
// so that layouts grow with the font size (up to 200 %) instead of clipping, every control is
// at least 48 dp (most are 56 dp), and every control says what it does to TalkBack.
package id.berani.ui

import android.content.Context
import android.graphics.Typeface
import android.graphics.drawable.GradientDrawable
import android.text.InputType
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.view.inputmethod.EditorInfo
import android.widget.Button
import android.widget.EditText
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.TextView
import id.berani.BeraniApp
import id.berani.present.Palette

class Views(private val ctx: Context, private val app: BeraniApp) {
    fun dp(v: Int): Int = TypedValue.applyDimension(TypedValue.COMPLEX_UNIT_DIP, v.toFloat(), ctx.resources.displayMetrics).toInt()

    private fun rounded(color: Int, radius: Int = 12, stroke: Int? = null) = GradientDrawable().apply {
        setColor(color)
        cornerRadius = dp(radius).toFloat()
        if (stroke != null) setStroke(dp(2), stroke)
    }

    private fun matchWidth(top: Int = 8) = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
        topMargin = dp(top)
    }

    fun column(): LinearLayout = LinearLayout(ctx).apply { orientation = LinearLayout.VERTICAL }

    fun row(): LinearLayout = LinearLayout(ctx).apply { orientation = LinearLayout.HORIZONTAL }

    fun heading(words: String, sizeSp: Float = 24f): TextView = TextView(ctx).apply {
        text = words
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        setTypeface(typeface, Typeface.BOLD)
        setTextColor(Palette.TEXT)
        isFocusable = true
        if (android.os.Build.VERSION.SDK_INT >= 28) isAccessibilityHeading = true
        layoutParams = matchWidth(12)
    }

    fun body(words: String, color: Int = Palette.TEXT, sizeSp: Float = 18f): TextView = TextView(ctx).apply {
        text = words
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        setTextColor(color)
        setLineSpacing(0f, 1.15f)
        layoutParams = matchWidth(6)
    }

    /** A full-width button: text that wraps, at least 56 dp tall, [description] for TalkBack. */
    fun button(
        words: String,
        description: String = words,
        color: Int = Palette.PRIMARY,
        textColor: Int = Palette.ON_PRIMARY,
        sizeSp: Float = 20f,
        minHeightDp: Int = 56,
        onClick: () -> Unit,
    ): Button = Button(ctx).apply {
        text = words
        isAllCaps = false
        contentDescription = description
        setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
        setTextColor(textColor)
        background = rounded(color)
        minHeight = dp(minHeightDp)
        minimumHeight = dp(minHeightDp)
        minWidth = dp(48)
        minimumWidth = dp(48)
        setPadding(dp(16), dp(12), dp(16), dp(12))
        gravity = Gravity.CENTER
        layoutParams = matchWidth()
        setOnClickListener { onClick() }
    }

    /** A choice: light card, outlined and marked when [selected] (TalkBack hears "dipilih"). */
    fun choice(words: String, selected: Boolean, selectedWord: String, onClick: () -> Unit): Button =
        button(words, if (selected) "$words, $selectedWord" else words, if (selected) Palette.SELECTED else Palette.CARD, Palette.TEXT, 19f) {
            onClick()
        }.apply {
            background = rounded(if (selected) Palette.SELECTED else Palette.CARD, stroke = if (selected) Palette.PRIMARY else null)
            isSelected = selected
            gravity = Gravity.CENTER_VERTICAL or Gravity.START
            if (selected) text = "✓  $words"
        }

    /** A category card: icon, name and a plain description, one touch target. */
    fun card(icon: Int?, title: String, description: String, selected: Boolean, selectedWord: String, onClick: () -> Unit): LinearLayout =
        row().apply {
            background = rounded(if (selected) Palette.SELECTED else Palette.CARD, stroke = if (selected) Palette.PRIMARY else null)
            setPadding(dp(12), dp(12), dp(12), dp(12))
            minimumHeight = dp(72)
            gravity = Gravity.CENTER_VERTICAL
            isClickable = true
            isFocusable = true
            isSelected = selected
            contentDescription = listOfNotNull(title, description, selectedWord.takeIf { selected }).joinToString(". ")
            layoutParams = matchWidth(10)
            setOnClickListener { onClick() }
            if (icon != null) {
                val d = app.drawable(ctx, icon)
                if (d != null) {
                    addView(ImageView(ctx).apply {
                        setImageDrawable(d)
                        importantForAccessibility = View.IMPORTANT_FOR_ACCESSIBILITY_NO
                        layoutParams = LinearLayout.LayoutParams(dp(48), dp(48)).apply { marginEnd = dp(12) }
                    })
                }
            }
            addView(column().apply {
                layoutParams = LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f)
                addView(heading((if (selected) "✓ " else "") + title, 20f).apply { isFocusable = false; layoutParams = matchWidth(0) })
                addView(body(description, Palette.TEXT_MUTED, 16f))
            })
        }

    fun input(hint: String, description: String, multiline: Boolean = false, phone: Boolean = false): EditText = EditText(ctx).apply {
        this.hint = hint
        contentDescription = description
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 18f)
        setTextColor(Palette.TEXT)
        setHintTextColor(Palette.TEXT_MUTED)
        minHeight = dp(56)
        minimumHeight = dp(56)
        inputType = when {
            phone -> InputType.TYPE_CLASS_PHONE
            multiline -> InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_FLAG_MULTI_LINE or InputType.TYPE_TEXT_FLAG_CAP_SENTENCES
            else -> InputType.TYPE_CLASS_TEXT
        }
        if (multiline) {
            minLines = 5
            gravity = Gravity.TOP or Gravity.START
        }
        // The keyboard must not learn or suggest from what is typed into a report.
        if (!phone) inputType = inputType or InputType.TYPE_TEXT_FLAG_NO_SUGGESTIONS
        if (android.os.Build.VERSION.SDK_INT >= 26) imeOptions = imeOptions or EditorInfo.IME_FLAG_NO_PERSONALIZED_LEARNING
        if (android.os.Build.VERSION.SDK_INT >= 26) importantForAutofill = View.IMPORTANT_FOR_AUTOFILL_NO_EXCLUDE_DESCENDANTS
        layoutParams = matchWidth()
    }

    /** A PIN field: digits only, hidden, never learned by the keyboard nor autofilled. */
    fun pinInput(hint: String, description: String): EditText = input(hint, description).apply {
        inputType = InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_VARIATION_PASSWORD
        filters = arrayOf(android.text.InputFilter.LengthFilter(12))
    }

    /** Two or more buttons side by side, sharing the width. */
    fun pair(vararg views: View): LinearLayout = row().apply {
        layoutParams = matchWidth()
        views.forEachIndexed { i, v ->
            v.layoutParams = LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.MATCH_PARENT, 1f).apply {
                if (i > 0) marginStart = dp(8)
            }
            addView(v)
        }
    }
}
