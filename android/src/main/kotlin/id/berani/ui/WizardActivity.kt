// The report wizard: one question per screen, a progress bar, Back that never loses an
// answer. Every answer goes to the core's draft at once (Wizard); this screen only draws the
// current step from the saved draft and passes taps and text on.
package id.berani.ui

import android.Manifest
import android.app.AlertDialog
import android.app.DatePickerDialog
import android.content.Intent
import android.net.Uri
import android.provider.MediaStore
import android.widget.CheckBox
import android.widget.EditText
import android.widget.ProgressBar
import android.widget.TextView
import android.util.TypedValue
import id.berani.R
import id.berani.core.AttachmentKind
import id.berani.core.ContactMethod
import id.berani.platform.BeraniFileProvider
import id.berani.platform.DeliveryScheduler
import id.berani.platform.SendNow
import id.berani.present.ChoiceItem
import id.berani.present.Labels
import id.berani.present.Palette
import id.berani.present.Problem
import id.berani.present.Step
import id.berani.present.SubmitResult
import id.berani.present.WhenChoice
import id.berani.present.Wizard
import java.io.File
import java.time.LocalDate

class WizardActivity : BaseActivity() {
    lateinit var wizard: Wizard
        private set
    private var recorder: VoiceRecorder? = null
    private var pendingText: (() -> Unit)? = null
    private var search = ""
    private var wantsContact = false
    private var problems: List<String> = emptyList()
    private var capture: File? = null
    private var sending = false

    override val emergencyFirst get() = ::wizard.isInitialized && wizard.draft.inDangerNow
    override fun screenTitle() = R.string.wizard_title

    override fun onCreate(savedInstanceState: android.os.Bundle?) {
        // Locked: onResume shows the PIN screen instead; the wizard opens after the PIN.
        if (!services.safety.needsUnlock) {
            wizard = Wizard(services.reporter, services.settings)
            wizard.open()
            wantsContact = wizard.draft.contact != null
        }
        super.onCreate(savedInstanceState)
        // Android 13+ (and always from targetSdk 36): system Back arrives here, not in
        // onBackPressed; it goes one question back, like the Back button.
        if (android.os.Build.VERSION.SDK_INT >= 33) {
            onBackInvokedDispatcher.registerOnBackInvokedCallback(android.window.OnBackInvokedDispatcher.PRIORITY_DEFAULT) { back() }
        }
    }

    override fun onPause() {
        saveText()
        recorder?.let { r ->
            // Keep what was said so far rather than lose it.
            r.stop()?.let { f -> attachAndDelete(f, voiceNote = true) }
            recorder = null
        }
        super.onPause()
    }

    @Deprecated("framework Activity API")
    override fun onBackPressed() {
        back()
    }

    private fun saveText(): Boolean {
        val save = pendingText ?: return true
        save()
        return problems.isEmpty()
    }

    private fun show(p: Problem?) {
        problems = listOfNotNull(p?.render(strings, language))
    }

    fun next() {
        if (!saveText()) return refresh()
        problems = emptyList()
        wizard.next()
        refresh()
    }

    fun back() {
        saveText()
        problems = emptyList()
        if (!wizard.back()) finish() else refresh()
    }

