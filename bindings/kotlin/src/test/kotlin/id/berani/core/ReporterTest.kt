// The generated Kotlin API without a network: opening a home, the key store contract, choices
// and report fields with their labels, the gazetteer, and a draft built field by field with
// typed errors.
package id.berani.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Files
import java.nio.file.Path
import java.time.LocalDate

class ReporterTest {
    @TempDir
    lateinit var tmp: Path

    private fun home() = tmp.resolve("home").toString()

    @Test
    fun `opens a home with a Kotlin key store and reopens it with the same key`() {
        val keys = FileKeyStore(tmp.resolve("device.key"))
        val id = Reporter.open(home(), keys).use { r ->
            assertNull(r.profile())
            assertEquals(emptyList<Draft>(), r.drafts())
            r.createDraft().id
        }
        Reporter.open(home(), keys).use { r ->
            assertEquals(listOf(id), r.drafts().map { it.id })
        }
        assertThrows<BeraniException.WrongDeviceKey> { Reporter.open(home(), MemoryKeyStore()) }
    }

    @Test
    fun `a failing key store is an exception, not a crash`() {
        val throwsRuntime = object : DeviceKeyStore {
            override fun deviceKey(): ByteArray = throw IllegalStateException("Keystore is locked")
            override fun destroyKey() = throw IllegalStateException("Keystore is locked")
        }
        val e = assertThrows<BeraniException.DeviceKeyUnavailable> { Reporter.open(home(), throwsRuntime) }
        assertTrue(e.detail.contains("Keystore is locked"), e.detail)

        val throwsTyped = object : DeviceKeyStore {
            override fun deviceKey(): ByteArray = throw BeraniException.Internal("user not authenticated")
            override fun destroyKey() = throw BeraniException.Internal("user not authenticated")
        }
        val e2 = assertThrows<BeraniException.DeviceKeyUnavailable> { Reporter.open(home(), throwsTyped) }
        assertTrue(e2.detail.contains("user not authenticated"), e2.detail)

        val short = object : DeviceKeyStore {
            override fun deviceKey(): ByteArray = ByteArray(16)
            override fun destroyKey() {}
        }
        assertThrows<BeraniException.DeviceKeyUnavailable> { Reporter.open(home(), short) }
        // The home still opens with a good key store afterwards.
        Reporter.open(home(), MemoryKeyStore()).close()
    }

    @Test
    fun `a panic wipe destroys the key and every file`() {
        val keys = MemoryKeyStore()
        val dir = home()
        Reporter.open(dir, keys).use { r ->
            val id = r.createDraft().id
            r.setDescription(id, "PENANDA-WIPE-KOTLIN")
        }
        val before = keys.deviceKey()
        assertEquals(0u, wipeHome(dir, keys, null, false).keptReports)
        assertTrue(!before.contentEquals(keys.deviceKey()), "a new key")
        java.nio.file.Files.walk(java.nio.file.Path.of(dir)).use { s ->
            assertTrue(s.noneMatch { java.nio.file.Files.isRegularFile(it) }, "no file left")
        }
        Reporter.open(dir, keys).use { r -> assertTrue(r.drafts().isEmpty()) }
        val warning = keepMetadataWarning()
        assertTrue(warning.id.contains("GPS") && warning.en.contains("GPS"))
    }

    @Test
    fun `every choice has Indonesian and English labels`() {
        val cats = categories()
        assertEquals(Category.entries.toList(), cats.map { it.value })
        val physical = cats.first { it.value == Category.PHYSICAL }
        assertEquals(ChoiceLabel("physical", "Kekerasan fisik", "Physical violence"), physical.label)
        assertTrue(physical.descriptionId.isNotBlank() && physical.descriptionEn.isNotBlank())
        assertEquals(AgeBand.entries.toList(), ageBands().map { it.value })
        assertEquals("60+", ageBands().first { it.value == AgeBand.AGE60_PLUS }.label.key)
        assertEquals(VictimSex.entries.size, victimSexes().size)
        assertEquals(ReporterRole.entries.size, reporterRoles().size)
        assertEquals(PlaceType.entries.size, placeTypes().size)
        assertEquals(Relationship.entries.size, relationships().size)
        assertEquals("WhatsApp", contactMethods().first { it.value == ContactMethod.WHATS_APP }.label.labelId)
        assertEquals(AttachmentKind.entries.size, attachmentKinds().size)
        assertEquals(FailureReason.entries.toList(), failureReasons().map { it.value })
        val labels = cats.map { it.label } + victimSexes().map { it.label } + ageBands().map { it.label } +
            reporterRoles().map { it.label } + placeTypes().map { it.label } + relationships().map { it.label }
        for (l in labels) assertTrue(l.labelId.isNotBlank() && l.labelEn.isNotBlank(), l.toString())
    }

