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
    private var pinNote: String? = null
    private var pinNoteIsProblem = false

    /** The app PIN (set, change, remove), wipe after N wrong PINs, the disguise, the panic wipe. */
    private fun renderSafety() {
        val safety = services.safety
        val status = safety.status()
        content.addView(ui.heading(s(R.string.settings_pin), 20f))
        content.addView(ui.body(s(if (status.pinSet) R.string.settings_pin_on else R.string.settings_pin_off), sizeSp = 16f))
        val current = if (status.pinSet) ui.pinInput(s(R.string.pin_current_hint), s(R.string.pin_current_hint)).apply { id = R.id.pin_current } else null
        current?.let { content.addView(it) }
        val new = ui.pinInput(s(R.string.pin_new_hint), s(R.string.pin_new_hint)).apply { id = R.id.pin_new }
        val repeat = ui.pinInput(s(R.string.pin_repeat_hint), s(R.string.pin_repeat_hint)).apply { id = R.id.pin_repeat }
        content.addView(new)
        content.addView(repeat)
        pinNote?.let { content.addView(ui.body(it, if (pinNoteIsProblem) Palette.ERROR else Palette.SUCCESS, 16f)) }
        fun done(problem: id.berani.present.Problem?, ok: Int) {
            pinNoteIsProblem = problem != null
            pinNote = problem?.render(strings, language) ?: s(ok)
            if (problem == null && !safety.pinSet) id.berani.platform.Disguise.apply(this, false)
            refresh()
        }
        content.addView(ui.button(s(if (status.pinSet) R.string.pin_change else R.string.pin_set)) {
            val (c, n, r) = Triple(current?.text?.toString(), new.text.toString(), repeat.text.toString())
            work({ safety.changePin(c, n, r) }) { res -> done(res.getOrElse { id.berani.present.Problem.App(id.berani.present.text(R.string.pin_error)) }, R.string.pin_saved) }
        }.apply { id = R.id.pin_save })
        if (status.pinSet) {
            content.addView(ui.button(s(R.string.pin_remove), color = Palette.CARD, textColor = Palette.TEXT) {
                val c = current?.text?.toString()
                work({ safety.changePin(c, null, null) }) { res -> done(res.getOrElse { id.berani.present.Problem.App(id.berani.present.text(R.string.pin_error)) }, R.string.pin_removed) }
            }.apply { id = R.id.pin_remove })

            content.addView(ui.heading(s(R.string.settings_wipe_after), 20f))
            content.addView(ui.body(s(R.string.wipe_after_explain), Palette.TEXT_MUTED, 16f))
            for (n in id.berani.present.Safety.WIPE_AFTER_CHOICES) {
                val label = if (n == null) s(R.string.wipe_after_never) else s(R.string.wipe_after_n, n)
                content.addView(ui.choice(label, status.wipeAfter?.toInt() == n, s(R.string.selected)) {
                    safety.changeWipeAfter(n)?.let { p -> pinNoteIsProblem = true; pinNote = p.render(strings, language) }
                    refresh()
                })
            }
        }

        content.addView(ui.heading(s(R.string.settings_disguise), 20f))
        if (status.pinSet) {
            content.addView(ui.body(s(R.string.settings_disguise_explain), Palette.TEXT_MUTED, 16f))
            val on = services.settings.disguised
            content.addView(ui.choice(s(R.string.settings_disguise), on, s(R.string.selected)) {
                services.settings.disguised = !on
                id.berani.platform.Disguise.apply(this, !on)
                refresh()
            }.apply { id = R.id.settings_disguise })
        } else {
            content.addView(ui.body(s(R.string.settings_disguise_needs_pin), Palette.TEXT_MUTED, 16f))
        }

        content.addView(ui.heading(s(R.string.home_safety), 20f))
        content.addView(ui.button(s(R.string.home_safety), color = Palette.CARD, textColor = Palette.TEXT) { go(GuidanceActivity::class.java) }
            .apply { id = R.id.settings_guidance })

        content.addView(ui.heading(s(R.string.settings_forget), 20f))
        content.addView(ui.body(s(R.string.settings_forget_explain), Palette.TEXT_MUTED, 16f))
        val forget = !safety.needsUnlock && runCatching { services.reporter.forgetAfterDelivery() }.getOrDefault(false)
        content.addView(ui.choice(s(R.string.settings_forget), forget, s(R.string.selected)) {
            work({ services.reporter.setForgetAfterDelivery(!forget) }) { refresh() }
        }.apply { id = R.id.settings_forget })

        content.addView(ui.heading(s(R.string.settings_wipe), 20f))
        content.addView(ui.body(s(R.string.settings_wipe_explain), Palette.TEXT_MUTED, 16f))
        content.addView(ui.button(s(R.string.settings_wipe), color = Palette.EXIT) {
            askWipe {
                toastProblem(s(R.string.wipe_done))
                showHome(this)
            }
        }.apply { id = R.id.settings_wipe })
    }

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

        renderSafety()

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