    override fun render() {
        pendingText = null
        content.addView(ProgressBar(this, null, android.R.attr.progressBarStyleHorizontal).apply {
            max = Step.entries.size
            progress = wizard.position
            contentDescription = s(wizard.progress)
            minimumHeight = ui.dp(8)
        })
        content.addView(ui.body(s(wizard.progress), Palette.TEXT_MUTED, 16f))
        content.addView(ui.heading(s(wizard.step.title)))
        when (wizard.step) {
            Step.DANGER -> danger()
            Step.WHAT -> what()
            Step.WHO -> who()
            Step.WHERE -> where()
            Step.WHEN -> whenStep()
            Step.TELL -> tell()
            Step.MEDIA -> media()
            Step.CONTACT -> contact()
            Step.REVIEW -> review()
        }
        for (p in problems) content.addView(ui.body(p, Palette.ERROR).apply { id = R.id.wizard_problem; accessibilityLiveRegion = android.view.View.ACCESSIBILITY_LIVE_REGION_POLITE })
        val backButton = ui.button(s(R.string.back), color = Palette.CARD, textColor = Palette.TEXT) { back() }.apply { id = R.id.wizard_back }
        val nextButton = if (wizard.isLast) {
            ui.button(s(if (sending) R.string.sending_wait else R.string.send_report)) { if (!sending) submit() }.apply { id = R.id.wizard_send }
        } else {
            ui.button(s(R.string.next)) { next() }.apply { id = R.id.wizard_next }
        }
        footer.addView(ui.pair(backButton, nextButton))
    }

    private fun <T> choices(items: List<ChoiceItem<T>>, selected: T?, pick: (T?) -> Problem?) {
        for (item in items) {
            content.addView(ui.choice(s(item.label), item.value == selected, s(R.string.selected)) {
                show(pick(if (item.value == selected) null else item.value))
                refresh()
            })
        }
    }

    private fun danger() {
        content.addView(ui.body(s(R.string.danger_explain)))
        val d = wizard.draft
        content.addView(ui.choice(s(R.string.danger_yes), d.inDangerNow, s(R.string.selected)) {
            show(wizard.setInDanger(true))
            refresh()
        }.apply { id = R.id.danger_yes })
        content.addView(ui.choice(s(R.string.danger_no), !d.inDangerNow, s(R.string.selected)) {
            show(wizard.setInDanger(false))
            if (problems.isEmpty()) next() else refresh()
        }.apply { id = R.id.danger_no })
    }

    private fun what() {
        content.addView(ui.body(s(R.string.what_explain)))
        for (c in Labels.categories) {
            val selected = wizard.draft.category == c.value
            content.addView(ui.card(c.icon, s(c.label), s(c.description!!), selected, s(R.string.selected)) {
                show(wizard.chooseCategory(c.value))
                if (problems.isEmpty() && !selected) next() else refresh()
            })
        }
    }

    private fun who() {
        val d = wizard.draft
        content.addView(ui.heading(s(R.string.who_victim), 20f))
        choices(Labels.victims, d.victimSex, wizard::chooseVictim)
        content.addView(ui.heading(s(R.string.who_age), 20f))
        choices(Labels.ageBands, d.victimAgeBand, wizard::chooseAgeBand)
        content.addView(ui.heading(s(R.string.who_relationship), 20f))
        choices(Labels.relationships, d.perpetratorRelationship, wizard::chooseRelationship)
        content.addView(ui.heading(s(R.string.who_role), 20f))
        choices(Labels.roles, d.reporterRole, wizard::chooseRole)
    }

