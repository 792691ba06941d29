// The PIN screen: the way into Berani when a PIN is set and the app is not disguised. The
// emergency numbers and the quick exit stay on it (the numbers from before any profile).
package id.berani.ui

import android.widget.EditText
import id.berani.R
import id.berani.present.Palette
import id.berani.present.Unlock

class LockActivity : BaseActivity() {
    override val lockable get() = false
    private var message: String? = null
    private var checking = false

    override fun screenTitle() = R.string.pin_title

    override fun onResume() {
        super.onResume()
        // Nothing to unlock (no PIN, or already open): straight to Home.
        if (!services.safety.needsUnlock) showHome(this)
    }

    override fun render() {
        content.addView(ui.body(s(R.string.pin_enter)))
        val field: EditText = ui.pinInput(s(R.string.pin_hint), s(R.string.pin_input_desc)).apply { id = R.id.pin_input }
        content.addView(field)
        message?.let { content.addView(ui.body(it, Palette.ERROR)) }
        footer.addView(ui.button(s(R.string.pin_unlock), s(R.string.pin_unlock_desc)) {
            if (checking) return@button
            checking = true
            val typed = field.text.toString()
            field.setText("")
            work({ services.safety.unlock(typed) }) { r ->
                checking = false
                when (val u = r.getOrNull()) {
                    Unlock.Opened, Unlock.Wiped -> showHome(this)
                    is Unlock.Wrong -> message = u.remaining?.let { s(R.string.pin_wrong_remaining, it) } ?: s(R.string.pin_wrong)
                    is Unlock.Failed -> message = s(R.string.pin_error)
                    null -> message = s(R.string.pin_error)
                }
                if (!isFinishing) refresh()
            }
        }.apply { id = R.id.pin_unlock })
    }
}
