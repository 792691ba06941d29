// The file provider hands out the app's APK and camera capture files, and nothing else.
package id.berani.platform

import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Test

class ProvidedFileTest {
    @Test
    fun `only the APK and plain capture names are served`() {
        assertEquals(ProvidedFile.Apk, ProvidedFile.of(listOf("apk", "Berani.apk")))
        assertEquals(ProvidedFile.Capture("photo-1.jpg"), ProvidedFile.of(listOf("capture", "photo-1.jpg")))
        for (bad in listOf(
            listOf("apk", "other.apk"), listOf("capture", "../berani/reporter.db"), listOf("capture", "a/b.jpg"),
            listOf("capture", "photo.png"), listOf("capture", "Photo.jpg"), listOf("files", "device.key.wrapped"),
            listOf("capture"), emptyList(), listOf("capture", "x.jpg", "y"),
        )) {
            assertNull(bad.toString(), ProvidedFile.of(bad))
        }
    }
}