    private fun where() {
        val d = wizard.draft
        val box = ui.input(s(R.string.where_search_hint), s(R.string.where_search_hint)).apply {
            setText(search)
            id = R.id.where_search
        }
        content.addView(box)
        content.addView(ui.button(s(R.string.where_search), color = Palette.CARD, textColor = Palette.TEXT) {
            search = box.text.toString()
            refresh()
        })
        if (search.isNotBlank()) {
            val matches = runCatching { wizard.search(search) }.getOrDefault(emptyList()).take(15)
            if (matches.isEmpty()) content.addView(ui.body(s(R.string.where_no_match), Palette.TEXT_MUTED))
            for (m in matches) {
                val words = if (m.district != null) s(R.string.where_village_in, m.area.name, m.district.name) else s(R.string.where_district_named, m.area.name)
                content.addView(ui.choice(words, false, s(R.string.selected)) {
                    show(wizard.choosePlaceMatch(m))
                    search = ""
                    refresh()
                })
            }
        }
        val district = d.district
        if (district == null) {
            content.addView(ui.heading(s(R.string.where_district), 20f))
            for (a in wizard.districts()) {
                content.addView(ui.choice(a.name, false, s(R.string.selected)) {
                    show(wizard.chooseDistrict(a.code))
                    refresh()
                })
            }
        } else {
            val name = wizard.districts().firstOrNull { it.code == district }?.name ?: district
            content.addView(ui.choice(s(R.string.where_district_named, name), true, s(R.string.selected)) {
                show(wizard.chooseDistrict(null))
                refresh()
            })
            content.addView(ui.heading(s(R.string.where_village), 20f))
            for (v in wizard.villages()) {
                content.addView(ui.choice(v.name, d.village == v.code, s(R.string.selected)) {
                    show(wizard.chooseVillage(if (d.village == v.code) null else v.code))
                    refresh()
                })
            }
        }
        content.addView(ui.heading(s(R.string.where_place), 20f))
        choices(Labels.places, d.placeType, wizard::choosePlace)
        val detail = ui.input(s(R.string.where_detail_hint), s(R.string.where_detail_hint)).apply { setText(d.locationDetail ?: "") }
        content.addView(detail)
        pendingText = { show(wizard.setLocationDetail(detail.text.toString())) }
    }

    private fun whenStep() {
        val current = wizard.whenChoice
        for (c in WhenChoice.entries) {
            content.addView(ui.choice(s(c.label), c == current, s(R.string.selected)) {
                if (c == WhenChoice.EXACT) pickDate() else {
                    show(wizard.chooseWhen(c))
                    refresh()
                }
            })
        }
    }

    private fun pickDate() {
        val today = LocalDate.now()
        DatePickerDialog(this, { _, y, m, day ->
            show(wizard.chooseWhen(WhenChoice.EXACT, LocalDate.of(y, m + 1, day)))
            refresh()
        }, today.year, today.monthValue - 1, today.dayOfMonth).apply {
            datePicker.maxDate = System.currentTimeMillis()
        }.show()
    }

    private fun tell() {
        val d = wizard.draft
        content.addView(ui.body(s(R.string.tell_explain)))
        val story = ui.input(s(R.string.tell_hint), s(R.string.tell_hint), multiline = true).apply {
            setText(d.description ?: "")
            id = R.id.tell_text
        }
        content.addView(story)
        pendingText = { show(wizard.setDescription(story.text.toString())) }
        voiceControls()
    }

    private fun voiceControls() {
        val d = wizard.draft
        val r = recorder
        if (r != null) {
            content.addView(ui.body(s(R.string.voice_recording, r.seconds), Palette.ERROR))
            content.addView(ui.button(s(R.string.voice_stop), color = Palette.EMERGENCY) {
                recorder = null
                r.stop()?.let { attachAndDelete(it, voiceNote = true) } ?: refresh()
            }.apply { id = R.id.voice_stop })
        } else {
            if (d.hasVoiceNote) content.addView(ui.body(s(R.string.voice_saved), Palette.SUCCESS))
            content.addView(ui.button(s(R.string.voice_record)) {
                withPermission(Manifest.permission.RECORD_AUDIO, R.string.permission_microphone) { startRecording() }
            }.apply { id = R.id.voice_record })
        }
    }

    private fun startRecording() {
        saveText()
        val r = VoiceRecorder(this)
        try {
            r.start()
            recorder = r
        } catch (e: Exception) {
            toastProblem(s(R.string.voice_failed))
        }
        refresh()
    }

