// The emergency bar, settings, sharing and the colour contrast: plain logic, no core needed
// except for the agency profile of a live server.
package id.berani.present

import id.berani.IntakeServer
import id.berani.R
import id.berani.ResStrings
import id.berani.core.ReportState
import id.berani.tempDir
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test

class SmallPresentersTest {
    private val id = ResStrings(Language.ID)
    private val en = ResStrings(Language.EN)

    @Test
    fun `the emergency bar has 112, SAPA 129 by phone and WhatsApp, then the agency's hotline`() {
        val bare = Emergency.bar(null)
        assertEquals(listOf("tel:112", "tel:129", "https://wa.me/628111129129"), bare.map { it.uri })
        assertEquals(listOf("Telepon 112", "Telepon SAPA 129", "WhatsApp SAPA 129"), bare.map { id.of(it.label) })
        assertEquals("Send a WhatsApp message to SAPA 129 on 08111-129-129", en.of(bare[2].description))

        val server = IntakeServer.shared
        server.home(tempDir("emergency-")).use { r ->
            val bar = Emergency.bar(r.profile())
            assertEquals(5, bar.size)
            assertEquals("Telepon Dinsos P3A Blora", id.of(bar[3].label))
            assertEquals("tel:0296123456", bar[3].uri)
            assertEquals("https://wa.me/6281234567890", bar[4].uri)
            assertEquals(Reach.WHATSAPP, bar[4].reach)
            val all = Emergency.all(r.profile())
            assertEquals("tel:110", all[1].uri)
        }
        assertEquals("https://wa.me/6281234", Emergency.whatsAppUri("+62 812-34"))
        assertEquals("tel:+6281234", Emergency.telUri("+62 (812) 34"))
    }

    @Test
    fun `settings keep the language and the volume-key exit`() {
        val s = AppSettings(MemoryKeyValue())
        assertEquals(Language.ID, s.language)
        s.language = Language.EN
        assertEquals(Language.EN, s.language)
        assertEquals(false, s.volumeKeyExit)
        s.volumeKeyExit = true
        assertEquals(true, s.volumeKeyExit)
    }

    @Test
    fun `the share link prefers the signed profile's and its QR code has the finder patterns`() {
        assertNull(Sharing.downloadLink(null, " "))
        assertEquals("https://a.example/unduh", Sharing.downloadLink(null, "https://a.example/unduh"))
        val link = "https://lapor.example.go.id/unduh"
        assertEquals("Berani: aplikasi untuk melaporkan kekerasan terhadap perempuan dan anak. Unduh: $link", id.of(Sharing.message(link)))
        val qr = Sharing.qr(link)
        assertTrue(qr.size >= 21 && (qr.size - 17) % 4 == 0)
        // The three 7×7 finder patterns: dark ring, light ring, dark 3×3 centre.
        for ((ox, oy) in listOf(0 to 0, qr.size - 7 to 0, 0 to qr.size - 7)) {
            for (y in 0 until 7) for (x in 0 until 7) {
                val ring = maxOf(kotlin.math.abs(x - 3), kotlin.math.abs(y - 3))
                assertEquals("module ${ox + x},${oy + y}", ring != 2, qr[oy + y][ox + x])
            }
        }
    }

    @Test
    fun `every text colour meets WCAG AA on its background`() {
        for ((fg, bg) in Palette.PAIRS) {
            val ratio = Palette.contrast(fg, bg)
            assertTrue("0x%08x on 0x%08x: %.2f".format(fg, bg, ratio), ratio >= 4.5)
        }
        assertEquals(21.0, Palette.contrast(0xFF000000.toInt(), 0xFFFFFFFF.toInt()), 0.01)
    }

    @Test
    fun `the notification text carries counts only`() {
        val p = SendProgress(listOf("a", "b", "c"))
        assertEquals(R.string.notif_sending, p.text.id)
        assertEquals(listOf<Any>(1, 3), p.text.args)
        p.onReportState("a", ReportState.DELIVERED)
        p.onPartProgress("b", 0u, 50u, 100u)
        assertEquals("Berani: mengirim laporan (2/3)", id.of(p.text))
        assertEquals("Berani: sending report (2/3)", en.of(p.text))
        assertEquals(50, p.percent)
        assertNotNull(p)
    }

    @Test
    fun `a volunteer code is checked by the core, kept sealed, and sent once to the live server`() {
        val server = IntakeServer.shared
        server.home(tempDir("volunteer-")).use { r ->
            val v = Volunteers { r }
            assertNull(v.code())
            assertNull(v.status())
            assertEquals(false, v.send())
            // A typo is the core's field error, in both languages.
            val bad = v.save("K7M")!!
            assertTrue(bad.render(id, Language.ID), bad.render(id, Language.ID).startsWith("Kode relawan"))
            assertTrue(bad.render(en, Language.EN), bad.render(en, Language.EN).startsWith("Volunteer code"))
            assertNull(v.code())
            // A well-formed code (the check character fits) that this server never issued.
            val code = wellFormedCode()
            assertNull(v.save(code.lowercase()))
            assertEquals(code.substring(0, 3) + "-" + code.substring(3), v.code())
            assertEquals("Tersimpan. Akan dihitung saat ponsel tersambung ke internet.", id.of(v.status()!!))
            // The server refuses it: not counted, and never sent again.
            assertEquals(false, v.send())
            assertEquals("The office does not know this code (or it was switched off). Check the code again.", en.of(v.status()!!))
            assertEquals(false, v.send())
        }
    }

    /** A code whose Crockford mod-37 check character is a letter or digit, as the server issues. */
    private fun wellFormedCode(): String {
        val alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
        var v = 123_456_789 and 0x3fffffff
        while (v % 37 >= 32) v++
        val data = (0 until 6).map { alphabet[(v shr (5 * (5 - it))) and 0x1f] }.joinToString("")
        return data + alphabet[v % 37]
    }
}
