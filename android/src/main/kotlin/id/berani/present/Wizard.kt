// The report wizard without its screens: which question is shown, and every answer written to
// the core's draft the moment it is given, one field at a time.
//
// The draft lives in the core's encrypted store, not here: going Back, rotating the phone or
// the app being killed loses nothing, because the screen is always drawn again from the saved
// draft. The wizard remembers only the draft id and the step (AppSettings) to resume there.
package id.berani.present

import id.berani.R
import id.berani.core.AgeBand
import id.berani.core.Area
import id.berani.core.AreaMatch
import id.berani.core.BeraniException
import id.berani.core.Category
import id.berani.core.Contact
import id.berani.core.ContactMethod
import id.berani.core.Draft
import id.berani.core.IncidentDate
import id.berani.core.OutboxReport
import id.berani.core.PlaceType
import id.berani.core.ProfileProblem
import id.berani.core.Relationship
import id.berani.core.ReporterInterface
import id.berani.core.ReporterRole
import id.berani.core.VictimSex
import java.time.LocalDate

/** The questions, one per screen, in order. */
enum class Step(val title: Int) {
    DANGER(R.string.step_danger),
    WHAT(R.string.step_what),
    WHO(R.string.step_who),
    WHERE(R.string.step_where),
    WHEN(R.string.step_when),
    TELL(R.string.step_tell),
    MEDIA(R.string.step_media),
    CONTACT(R.string.step_contact),
    REVIEW(R.string.step_review),
}

/** The answers to "When did it happen?". */
enum class WhenChoice(val label: Int) {
    TODAY(R.string.when_today),
    YESTERDAY(R.string.when_yesterday),
    THIS_WEEK(R.string.when_this_week),
    THIS_MONTH(R.string.when_this_month),
    EXACT(R.string.when_pick_date),
    UNKNOWN(R.string.when_unknown),
}

/** One line of the review screen: the step to go back to, what it asks, and the answer. */
data class ReviewLine(val step: Step, val label: Text, val answer: Text?, val literal: String? = null)

sealed class SubmitResult {
    /** Sealed and queued: the draft is gone, the report is in the outbox. */
    data class Queued(val report: OutboxReport) : SubmitResult()

    /** Something needed is missing; [firstStep] is where to send the reporter. */
    data class Missing(val problems: List<Problem>, val firstStep: Step) : SubmitResult()

    /** It could not be queued now (no agency profile yet, storage); the draft is kept. */
    data class Failed(val problem: Problem) : SubmitResult()
}