    private fun media() {
        content.addView(ui.body(s(R.string.media_explain)))
        content.addView(ui.button(s(R.string.media_camera)) { takePhoto() })
        content.addView(ui.button(s(R.string.media_gallery)) { pickFiles() })
        // The expert choice for the next photo or file: off by default, with the core's warning.
        content.addView(ui.choice(s(R.string.keep_metadata_label), wizard.keepMetadataNext, s(R.string.selected)) {
            wizard.keepMetadataNext = !wizard.keepMetadataNext
            refresh()
        }.apply { id = R.id.keep_metadata })
        if (wizard.keepMetadataNext) content.addView(ui.body(wizard.keepMetadataWarning(language), Palette.ERROR, 16f))
        voiceControls()
        for (a in wizard.draft.attachments) {
            val kind = s(Labels.labelOf(Labels.attachmentKinds, a.kind))
            val words = s(R.string.media_item, kind, (a.size / 1024u).toLong())
            content.addView(ui.body(words))
            if (a.id in wizard.keptMetadata) content.addView(ui.body(s(R.string.keep_metadata_on), Palette.ERROR, 16f))
            content.addView(ui.button(s(R.string.media_remove), s(R.string.media_remove_desc, kind), Palette.CARD, Palette.TEXT) {
                show(wizard.removeAttachment(a.id))
                refresh()
            })
        }
    }

    private fun takePhoto() {
        saveText()
        val name = "photo-${System.currentTimeMillis()}.jpg"
        val file = File(BeraniFileProvider.captureDir(this), name)
        capture = file
        // The phone's camera app takes the photo and writes it to our provider: no camera permission.
        val intent = Intent(MediaStore.ACTION_IMAGE_CAPTURE)
            .putExtra(MediaStore.EXTRA_OUTPUT, BeraniFileProvider.captureUri(this, name))
            .addFlags(Intent.FLAG_GRANT_WRITE_URI_PERMISSION or Intent.FLAG_GRANT_READ_URI_PERMISSION)
        try {
            startActivityForResult(intent, REQUEST_CAMERA)
        } catch (_: android.content.ActivityNotFoundException) {
            toastProblem(s(R.string.error_no_app))
        }
    }

    private fun pickFiles() {
        saveText()
        // The system picker: no storage permission is needed for files the reporter picks.
        val intent = Intent(Intent.ACTION_GET_CONTENT).setType("*/*")
            .putExtra(Intent.EXTRA_MIME_TYPES, arrayOf("image/*", "video/*", "audio/*", "application/pdf"))
            .putExtra(Intent.EXTRA_ALLOW_MULTIPLE, true)
            .addCategory(Intent.CATEGORY_OPENABLE)
        try {
            startActivityForResult(intent, REQUEST_PICK)
        } catch (_: android.content.ActivityNotFoundException) {
            toastProblem(s(R.string.error_no_app))
        }
    }

