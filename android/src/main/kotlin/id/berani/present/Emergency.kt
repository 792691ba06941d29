// The emergency numbers every screen shows: 112, SAPA 129 (call and WhatsApp) and the agency's
// own hotlines from its signed profile.
package id.berani.present

import id.berani.R
import id.berani.core.AgencyProfile

/** How an emergency action reaches help. */
enum class Reach { CALL, WHATSAPP }

/**
 * One button of the emergency bar: [label] is what it says, [description] what TalkBack reads,
 * [uri] what it opens (`tel:` for the dialer, `https://wa.me/` for WhatsApp).
 */
data class EmergencyAction(val reach: Reach, val label: Text, val description: Text, val number: String, val uri: String)

object Emergency {
    const val NATIONAL = "112"
    const val POLICE = "110"
    const val SAPA = "129"
    const val SAPA_WHATSAPP = "08111-129-129"

    /** The dialer URI for [number]: digits and a leading `+` only. */
    fun telUri(number: String): String = "tel:" + number.filterIndexed { i, c -> c.isDigit() || (c == '+' && i == 0) }

    /** The WhatsApp link for an Indonesian number: `08…` becomes `628…`, `+62…` becomes `62…`. */
    fun whatsAppUri(number: String): String {
        val digits = number.filter { it.isDigit() }
        val international = when {
            digits.startsWith("62") -> digits
            digits.startsWith("0") -> "62" + digits.drop(1)
            else -> digits
        }
        return "https://wa.me/$international"
    }

    /**
     * The actions of the emergency bar, in the order shown: 112, SAPA 129 by phone, SAPA 129 by
     * WhatsApp, then each hotline of the agency [profile] (call, and WhatsApp when it has one).
     */
    fun bar(profile: AgencyProfile?): List<EmergencyAction> {
        val actions = mutableListOf(
            EmergencyAction(Reach.CALL, text(R.string.em_call_112), text(R.string.em_call_112_desc), NATIONAL, telUri(NATIONAL)),
            EmergencyAction(Reach.CALL, text(R.string.em_call_sapa), text(R.string.em_call_sapa_desc), SAPA, telUri(SAPA)),
            EmergencyAction(
                Reach.WHATSAPP, text(R.string.em_whatsapp_sapa), text(R.string.em_whatsapp_sapa_desc),
                SAPA_WHATSAPP, whatsAppUri(SAPA_WHATSAPP),
            ),
        )
        for (h in profile?.hotlines.orEmpty()) {
            actions += EmergencyAction(
                Reach.CALL, text(R.string.em_call_hotline, h.name), text(R.string.em_call_hotline_desc, h.name, h.number),
                h.number, telUri(h.number),
            )
            val wa = h.whatsapp
            if (!wa.isNullOrBlank()) {
                actions += EmergencyAction(
                    Reach.WHATSAPP, text(R.string.em_whatsapp_hotline, h.name), text(R.string.em_whatsapp_hotline_desc, h.name, wa),
                    wa, whatsAppUri(wa),
                )
            }
        }
        return actions
    }

    /** The full emergency screen: the bar's actions and the police. */
    fun all(profile: AgencyProfile?): List<EmergencyAction> =
        bar(profile).toMutableList().apply {
            add(1, EmergencyAction(Reach.CALL, text(R.string.em_call_police), text(R.string.em_call_police_desc), POLICE, telUri(POLICE)))
        }
}
