// Passing the app on: the link to the agency's download page and its QR code.
package id.berani.present

import id.berani.R
import id.berani.core.AgencyProfile
import io.nayuki.qrcodegen.QrCode

object Sharing {
    /** The download page: the signed profile's, else the one built into the app, else none. */
    fun downloadLink(profile: AgencyProfile?, builtIn: String?): String? =
        profile?.downloadUrl?.takeIf { it.isNotBlank() } ?: builtIn?.takeIf { it.isNotBlank() }

    /** The message that goes with the shared app or link. */
    fun message(link: String?): Text =
        if (link == null) text(R.string.share_message_no_link) else text(R.string.share_message, link)

    /** The QR code of [link]: `true` is a dark module; rows top to bottom. */
    fun qr(link: String): Array<BooleanArray> {
        val code = QrCode.encodeText(link, QrCode.Ecc.MEDIUM)
        return Array(code.size) { y -> BooleanArray(code.size) { x -> code.getModule(x, y) } }
    }
}