    @Deprecated("framework Activity API")
    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        when (requestCode) {
            REQUEST_CAMERA -> {
                val f = capture
                capture = null
                if (resultCode == RESULT_OK && f != null && f.length() > 0) attachAndDelete(f, voiceNote = false) else f?.delete()
            }
            REQUEST_PICK -> if (resultCode == RESULT_OK && data != null) {
                val uris = buildList {
                    data.clipData?.let { c -> for (i in 0 until c.itemCount) add(c.getItemAt(i).uri) }
                    if (isEmpty()) data.data?.let { add(it) }
                }
                uris.forEach { copyIn(it) }
            }
        }
    }

    /** Copies a picked file to a private temporary file, hands it to the core, deletes the copy. */
    private fun copyIn(uri: Uri) {
        val tmp = File(cacheDir, "pick-${System.nanoTime()}")
        work({
            contentResolver.openInputStream(uri)!!.use { input -> tmp.outputStream().use { input.copyTo(it) } }
            tmp
        }) { r ->
            r.onSuccess { attachAndDelete(it, voiceNote = false) }.onFailure {
                tmp.delete()
                toastProblem(s(R.string.error_attach))
            }
        }
    }

    private fun attachAndDelete(file: File, voiceNote: Boolean) {
        work({ wizard.attach(file.path, voiceNote).also { file.delete() } }) { r ->
            show(r.getOrElse { Problem.App(id.berani.present.text(R.string.error_attach)) })
            refresh()
        }
    }

    private fun contact() {
        val d = wizard.draft
        content.addView(ui.body(s(R.string.contact_explain)))
        content.addView(ui.choice(s(R.string.contact_anonymous), !wantsContact, s(R.string.selected)) {
            wantsContact = false
            show(wizard.setAnonymous())
            refresh()
        }.apply { id = R.id.contact_anonymous })
        content.addView(ui.choice(s(R.string.contact_yes), wantsContact, s(R.string.selected)) {
            wantsContact = true
            refresh()
        }.apply { id = R.id.contact_yes })
        if (!wantsContact) return
        var method = d.contact?.method ?: ContactMethod.WHATS_APP
        val number: EditText = ui.input(s(R.string.contact_number_hint), s(R.string.contact_number_hint), phone = true).apply {
            setText(d.contact?.number ?: "")
            id = R.id.contact_number
        }
        for (m in Labels.contactMethods) {
            content.addView(ui.choice(s(m.label), m.value == method, s(R.string.selected)) {
                method = m.value
                if (d.contact != null) show(wizard.setContact(m.value, number.text.toString(), true))
                refresh()
            })
        }
        content.addView(number)
        val consent = CheckBox(this).apply {
            text = s(R.string.contact_consent)
            isChecked = d.contact != null
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 18f)
            setTextColor(Palette.TEXT)
            minHeight = ui.dp(56)
            minimumHeight = ui.dp(56)
            contentDescription = s(R.string.contact_consent)
            id = R.id.contact_consent
        }
        content.addView(consent)
        pendingText = {
            val typed = number.text.toString()
            show(
                when {
                    typed.isBlank() && !consent.isChecked -> wizard.setAnonymous()
                    else -> wizard.setContact(method, typed, consent.isChecked)
                },
            )
        }
    }

    private fun review() {
        content.addView(ui.body(s(R.string.review_explain)))
        for (line in wizard.review()) {
            val answer = line.literal ?: s(line.answer!!)
            val card = ui.column().apply {
                addView(ui.body(s(line.label), Palette.TEXT_MUTED, 16f))
                addView(ui.body(answer))
            }
            content.addView(card)
            content.addView(ui.button(s(R.string.review_change), s(R.string.review_change_desc, s(line.label)), Palette.CARD, Palette.TEXT, 17f, 48) {
                wizard.goTo(line.step)
                problems = emptyList()
                refresh()
            })
        }
        content.addView(ui.button(s(R.string.wizard_discard), color = Palette.CARD, textColor = Palette.ERROR) { confirmDiscard() })
    }

    private fun confirmDiscard() {
        AlertDialog.Builder(this)
            .setMessage(s(R.string.wizard_discard_confirm))
            .setPositiveButton(s(R.string.wizard_discard)) { _, _ ->
                wizard.discard()
                finish()
            }
            .setNegativeButton(s(R.string.back), null)
            .show()
    }

    fun submit() {
        saveText()
        sending = true
        refresh()
        work({ wizard.submit() }) { r ->
            sending = false
            when (val result = r.getOrElse { SubmitResult.Failed(Problem.App(id.berani.present.text(R.string.error_save))) }) {
                is SubmitResult.Queued -> {
                    DeliveryScheduler.schedule(this)
                    SendNow.start(app, notify = granted(NOTIFICATIONS))
                    startActivity(Intent(this, OutboxActivity::class.java).putExtra(OutboxActivity.EXTRA_JUST_SENT, true))
                    finish()
                }
                is SubmitResult.Missing -> {
                    problems = result.problems.map { it.render(strings, language) }
                    wizard.goTo(result.firstStep)
                    refresh()
                }
                is SubmitResult.Failed -> {
                    problems = listOf(result.problem.render(strings, language))
                    refresh()
                }
            }
        }
    }

    override fun onDestroy() {
        recorder?.cancel()
        super.onDestroy()
    }

    companion object {
        const val REQUEST_CAMERA = 11
        const val REQUEST_PICK = 12
        const val NOTIFICATIONS = "android.permission.POST_NOTIFICATIONS"
    }
}
