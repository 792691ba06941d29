// "Keamanan ponsel": plain guidance for someone whose phone may be shared or watched.
package id.berani.ui

import id.berani.R

class GuidanceActivity : BaseActivity() {
    override fun screenTitle() = R.string.home_safety

    override fun render() {
        content.addView(ui.body(s(R.string.guide_intro)))
        for ((title, words) in listOf(
            R.string.guide_hide_title to R.string.guide_hide,
            R.string.guide_exit_title to R.string.guide_exit,
            R.string.guide_watch_title to R.string.guide_watch,
            R.string.guide_other_title to R.string.guide_other,
        )) {
            content.addView(ui.heading(s(title), 20f))
            content.addView(ui.body(s(words)))
        }
        content.addView(ui.button(s(R.string.home_settings), color = id.berani.present.Palette.CARD, textColor = id.berani.present.Palette.TEXT) {
            go(SettingsActivity::class.java)
        }.apply { id = R.id.settings_guidance })
    }
}