    @Test
    fun `every report field has Indonesian and English labels`() {
        val fields = reportFields()
        assertEquals(
            listOf(
                "category", "victim_sex", "victim_age_band", "reporter_role", "in_danger_now",
                "incident_date", "district", "village", "location_detail", "place_type",
                "perpetrator_relationship", "description", "contact_number", "attachment",
            ),
            fields.map { it.key },
        )
        assertEquals(FieldInfo("district", "Kecamatan", "District"), fields.first { it.key == "district" })
        for (f in fields) {
            assertTrue(f.labelId.isNotBlank() && f.labelEn.isNotBlank(), f.toString())
        }
        assertEquals(fields.size, fields.map { it.labelId }.toSet().size, "Indonesian labels repeat")
        assertEquals(fields.size, fields.map { it.labelEn }.toSet().size, "English labels repeat")

        // Errors name a field by its key, and their messages start with its labels.
        Reporter.open(home(), MemoryKeyStore()).use { r ->
            val id = r.createDraft().id
            val errors = listOf(
                assertThrows<BeraniException.InvalidInput> { r.setDistrict(id, "33.16.99") },
                assertThrows<BeraniException.InvalidInput> { r.setVillage(id, "33.16.05.2001") },
                assertThrows<BeraniException.InvalidInput> {
                    r.setContact(id, Contact(ContactMethod.PHONE, "12"))
                },
            )
            for (e in errors) {
                val f = fields.first { it.key == e.field }
                assertTrue(e.messageId.startsWith("${f.labelId}:"), e.messageId)
                assertTrue(e.messageEn.startsWith("${f.labelEn}:"), e.messageEn)
            }
        }
    }

    @Test
    fun `gazetteer lookups for Blora before any profile`() {
        Reporter.open(home(), MemoryKeyStore()).use { r ->
            val districts = r.districts()
            assertEquals(16, districts.size)
            val cepu = districts.first { it.name == "Cepu" }
            val villages = r.villages(cepu.code)
            assertTrue(villages.isNotEmpty())
            assertTrue(villages.all { it.code.startsWith(cepu.code + ".") })
            val hits = r.searchAreas("cepu")
            assertEquals(AreaMatch(AreaLevel.DISTRICT, cepu, null), hits.first())
            assertTrue(hits.drop(1).all { it.level == AreaLevel.VILLAGE && it.district != null })
            assertThrows<BeraniException.NotFound> { r.villages("33.16.99") }
            assertEquals(emptyList<AreaMatch>(), r.searchAreas("   "))
        }
    }

