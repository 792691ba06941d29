// The file provider hands out the app's APK, camera capture files and outgoing relay bundles,
// and nothing else.
package id.berani.platform

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class ProvidedFileTest {
    @Test
    fun `only the APK and plain capture names are served`() {
        assertEquals(ProvidedFile.Apk, ProvidedFile.of(listOf("apk", "Berani.apk")))
        assertEquals(ProvidedFile.Capture("photo-1.jpg"), ProvidedFile.of(listOf("capture", "photo-1.jpg")))
        assertEquals(ProvidedFile.Relay("laporan-0a1b.berani"), ProvidedFile.of(listOf("relay", "laporan-0a1b.berani")))
        for (bad in listOf(
            listOf("apk", "other.apk"), listOf("capture", "../berani/reporter.db"), listOf("capture", "a/b.jpg"),
            listOf("capture", "photo.png"), listOf("capture", "Photo.jpg"), listOf("files", "device.key.wrapped"),
            listOf("capture"), emptyList(), listOf("capture", "x.jpg", "y"),
            listOf("relay", "../berani/reporter.db"), listOf("relay", "x.jpg"), listOf("capture", "x.berani"),
            listOf("relay", "a/b.berani"), listOf("relay"),
        )) {
            assertNull(bad.toString(), ProvidedFile.of(bad))
        }
    }
}
