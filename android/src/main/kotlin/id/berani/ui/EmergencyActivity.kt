// Emergency help: every number, large, first.
package id.berani.ui

import id.berani.R
import id.berani.present.Emergency
import id.berani.present.Palette
import id.berani.present.Reach

class EmergencyActivity : BaseActivity() {
    override val emergencyFirst get() = true
    override fun screenTitle() = R.string.home_emergency

    override fun render() {
        content.addView(ui.body(s(R.string.em_intro)))
        val police = Emergency.all(services.profile()).first { it.number == Emergency.POLICE }
        content.addView(ui.button(s(police.label), s(police.description), Palette.EMERGENCY, Palette.ON_EMERGENCY, 22f, 72) { open(police.uri, Reach.CALL) })
        services.profile()?.let { content.addView(ui.body(s(R.string.em_agency, it.agencyName), Palette.TEXT_MUTED, 16f)) }
    }
}
