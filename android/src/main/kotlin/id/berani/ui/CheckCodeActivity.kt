// "Cek laporan dengan kode": the reporter types the report code written down at submit (on
// this phone, another one, or after a wipe). The code is checked by the core (a typo is
// explained), the keys are derived from it (slow on purpose, off the UI thread, with "please
// wait" on screen), and the report's status and messages open on the report screen.
package id.berani.ui

import android.widget.EditText
import id.berani.R
import id.berani.present.CheckCode
import id.berani.present.Palette

class CheckCodeActivity : BaseActivity() {
    val check = CheckCode { services.reporter }
    private var typed = ""
    private var input: EditText? = null

    override fun screenTitle() = R.string.check_title

    override fun render() {
        content.addView(ui.body(s(R.string.check_intro)))
        val field = ui.input(s(R.string.check_hint), s(R.string.check_title)).apply {
            id = R.id.check_code_input
            setText(typed)
        }
        input = field
        content.addView(field)
        if (check.checking) content.addView(ui.body(s(R.string.check_wait), Palette.TEXT_MUTED).apply { tag = "wait" })
        check.problem?.let { content.addView(ui.body(it.render(strings, language), Palette.ERROR, 16f).apply { tag = "problem" }) }
        content.addView(ui.button(s(R.string.check_button), sizeSp = 22f, minHeightDp = 72) { start() }.apply {
            id = R.id.check_code_button
            isEnabled = !check.checking
        })
    }

    private fun start() {
        if (check.checking) return
        typed = input?.text?.toString() ?: ""
        val code = typed
        check.begin()
        refresh()
        work({ check.check(code) }) { r ->
            val thread = r.getOrNull()
            if (thread != null) {
                typed = ""
                startActivity(ReportActivity.intent(this, thread.reportId))
            }
            refresh()
        }
    }
}
