// A voice note: MediaRecorder to AAC in an MPEG-4 file in the app's cache, handed to the core
// (which copies it in, encrypted) and then deleted.
package id.berani.ui

import android.content.Context
import android.media.MediaRecorder
import android.os.Build
import android.os.SystemClock
import java.io.File

class VoiceRecorder(private val ctx: Context) {
    private var recorder: MediaRecorder? = null
    private var file: File? = null
    private var startedAt = 0L

    val isRecording: Boolean get() = recorder != null

    /** Seconds recorded so far. */
    val seconds: Long get() = if (recorder == null) 0 else (SystemClock.elapsedRealtime() - startedAt) / 1000

    fun start() {
        val out = File(ctx.cacheDir, "voice-${System.currentTimeMillis()}.m4a")
        val r = if (Build.VERSION.SDK_INT >= 31) MediaRecorder(ctx) else @Suppress("DEPRECATION") MediaRecorder()
        try {
            r.setAudioSource(MediaRecorder.AudioSource.MIC)
            r.setOutputFormat(MediaRecorder.OutputFormat.MPEG_4)
            r.setAudioEncoder(MediaRecorder.AudioEncoder.AAC)
            // Speech at a small size: about 240 kB a minute.
            r.setAudioEncodingBitRate(32_000)
            r.setAudioSamplingRate(22_050)
            r.setOutputFile(out.path)
            r.prepare()
            r.start()
        } catch (e: Exception) {
            r.release()
            out.delete()
            throw e
        }
        recorder = r
        file = out
        startedAt = SystemClock.elapsedRealtime()
    }

    /** Stops and returns the recording, or null when it was too short to hold anything. */
    fun stop(): File? {
        val r = recorder ?: return null
        val f = file
        recorder = null
        file = null
        val ok = runCatching { r.stop() }.isSuccess
        r.release()
        if (!ok) {
            f?.delete()
            return null
        }
        return f
    }

    /** Stops without keeping anything (the screen went away mid-recording). */
    fun cancel() {
        stop()?.delete()
    }
}
