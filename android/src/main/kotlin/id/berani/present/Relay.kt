// Relay through a volunteer, without Android. The sending side writes a queued report's
// sealed parts as one bundle file (the core's relay_export) into the folder the app's
// FileProvider serves, for the share sheet. The carrying side copies an incoming file into a
// private folder (size-limited), lets the core check it through (relay_inspect), asks
// "Bawa laporan ini?" with only what the check reveals, and on yes imports it into the outbox
// (relay_import), where delivery takes it like the phone's own reports.
package id.berani.present

import id.berani.R
import id.berani.core.BeraniException
import id.berani.core.OutboxReport
import id.berani.core.ProfileProblem
import id.berani.core.RelayBundle
import id.berani.core.RelayInfo
import id.berani.core.ReportState
import id.berani.core.ReporterInterface
import id.berani.core.relayInfo
import java.io.File
import java.io.IOException
import java.io.InputStream
import java.security.SecureRandom

/** Words the person sees in both languages, Indonesian first: the core's own pairs. */
data class Bilingual(val id: String, val en: String) {
    /** Indonesian, then English below it (once, when both are the same). */
    fun both(): String = if (id == en) id else "$id\n\n$en"
}

/**
 * A problem on the relay screens in Indonesian first, English second: the core's message pair,
 * or an app string read in each language.
 */
fun Problem.bilingual(indonesian: Strings, english: Strings): Bilingual = when (this) {
    is Problem.FromCore -> Bilingual(messageId, messageEn)
    is Problem.App -> Bilingual(indonesian.of(text), english.of(text))
}

object Relay {
    /** The bundle's media type; the manifest's intent filters name the same (checked by a test). */
    const val MIME_TYPE = "application/vnd.berani.relay"

    /** The bundle's file name extension, without the dot. */
    const val EXTENSION = "berani"

    /** What a bundle is and what its carrier cannot do, from the core. */
    val info: RelayInfo by lazy { relayInfo() }

    /** Why the carrier cannot read it, Indonesian first (the core's words). */
    fun explanation(): Bilingual = Bilingual(info.explanationId, info.explanationEn)

    /** Only a report still waiting to be sent can go via a volunteer (the core refuses others too). */
    fun canSend(r: OutboxReport): Boolean = r.state == ReportState.QUEUED || r.state == ReportState.SENDING

    /** The outgoing bundle's file name: a report's own, so sharing two reports gives two files. */
    fun fileName(reportId: String): String =
        "laporan-${reportId.filter { it.isLetterOrDigit() }.lowercase().take(16)}.$EXTENSION"

    /**
     * The largest incoming file copied: the most parts a report has, each at most the profile's
     * attachment limit plus the age overhead and a tar header, and the manifest.
     */
    fun maxBundleBytes(maxAttachmentBytes: ULong): Long {
        val perPart = maxAttachmentBytes.toLong().let { it + it / 65_536 * 16 + 16 + 1024 + 512 + 511 }
        return MAX_PARTS * perPart + 64 * 1024 + 2048
    }

    /** Part 0, the report, and at most 20 attachments (the core's MAX_PARTS). */
    const val MAX_PARTS = 21L

    /** "3,2 MB" or "12 KB": a size in plain words. */
    fun size(bytes: ULong): String {
        val b = bytes.toLong()
        return when {
            b >= 1_000_000 -> String.format(java.util.Locale.ROOT, "%.1f MB", b / 1_000_000.0).replace('.', ',')
            b >= 1_000 -> "${(b + 999) / 1_000} KB"
            else -> "$b B"
        }
    }

    /** Why the core refused: its own words for a relay problem, else one of the app's. */
    fun problem(e: Throwable, fallback: Int): Problem = when (e) {
        is BeraniException.Relay -> Problem.FromCore(e.messageId, e.messageEn)
        is BeraniException.Profile ->
            if (e.problem == ProfileProblem.NOT_INSTALLED || e.problem == ProfileProblem.NO_TRUSTED_KEY) Problem.App(text(R.string.relay_no_profile))
            else Problem.App(text(fallback))
        else -> Problem.App(text(fallback))
    }
}

/** The sending side: one bundle per report in [dir] (the FileProvider's `relay` folder). */
class RelaySend(private val reporter: () -> ReporterInterface, private val dir: File) {
    sealed class Outcome {
        /** The bundle is written: share [file]. */
        data class Ready(val file: File, val bundle: RelayBundle) : Outcome()
        data class Refused(val problem: Problem) : Outcome()
    }

