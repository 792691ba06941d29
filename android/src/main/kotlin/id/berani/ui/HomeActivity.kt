// Home: report, my reports, emergency help, share the app, settings.
package id.berani.ui

import id.berani.R
import id.berani.present.OutboxText
import id.berani.present.Palette

class HomeActivity : BaseActivity() {
    override fun screenTitle() = R.string.app_name

    override fun render() {
        content.addView(ui.body(s(R.string.home_intro)))
        content.addView(ui.body(s(R.string.home_confidential), Palette.TEXT_MUTED, 16f))
        val resuming = services.settings.wizardDraftId != null
        content.addView(ui.button(s(if (resuming) R.string.home_continue else R.string.home_report), sizeSp = 22f, minHeightDp = 72) {
            go(WizardActivity::class.java)
        }.apply { id = R.id.home_report })
        val pending = runCatching { OutboxText.pending(services.reporter.outbox()) }.getOrDefault(0)
        val mine = if (pending > 0) s(R.string.home_my_reports_pending, pending) else s(R.string.home_my_reports)
        content.addView(ui.button(mine) { go(OutboxActivity::class.java) }.apply { id = R.id.home_my_reports })
        content.addView(ui.button(s(R.string.home_check_code), color = Palette.CARD, textColor = Palette.TEXT) { go(CheckCodeActivity::class.java) }
            .apply { id = R.id.home_check_code })
        content.addView(ui.button(s(R.string.home_emergency), color = Palette.EMERGENCY) { go(EmergencyActivity::class.java) }.apply { id = R.id.home_emergency })
        content.addView(ui.button(s(R.string.home_share)) { go(ShareActivity::class.java) }.apply { id = R.id.home_share })
        content.addView(ui.button(s(R.string.home_safety), color = Palette.CARD, textColor = Palette.TEXT) { go(GuidanceActivity::class.java) }.apply { id = R.id.home_safety })
        content.addView(ui.button(s(R.string.home_settings), color = Palette.CARD, textColor = Palette.TEXT) { go(SettingsActivity::class.java) }.apply { id = R.id.home_settings })
    }
}
