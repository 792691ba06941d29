// Settings: language, quick exit, and the agency the app sends to.
package id.berani.ui

import id.berani.R
import id.berani.present.Language
import id.berani.present.Palette
import java.time.ZoneId
import java.time.format.DateTimeFormatter

class SettingsActivity : BaseActivity() {
    private var updating = false
    private var note: String? = null

    override fun screenTitle() = R.string.home_settings

    override fun render() {
        content.addView(ui.heading(s(R.string.settings_language), 20f))
        for ((lang, label) in listOf(Language.ID to R.string.language_id, Language.EN to R.string.language_en)) {
            content.addView(ui.choice(s(label), language == lang, s(R.string.selected)) {
                if (language != lang) {
                    services.settings.language = lang
                    recreate()
                }
            }.apply { id = if (lang == Language.ID) R.id.settings_lang_id else R.id.settings_lang_en })
        }

        content.addView(ui.heading(s(R.string.settings_quick_exit), 20f))
        content.addView(ui.body(s(R.string.settings_quick_exit_explain)))
        val on = services.settings.volumeKeyExit
        content.addView(ui.choice(s(R.string.settings_volume_exit), on, s(R.string.selected)) {
            services.settings.volumeKeyExit = !on
            refresh()
        }.apply { id = R.id.settings_volume_exit })

        content.addView(ui.heading(s(R.string.settings_agency), 20f))
        val p = services.profile()
        if (p == null) {
            content.addView(ui.body(s(R.string.settings_no_profile), Palette.ERROR))
        } else {
            val day = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneId.systemDefault())
            content.addView(ui.body(p.agencyName))
            content.addView(ui.body(s(R.string.settings_profile_valid, day.format(p.expiresAt)), Palette.TEXT_MUTED, 16f))
        }
        note?.let { content.addView(ui.body(it, Palette.TEXT_MUTED, 16f)) }
        content.addView(ui.button(s(if (updating) R.string.settings_updating else R.string.settings_update_profile), color = Palette.CARD, textColor = Palette.TEXT) {
            if (updating) return@button
            updating = true
            refresh()
            work({ services.refreshProfile() }) { r ->
                updating = false
                note = s(if (r.getOrNull() != null) R.string.settings_profile_updated else R.string.settings_profile_failed)
                refresh()
            }
        }.apply { id = R.id.settings_update_profile })
    }
}
