// The app's own content provider, written on the framework ContentProvider API (no AndroidX):
// it hands out exactly two kinds of file —
//   content://id.berani.files/apk/Berani.apk       the installed app itself, read-only, to share
//   content://id.berani.files/capture/NAME.jpg     a temporary file the camera app writes a photo to
//   content://id.berani.files/relay/NAME.berani    a sealed relay bundle being shared, read-only
// and nothing else. It is not exported; other apps get one URI at a time through
// FLAG_GRANT_*_URI_PERMISSION.
package id.berani.platform

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import java.io.File
import java.io.FileNotFoundException

/** What a provider path names; plain Kotlin so the path rules are tested on the JVM. */
sealed class ProvidedFile {
    data object Apk : ProvidedFile()
    data class Capture(val name: String) : ProvidedFile()
    data class Relay(val name: String) : ProvidedFile()

    companion object {
        const val APK_NAME = "Berani.apk"
        private val CAPTURE_NAME = Regex("[a-z0-9-]{1,64}\\.jpg")
        private val RELAY_NAME = Regex("[a-z0-9-]{1,64}\\.berani")

        /** The file for a URI's path segments, or null for anything else (no `..`, no folders). */
        fun of(segments: List<String>): ProvidedFile? = when {
            segments == listOf("apk", APK_NAME) -> Apk
            segments.size == 2 && segments[0] == "capture" && CAPTURE_NAME.matches(segments[1]) -> Capture(segments[1])
            segments.size == 2 && segments[0] == "relay" && RELAY_NAME.matches(segments[1]) -> Relay(segments[1])
            else -> null
        }
    }
}

class BeraniFileProvider : ContentProvider() {
    override fun onCreate(): Boolean = true

    private fun target(uri: Uri): ProvidedFile =
        ProvidedFile.of(uri.pathSegments) ?: throw FileNotFoundException("no such file")

    private fun fileOf(t: ProvidedFile): File {
        val ctx = context ?: throw FileNotFoundException("no context")
        return when (t) {
            ProvidedFile.Apk -> File(ctx.applicationInfo.sourceDir ?: throw FileNotFoundException("no app file"))
            is ProvidedFile.Capture -> File(captureDir(ctx), t.name)
            is ProvidedFile.Relay -> File(relayDir(ctx), t.name)
        }
    }

    override fun getType(uri: Uri): String? = when (ProvidedFile.of(uri.pathSegments)) {
        ProvidedFile.Apk -> "application/vnd.android.package-archive"
        is ProvidedFile.Capture -> "image/jpeg"
        is ProvidedFile.Relay -> id.berani.present.Relay.MIME_TYPE
        null -> null
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        val t = target(uri)
        val file = fileOf(t)
        val name = when (t) {
            is ProvidedFile.Capture -> t.name
            is ProvidedFile.Relay -> t.name
            ProvidedFile.Apk -> ProvidedFile.APK_NAME
        }
        val columns = projection?.filter { it == OpenableColumns.DISPLAY_NAME || it == OpenableColumns.SIZE }?.toTypedArray()
            ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        return MatrixCursor(columns, 1).apply {
            addRow(columns.map { if (it == OpenableColumns.DISPLAY_NAME) name else file.length() })
        }
    }

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        val t = target(uri)
        val file = fileOf(t)
        return when (t) {
            ProvidedFile.Apk -> {
                if (mode != "r") throw SecurityException("the app file is read-only")
                ParcelFileDescriptor.open(file, ParcelFileDescriptor.MODE_READ_ONLY)
            }
            is ProvidedFile.Capture -> ParcelFileDescriptor.open(file, ParcelFileDescriptor.parseMode(mode))
            is ProvidedFile.Relay -> {
                if (mode != "r") throw SecurityException("a relay bundle is read-only")
                ParcelFileDescriptor.open(file, ParcelFileDescriptor.MODE_READ_ONLY)
            }
        }
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = 0
    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int = 0

    companion object {
        fun authority(ctx: Context) = "${ctx.packageName}.files"
        fun apkUri(ctx: Context): Uri = Uri.parse("content://${authority(ctx)}/apk/${ProvidedFile.APK_NAME}")
        fun captureUri(ctx: Context, name: String): Uri = Uri.parse("content://${authority(ctx)}/capture/$name")

        fun relayUri(ctx: Context, name: String): Uri = Uri.parse("content://${authority(ctx)}/relay/$name")

        /** Where an outgoing relay bundle is written for the share sheet (sealed; one at a time). */
        fun relayDir(ctx: Context): File = File(ctx.cacheDir, "relay").apply { mkdirs() }

        /** Where camera photos land before the core copies them in, encrypted; emptied after. */
        fun captureDir(ctx: Context): File = File(ctx.cacheDir, "capture").apply { mkdirs() }

        /** False when the app was installed from split APKs: the base APK alone would not run elsewhere. */
        fun canShareApk(ctx: Context): Boolean = ctx.applicationInfo.splitSourceDirs.isNullOrEmpty()
    }
}