    @Test
    fun `a draft built field by field, refused input typed with its field`() {
        Reporter.open(home(), MemoryKeyStore()).use { r ->
            val id = r.createDraft().id
            var d = r.setCategory(id, Category.SEXUAL)
            assertEquals(Category.SEXUAL, d.category)
            d = r.setVictimSex(id, VictimSex.GIRL)
            d = r.setVictimAgeBand(id, AgeBand.AGE13_TO17)
            d = r.setReporterRole(id, ReporterRole.NEIGHBOUR)
            d = r.setInDangerNow(id, true)
            d = r.setIncidentDate(id, IncidentDate.Approximate("2026-01-01", "2026-01-31"))
            d = r.setPlaceType(id, PlaceType.SCHOOL)
            d = r.setPerpetratorRelationship(id, Relationship.TEACHER)
            d = r.setDescription(id, "  CONTOH SINTETIS: laporan percobaan  ")
            d = r.setContact(id, Contact(ContactMethod.WHATS_APP, "0812-3456-7890"))
            assertEquals("CONTOH SINTETIS: laporan percobaan", d.description)
            assertEquals("081234567890", d.contact!!.number)
            assertFalse(d.contact.toString().contains("0812"), "the number is hidden in toString")

            // Village before district, unknown codes, a village of another district.
            val early = assertThrows<BeraniException.InvalidInput> { r.setVillage(id, "33.16.05.2001") }
            assertEquals("village" to "district_first", early.field to early.reason)
            val unknown = assertThrows<BeraniException.InvalidInput> { r.setDistrict(id, "33.16.99") }
            assertEquals("district" to "unknown_code", unknown.field to unknown.reason)
            assertTrue(unknown.messageId.startsWith("Kecamatan"), unknown.messageId)
            assertTrue(unknown.messageEn.startsWith("District"), unknown.messageEn)
            val cepu = r.districts().first { it.name == "Cepu" }.code
            d = r.setDistrict(id, cepu)
            val village = r.villages(cepu).first().code
            d = r.setVillage(id, village)
            assertEquals(cepu to village, d.district to d.village)
            val other = r.villages(r.districts().first { it.code != cepu }.code).first().code
            val outside = assertThrows<BeraniException.InvalidInput> { r.setVillage(id, other) }
            assertEquals("village" to "not_in_district", outside.field to outside.reason)
            d = r.setLocationDetail(id, "dekat balai desa")

            val future = LocalDate.now().plusDays(30).toString()
            val date = assertThrows<BeraniException.InvalidInput> {
                r.setIncidentDate(id, IncidentDate.Exact(future))
            }
            assertEquals("incident_date" to "in_future", date.field to date.reason)
            val long = assertThrows<BeraniException.InvalidInput> { r.setDescription(id, "a".repeat(20_001)) }
            assertEquals("description" to "too_long", long.field to long.reason)
            val phone = assertThrows<BeraniException.InvalidInput> {
                r.setContact(id, Contact(ContactMethod.PHONE, "call me"))
            }
            assertEquals("contact_number", phone.field)
            assertFalse(phone.toString().contains("call me"), "errors carry no input")

            // Refused values left the draft as it was.
            assertEquals(d, r.draft(id))
            assertEquals(IncidentDate.Approximate("2026-01-01", "2026-01-31"), d.incidentDate)

            // Clearing with null.
            d = r.setContact(id, null)
            assertNull(d.contact)
        }
    }

    @Test
    fun `attachments are recognised by content and can be removed`() {
        Reporter.open(home(), MemoryKeyStore()).use { r ->
            val id = r.createDraft().id
            val photo = r.attachFile(id, TestPaths.fixture("photo.jpg").toString(), false, true)
            assertEquals(AttachmentKind.PHOTO to "image/jpeg", photo.kind to photo.mime)
            assertEquals(Files.size(TestPaths.fixture("photo.jpg")).toULong(), photo.size)
            val text = tmp.resolve("notes.txt")
            Files.writeString(text, "bukan foto")
            val bad = assertThrows<BeraniException.InvalidInput> { r.attachFile(id, text.toString(), false, false) }
            assertEquals("attachment" to "unsupported_type", bad.field to bad.reason)
            val missing = assertThrows<BeraniException.InvalidInput> {
                r.attachFile(id, tmp.resolve("gone.jpg").toString(), false, false)
            }
            assertEquals("unreadable", missing.reason)
            assertEquals(listOf(photo), r.draft(id).attachments)
            assertEquals(emptyList<Attachment>(), r.removeAttachment(id, photo.id).attachments)
            assertThrows<BeraniException.NotFound> { r.removeAttachment(id, photo.id) }
        }
    }

    @Test
    fun `submitting needs a profile and a complete draft`() {
        Reporter.open(home(), MemoryKeyStore()).use { r ->
            val id = r.createDraft().id
            val noProfile = assertThrows<BeraniException.Profile> { r.submit(id) }
            assertEquals(ProfileProblem.NOT_INSTALLED, noProfile.problem)
            assertThrows<BeraniException.NotFound> { r.draft("no-such-draft") }
            r.deleteDraft(id)
            assertThrows<BeraniException.NotFound> { r.deleteDraft(id) }
        }
    }

    @Test
    fun `a closed reporter refuses further calls`() {
        val r = Reporter.open(home(), MemoryKeyStore())
        r.close()
        assertThrows<IllegalStateException> { r.drafts() }
    }
}