    /**
     * Writes report [reportId]'s bundle. Bundles shared before are deleted first: a shared
     * phone keeps at most the one being shared (they are sealed, but need not linger).
     */
    fun export(reportId: String): Outcome {
        dir.mkdirs()
        dir.listFiles()?.forEach { it.delete() }
        val file = File(dir, Relay.fileName(reportId))
        return try {
            Outcome.Ready(file, reporter().relayExport(reportId, file.path))
        } catch (e: BeraniException) {
            file.delete()
            Outcome.Refused(Relay.problem(e, R.string.relay_export_failed))
        }
    }

    /** Deletes the bundles written here (after a wipe, or when the screen is left). */
    fun clear() {
        dir.listFiles()?.forEach { it.delete() }
    }
}

/** The carrying side: receive a file, show what the core's check reveals, import on yes. */
class RelayCarry(
    private val reporter: () -> ReporterInterface,
    private val inbox: File,
    /** The size limit for the profile's attachment limit ([Relay.maxBundleBytes]). */
    private val maxBytes: (ULong) -> Long = Relay::maxBundleBytes,
) {
    sealed class State {
        /** Nothing received yet (the file is being read). */
        data object Reading : State()

        /** Ask "Bawa laporan ini?": [parts] parts, [size] in plain words, for [agency]. */
        data class Confirm(val bundle: RelayBundle, val agency: String) : State() {
            val facts: Text get() = text(R.string.relay_facts, bundle.parts.toInt(), Relay.size(bundle.bytes), agency)
        }

        /** Imported into the outbox ([RelayBundle.already]: it was there, nothing changed). */
        data class Imported(val bundle: RelayBundle) : State() {
            val message: Text get() = text(if (bundle.already) R.string.relay_already else R.string.relay_imported)
        }

        /** The carrier said no: the copy is deleted. */
        data object Declined : State()

        /** Not accepted, with the reason. */
        data class Refused(val problem: Problem) : State()
    }

    @Volatile var state: State = State.Reading
        private set

    private var file: File? = null

    /**
     * Copies the incoming file ([open] gives its stream, null when there is none) into the
     * private inbox, refusing one larger than the profile allows before reading further, then
     * checks it through. Nothing goes into the outbox here.
     */
    fun receive(open: () -> InputStream?): State {
        discard()
        val r = reporter()
        val profile = runCatching { r.profile() }.getOrNull()
            ?: return State.Refused(Problem.App(text(R.string.relay_no_profile))).also { state = it }
        val limit = maxBytes(profile.maxAttachmentBytes)
        inbox.mkdirs()
        // Files left by a copy that never finished (the app was killed): nothing else lives here.
        inbox.listFiles()?.forEach { it.delete() }
        val copy = File(inbox, "in-${randomName()}.${Relay.EXTENSION}")
        val copied: Problem? = try {
            val input = open() ?: return State.Refused(Problem.App(text(R.string.relay_no_file))).also { state = it }
            input.use { src ->
                copy.outputStream().use { dst ->
                    val buf = ByteArray(64 * 1024)
                    var total = 0L
                    var tooBig = false
                    while (true) {
                        val n = src.read(buf)
                        if (n < 0) break
                        total += n
                        if (total > limit) {
                            tooBig = true
                            break
                        }
                        dst.write(buf, 0, n)
                    }
                    if (tooBig) Problem.App(text(R.string.relay_too_big, Relay.size(limit.toULong()))) else null
                }
            }
        } catch (_: IOException) {
            Problem.App(text(R.string.relay_unreadable))
        } catch (_: SecurityException) {
            Problem.App(text(R.string.relay_unreadable))
        }
        if (copied != null) {
            copy.delete()
            return State.Refused(copied).also { state = it }
        }
        file = copy
        state = try {
            State.Confirm(r.relayInspect(copy.path), profile.agencyName)
        } catch (e: BeraniException) {
            discard()
            State.Refused(Relay.problem(e, R.string.relay_unreadable))
        }
        return state
    }

    /** Yes: imports the checked file into the outbox; the copy is deleted either way. */
    fun confirm(): State {
        val copy = file
        if (state !is State.Confirm || copy == null) return state
        state = try {
            State.Imported(reporter().relayImport(copy.path))
        } catch (e: BeraniException) {
            State.Refused(Relay.problem(e, R.string.relay_import_failed))
        } finally {
            discard()
        }
        return state
    }

    /** No: the copy is deleted, nothing is stored. */
    fun decline(): State {
        discard()
        state = State.Declined
        return state
    }

    private fun discard() {
        file?.delete()
        file = null
    }

    private fun randomName(): String {
        val b = ByteArray(8).also { SecureRandom().nextBytes(it) }
        return b.joinToString("") { "%02x".format(it) }
    }
}
