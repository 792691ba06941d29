// Share the app: the installed APK itself through the share sheet (Bluetooth, WhatsApp, no
// internet needed), the agency's download link and its QR code, and the volunteer code.
package id.berani.ui

import android.content.Intent
import android.graphics.Bitmap
import android.graphics.Color
import android.widget.ImageView
import android.widget.LinearLayout
import id.berani.R
import id.berani.platform.BeraniFileProvider
import id.berani.present.Palette
import id.berani.present.Sharing

class ShareActivity : BaseActivity() {
    private var codeNote: String? = null

    override fun screenTitle() = R.string.home_share

    private val link: String? get() = Sharing.downloadLink(services.profile(), services.config.downloadUrl)

    override fun render() {
        content.addView(ui.body(s(R.string.share_explain)))
        if (BeraniFileProvider.canShareApk(this)) {
            content.addView(ui.button(s(R.string.share_apk), s(R.string.share_apk_desc)) { shareApk() }.apply { id = R.id.share_apk })
        } else {
            content.addView(ui.body(s(R.string.share_apk_split), Palette.TEXT_MUTED))
        }
        val url = link
        content.addView(ui.heading(s(R.string.share_link_heading), 20f))
        if (url == null) {
            content.addView(ui.body(s(R.string.share_no_link), Palette.TEXT_MUTED))
        } else {
            content.addView(ui.body(url))
            content.addView(qrView(url))
            content.addView(ui.button(s(R.string.share_link)) { shareText(s(Sharing.message(url))) }.apply { id = R.id.share_link })
        }

        content.addView(ui.heading(s(R.string.volunteer_heading), 20f))
        content.addView(ui.body(s(R.string.volunteer_explain)))
        val input = ui.input(s(R.string.volunteer_hint), s(R.string.volunteer_hint)).apply {
            setText(services.volunteers.code() ?: "")
            id = R.id.volunteer_code
        }
        content.addView(input)
        (codeNote ?: services.volunteers.status()?.let { s(it) })?.let {
            content.addView(ui.body(it, Palette.TEXT_MUTED, 16f).apply { id = R.id.volunteer_note })
        }
        content.addView(ui.button(s(R.string.volunteer_save), color = Palette.CARD, textColor = Palette.TEXT) {
            val problem = services.volunteers.save(input.text.toString())
            codeNote = problem?.render(strings, language)
            refresh()
            if (problem == null) {
                // Counted off the main thread; the note shows the outcome when it is known.
                Thread {
                    services.volunteers.send()
                    runOnUiThread { if (!isFinishing) refresh() }
                }.start()
            }
        }.apply { id = R.id.volunteer_save })
    }

    private fun qrView(url: String): ImageView {
        val matrix = Sharing.qr(url)
        val quiet = 4
        val n = matrix.size + 2 * quiet
        val bmp = Bitmap.createBitmap(n, n, Bitmap.Config.ARGB_8888)
        for (y in 0 until n) for (x in 0 until n) {
            val dark = x - quiet in matrix.indices && y - quiet in matrix.indices && matrix[y - quiet][x - quiet]
            bmp.setPixel(x, y, if (dark) Color.BLACK else Color.WHITE)
        }
        return ImageView(this).apply {
            setImageBitmap(bmp)
            scaleType = ImageView.ScaleType.FIT_CENTER
            // Nearest-neighbour scaling keeps the modules sharp.
            drawable?.isFilterBitmap = false
            contentDescription = s(R.string.share_qr_desc, url)
            layoutParams = LinearLayout.LayoutParams(ui.dp(240), ui.dp(240)).apply { topMargin = ui.dp(8) }
        }
    }

    private fun shareApk() {
        val send = Intent(Intent.ACTION_SEND)
            .setType("application/vnd.android.package-archive")
            .putExtra(Intent.EXTRA_STREAM, BeraniFileProvider.apkUri(this))
            .putExtra(Intent.EXTRA_TEXT, s(Sharing.message(link)))
            .addFlags(Intent.FLAG_GRANT_READ_URI_PERMISSION)
        startActivity(Intent.createChooser(send, s(R.string.share_apk)))
    }

    private fun shareText(words: String) {
        val send = Intent(Intent.ACTION_SEND).setType("text/plain").putExtra(Intent.EXTRA_TEXT, words)
        startActivity(Intent.createChooser(send, s(R.string.share_link)))
    }
}
