// The wizard's logic against the real core (JNA → libberani_ffi.so) and a live berani-server:
// every answer is saved in the draft at once, Back loses nothing, the wizard resumes after the
// app is killed, a voice note alone is a full report, and submit names the step to go back to.
package id.berani.present

import id.berani.IntakeServer
import id.berani.MemoryKeyStore
import id.berani.R
import id.berani.ResStrings
import id.berani.TestPaths
import id.berani.core.AgeBand
import id.berani.core.Category
import id.berani.core.ContactMethod
import id.berani.core.IncidentDate
import id.berani.core.ReportState
import id.berani.core.VictimSex
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import java.time.LocalDate

class WizardTest {
    private val server = IntakeServer.shared
    private val today = LocalDate.of(2026, 11, 20)
    private val id = ResStrings(Language.ID)

    @Test
    fun `walks every step, keeps answers through Back and a restart, and queues the report`() {
        val dir = tempDir("wizard-")
        val keys = MemoryKeyStore()
        val settings = AppSettings(MemoryKeyValue())
        var reporter = server.home(dir, keys)
        var w = Wizard(reporter, settings) { today }
        w.open()
        assertEquals(Step.DANGER, w.step)
        assertEquals("Langkah 1 dari 9", id.of(w.progress))

        assertNull(w.setInDanger(false))
        w.next()
        assertNull(w.chooseCategory(Category.NEGLECT))
        w.next()
        assertNull(w.chooseVictim(VictimSex.GIRL))
        assertNull(w.chooseAgeBand(AgeBand.AGE6_TO12))
        w.next()
        val cepu = w.search("cep").first { it.district == null }
        assertEquals("Cepu", cepu.area.name)
        assertNull(w.choosePlaceMatch(cepu))
        val village = w.villages().first()
        assertNull(w.chooseVillage(village.code))
        assertNull(w.setLocationDetail("dekat pasar"))
        w.next()
        assertNull(w.chooseWhen(WhenChoice.THIS_WEEK))
        assertEquals(IncidentDate.Approximate("2026-11-14", "2026-11-20"), w.draft.incidentDate)
        assertEquals(WhenChoice.THIS_WEEK, w.whenChoice)
        w.next()
        assertEquals(Step.TELL, w.step)
        assertEquals("Langkah 6 dari 9", id.of(w.progress))
        assertNull(w.setDescription("CONTOH SINTETIS: anak tidak diberi makan"))

        // Back, back: nothing is lost, because the answers are in the core's draft.
        assertTrue(w.back())
        assertTrue(w.back())
        assertEquals(Step.WHERE, w.step)
        assertEquals(cepu.area.code, w.draft.district)
        assertEquals("dekat pasar", w.draft.locationDetail)

        // The app is killed here: the core and the wizard are opened afresh.
        reporter.close()
        reporter = server.home(dir, keys)
        w = Wizard(reporter, settings) { today }
        w.open()
        assertEquals(Step.WHERE, w.step)
        assertEquals(Category.NEGLECT, w.draft.category)
        assertEquals("CONTOH SINTETIS: anak tidak diberi makan", w.draft.description)
        assertEquals(village.code, w.draft.village)
        assertTrue(w.hasStory)

        w.goTo(Step.CONTACT)
        val noConsent = w.setContact(ContactMethod.WHATS_APP, "0812 3456 7890", consent = false)
        assertEquals("Centang persetujuan dulu, atau pilih tetap tanpa nama.", noConsent!!.render(id, Language.ID))
        assertNull(w.draft.contact)
        assertNull(w.setContact(ContactMethod.WHATS_APP, "0812 3456 7890", consent = true))
        assertEquals("081234567890", w.draft.contact!!.number)
        val bad = w.setContact(ContactMethod.PHONE, "not a number", consent = true)
        assertTrue(bad is Problem.FromCore)
        assertEquals("081234567890", w.draft.contact!!.number)
        assertNull(w.setAnonymous())
        assertNull(w.draft.contact)

        w.goTo(Step.REVIEW)
        val review = w.review().associate { id.of(it.label) to (it.literal ?: id.of(it.answer!!)) }
        assertEquals("Penelantaran", review["Apa yang terjadi"])
        assertEquals("Anak perempuan", review["Korban"])
        assertEquals("${village.name}, Cepu", review["Tempat"])
        assertEquals("2026-11-14 – 2026-11-20", review["Waktu"])
        assertEquals("Tulisan, 40 huruf", review["Cerita"])
        assertEquals("Tidak, saya tetap tanpa nama", review["Dihubungi lewat"])

        val result = w.submit()
        assertTrue(result is SubmitResult.Queued)
        val report = (result as SubmitResult.Queued).report
        assertEquals(ReportState.QUEUED, report.state)
        assertNull(settings.wizardDraftId)
        assertEquals(listOf(report.id), reporter.outbox().map { it.id })
        assertTrue(reporter.drafts().isEmpty())

        // The next report starts from an empty draft at the first step.
        val again = Wizard(reporter, settings) { today }
        again.open()
        assertEquals(Step.DANGER, again.step)
        assertNull(again.draft.category)
        reporter.close()
    }

    @Test
    fun `a voice note with no words is a full report`() {
        val dir = tempDir("wizard-voice-")
        server.home(dir).use { reporter ->
            val w = Wizard(reporter, AppSettings(MemoryKeyValue())) { today }
            w.open()
            w.chooseCategory(Category.PHYSICAL)
            w.chooseDistrict(reporter.districts().first().code)
            assertFalse(w.hasStory)
            val note = TestPaths.voiceNote(dir)
            assertNull(w.attach(note.path, voiceNote = true))
            assertTrue(w.hasStory)
            assertTrue(w.draft.hasVoiceNote)
            val story = w.review().first { it.step == Step.TELL }
            assertEquals("Pesan suara", id.of(story.answer!!))
            assertTrue(w.submit() is SubmitResult.Queued)
        }
    }

    @Test
    fun `submit sends the reporter to the first step that is missing`() {
        server.home(tempDir("wizard-missing-")).use { reporter ->
            val w = Wizard(reporter, AppSettings(MemoryKeyValue())) { today }
            w.open()
            w.goTo(Step.REVIEW)
            val r = w.submit() as SubmitResult.Missing
            assertEquals(Step.WHAT, r.firstStep)
            assertEquals(3, r.problems.size)
            w.chooseCategory(Category.OTHER)
            w.chooseDistrict(reporter.districts().first().code)
            val r2 = w.submit() as SubmitResult.Missing
            assertEquals(Step.TELL, r2.firstStep)
            assertNotNull(w.draft.id)
            assertEquals(Step.WHERE, Wizard.stepOf("village"))
            assertEquals(Step.CONTACT, Wizard.stepOf("contact_number"))
        }
    }

    @Test
    fun `a wrong answer is refused with the core's words and leaves the draft as it was`() {
        server.home(tempDir("wizard-refused-")).use { reporter ->
            val w = Wizard(reporter, AppSettings(MemoryKeyValue())) { today }
            w.open()
            val p = w.chooseDistrict("99.99.99") as Problem.FromCore
            assertTrue(p.messageId.isNotBlank() && p.messageEn.isNotBlank())
            assertNull(w.draft.district)
            // A date in the future (the wizard's clock is behind the real one here).
            val future = w.chooseWhen(WhenChoice.EXACT, LocalDate.now().plusDays(3))
            assertTrue(future is Problem.FromCore)
            assertNull(w.draft.incidentDate)
            assertEquals(R.string.wizard_progress, w.progress.id)
        }
    }
}