class Wizard(
    private val reporter: ReporterInterface,
    private val settings: AppSettings,
    private val today: () -> LocalDate = { LocalDate.now() },
) {
    /** The draft as last saved by the core. */
    lateinit var draft: Draft
        private set

    var step: Step = Step.DANGER
        private set

    /** Resumes the draft and step of last time, or starts a new draft. */
    fun open() {
        val saved = settings.wizardDraftId?.let { id ->
            try {
                reporter.draft(id)
            } catch (_: BeraniException.NotFound) {
                null
            }
        }
        if (saved != null) {
            draft = saved
            step = Step.entries.getOrElse(settings.wizardStep) { Step.DANGER }
        } else {
            draft = reporter.createDraft()
            step = Step.DANGER
            settings.wizardDraftId = draft.id
            settings.wizardStep = 0
        }
    }

    /** "Langkah 2 dari 9". */
    val progress: Text get() = text(R.string.wizard_progress, step.ordinal + 1, Step.entries.size)

    /** Fraction done, for the progress bar: 1..[Step.entries].size. */
    val position: Int get() = step.ordinal + 1

    val isFirst: Boolean get() = step == Step.DANGER
    val isLast: Boolean get() = step == Step.REVIEW

    /** Goes to the next question (answers are already saved). */
    fun next() = goTo(Step.entries[minOf(step.ordinal + 1, Step.entries.lastIndex)])

    /** Goes to the previous question; false on the first one (the screen then closes, the draft stays). */
    fun back(): Boolean {
        if (isFirst) return false
        goTo(Step.entries[step.ordinal - 1])
        return true
    }

    fun goTo(target: Step) {
        step = target
        settings.wizardStep = target.ordinal
    }

    private fun update(change: (String) -> Draft): Problem? = try {
        draft = change(draft.id)
        null
    } catch (e: BeraniException.InvalidInput) {
        Problem.FromCore(e.messageId, e.messageEn)
    } catch (e: BeraniException) {
        Problem.App(text(R.string.error_save))
    }

    // ----- the answers, each saved at once -------------------------------------------------

    fun setInDanger(value: Boolean) = update { reporter.setInDangerNow(it, value) }
    fun chooseCategory(value: Category?) = update { reporter.setCategory(it, value) }
    fun chooseVictim(value: VictimSex?) = update { reporter.setVictimSex(it, value) }
    fun chooseAgeBand(value: AgeBand?) = update { reporter.setVictimAgeBand(it, value) }
    fun chooseRelationship(value: Relationship?) = update { reporter.setPerpetratorRelationship(it, value) }
    fun chooseRole(value: ReporterRole?) = update { reporter.setReporterRole(it, value) }
    fun choosePlace(value: PlaceType?) = update { reporter.setPlaceType(it, value) }
    fun chooseDistrict(code: String?) = update { reporter.setDistrict(it, code) }
    fun chooseVillage(code: String?) = update { reporter.setVillage(it, code) }

    /** The districts of the agency's regency. */
    fun districts(): List<Area> = reporter.districts()

    /** The villages of the chosen district (none before a district is chosen). */
    fun villages(): List<Area> = draft.district?.let { reporter.villages(it) }.orEmpty()

    /** Districts and villages whose name starts with what was typed. */
    fun search(query: String): List<AreaMatch> = if (query.isBlank()) emptyList() else reporter.searchAreas(query.trim())

    /** A search result: its district, and its village when it is one. */
    fun choosePlaceMatch(match: AreaMatch): Problem? {
        val district = match.district?.code ?: match.area.code
        if (draft.district != district) chooseDistrict(district)?.let { return it }
        return if (match.district != null) chooseVillage(match.area.code) else null
    }

    /** Saves free text only when it changed, so leaving a step does not rewrite the draft. */
    fun setLocationDetail(value: String): Problem? =
        if (value.ifBlank { null } == draft.locationDetail) null else update { reporter.setLocationDetail(it, value.ifBlank { null }) }

    fun setDescription(value: String): Problem? =
        if (value.ifBlank { null } == draft.description) null else update { reporter.setDescription(it, value.ifBlank { null }) }

    fun chooseWhen(choice: WhenChoice, exact: LocalDate? = null): Problem? {
        val d = today()
        val date = when (choice) {
            WhenChoice.TODAY -> IncidentDate.Exact(d.toString())
            WhenChoice.YESTERDAY -> IncidentDate.Exact(d.minusDays(1).toString())
            WhenChoice.THIS_WEEK -> IncidentDate.Approximate(d.minusDays(6).toString(), d.toString())
            WhenChoice.THIS_MONTH -> IncidentDate.Approximate(d.minusDays(29).toString(), d.toString())
            WhenChoice.EXACT -> IncidentDate.Exact((exact ?: d).toString())
            WhenChoice.UNKNOWN -> IncidentDate.Unknown
        }
        return update { reporter.setIncidentDate(it, date) }
    }

    /** Which "when" answer the saved date is, for showing it selected. */
    val whenChoice: WhenChoice?
        get() {
            val d = today()
            return when (val date = draft.incidentDate) {
                null -> null
                is IncidentDate.Unknown -> WhenChoice.UNKNOWN
                is IncidentDate.Exact -> when (date.date) {
                    d.toString() -> WhenChoice.TODAY
                    d.minusDays(1).toString() -> WhenChoice.YESTERDAY
                    else -> WhenChoice.EXACT
                }
                is IncidentDate.Approximate -> when {
                    date.to != d.toString() -> WhenChoice.EXACT
                    date.from == d.minusDays(6).toString() -> WhenChoice.THIS_WEEK
                    date.from == d.minusDays(29).toString() -> WhenChoice.THIS_MONTH
                    else -> WhenChoice.EXACT
                }
            }
        }

    /**
     * "Keep metadata as evidence" for the next photo or file only: off by default, offered with
     * the core's warning ([keepMetadataWarning]), and off again after each file. Voice notes
     * recorded here are always stripped.
     */
    var keepMetadataNext: Boolean = false

    /** The core's warning before a file keeps its metadata, in the reporter's language. */
    fun keepMetadataWarning(language: Language): String =
        id.berani.core.keepMetadataWarning().let { language.pick(it.id, it.en) }

    /** Attachments added in this session with their metadata kept (the core stores no flag for it). */
    val keptMetadata: MutableSet<String> = java.util.concurrent.ConcurrentHashMap.newKeySet()

    /** Copies a file (a photo, a recording) into the draft, encrypted; the caller then deletes it. */
    fun attach(path: String, voiceNote: Boolean): Problem? = try {
        val keep = keepMetadataNext && !voiceNote
        val a = reporter.attachFile(draft.id, path, voiceNote, keep)
        if (keep) keptMetadata += a.id
        if (!voiceNote) keepMetadataNext = false
        draft = reporter.draft(draft.id)
        null
    } catch (e: BeraniException.InvalidInput) {
        Problem.FromCore(e.messageId, e.messageEn)
    } catch (e: BeraniException) {
        Problem.App(text(R.string.error_attach))
    }

    fun removeAttachment(attachmentId: String) = update { reporter.removeAttachment(it, attachmentId) }

    /** Words or a voice note: either one is a full report. */
    val hasStory: Boolean get() = !draft.description.isNullOrBlank() || draft.hasVoiceNote

    fun setAnonymous() = update { reporter.setContact(it, null) }

    /** Leaves a number, only when the reporter ticked the consent line. */
    fun setContact(method: ContactMethod, number: String, consent: Boolean): Problem? {
        if (!consent) return Problem.App(text(R.string.contact_consent_needed))
        if (number.isBlank()) return Problem.App(text(R.string.contact_number_needed))
        return update { reporter.setContact(it, Contact(method, number)) }
    }

    // ----- review and send ---------------------------------------------------------------------

    private fun areaName(areas: () -> List<Area>, code: String?): String? =
        code?.let { c -> runCatching { areas().firstOrNull { it.code == c }?.name }.getOrNull() ?: c }

    fun review(): List<ReviewLine> {
        val d = draft
        val none = text(R.string.review_not_answered)
        fun <T> choice(items: List<ChoiceItem<T>>, v: T?): Text = if (v == null) none else text(Labels.labelOf(items, v))
        val place = listOfNotNull(
            areaName({ reporter.villages(d.district!!) }, d.village),
            areaName({ reporter.districts() }, d.district),
        ).joinToString(", ")
        val whenLine = when (val date = d.incidentDate) {
            null -> ReviewLine(Step.WHEN, text(R.string.review_when), none)
            is IncidentDate.Unknown -> ReviewLine(Step.WHEN, text(R.string.review_when), text(R.string.when_unknown))
            is IncidentDate.Exact -> ReviewLine(Step.WHEN, text(R.string.review_when), null, date.date)
            is IncidentDate.Approximate -> ReviewLine(Step.WHEN, text(R.string.review_when), null, "${date.from} – ${date.to}")
        }
        val story = when {
            !d.description.isNullOrBlank() && d.hasVoiceNote -> text(R.string.review_story_both, d.description.length)
            !d.description.isNullOrBlank() -> text(R.string.review_story_text, d.description.length)
            d.hasVoiceNote -> text(R.string.review_story_voice)
            else -> none
        }
        return listOf(
            ReviewLine(Step.DANGER, text(R.string.review_danger), text(if (d.inDangerNow) R.string.yes else R.string.no)),
            ReviewLine(Step.WHAT, text(R.string.review_what), choice(Labels.categories, d.category)),
            ReviewLine(Step.WHO, text(R.string.review_victim), choice(Labels.victims, d.victimSex)),
            ReviewLine(Step.WHO, text(R.string.review_age), choice(Labels.ageBands, d.victimAgeBand)),
            if (place.isEmpty()) ReviewLine(Step.WHERE, text(R.string.review_where), none)
            else ReviewLine(Step.WHERE, text(R.string.review_where), null, place),
            whenLine,
            ReviewLine(Step.TELL, text(R.string.review_story), story),
            ReviewLine(Step.MEDIA, text(R.string.review_files), text(R.string.review_files_count, d.attachments.size)),
            ReviewLine(
                Step.CONTACT, text(R.string.review_contact),
                if (d.contact == null) text(R.string.contact_anonymous) else text(Labels.labelOf(Labels.contactMethods, d.contact.method)),
            ),
        )
    }

    /** Seals and queues the draft; on success the wizard forgets it and starts afresh next time. */
    fun submit(): SubmitResult = try {
        val report = reporter.submit(draft.id)
        settings.wizardDraftId = null
        settings.wizardStep = 0
        SubmitResult.Queued(report)
    } catch (e: BeraniException.Incomplete) {
        val steps = e.problems.map { stepOf(it.field) }
        SubmitResult.Missing(e.problems.map { Problem.FromCore(it.messageId, it.messageEn) }, steps.minBy { it.ordinal })
    } catch (e: BeraniException.Profile) {
        val t = if (e.problem == ProfileProblem.EXPIRED) R.string.error_profile_expired else R.string.error_no_profile
        SubmitResult.Failed(Problem.App(text(t)))
    } catch (e: BeraniException) {
        SubmitResult.Failed(Problem.App(text(R.string.error_save)))
    }

    /** Deletes the draft and its files, at the reporter's request. */
    fun discard() {
        runCatching { reporter.deleteDraft(draft.id) }
        settings.wizardDraftId = null
        settings.wizardStep = 0
    }

    companion object {
        /** The step that asks for a field the core names in an error. */
        fun stepOf(field: String): Step = when (field) {
            "in_danger_now" -> Step.DANGER
            "category" -> Step.WHAT
            "victim_sex", "victim_age_band", "reporter_role", "perpetrator_relationship" -> Step.WHO
            "district", "village", "location_detail", "place_type", "location" -> Step.WHERE
            "incident_date" -> Step.WHEN
            "description" -> Step.TELL
            "attachment", "attachments" -> Step.MEDIA
            "contact", "contact_number" -> Step.CONTACT
            else -> Step.REVIEW
        }
    }
}
