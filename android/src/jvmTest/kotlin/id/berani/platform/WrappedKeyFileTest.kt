// The device key wrapped with AES-GCM (a software AES key stands in for the Android Keystore
// key): made once, the same afterwards, opens the core's store, and a damaged file or a lost
// wrapping key is an error that never replaces the key.
package id.berani.platform

import id.berani.core.BeraniException
import id.berani.core.Reporter
import id.berani.tempDir
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

class WrappedKeyFileTest {
    private fun aes(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    @Test
    fun `makes the key once, keeps only the wrapped form, and opens the core's store again`() {
        val dir = tempDir("keys-")
        val file = File(dir, "device.key.wrapped")
        val wrap = aes()
        var created = 0
        val store = WrappedKeyFile(file) { create -> if (create) created++; wrap }
        val k1 = store.deviceKey()
        assertEquals(32, k1.size)
        assertEquals(1, created)
        assertEquals(12 + 32 + 16, file.length().toInt())
        assertFalse(file.readBytes().toList().windowed(32).any { it == k1.toList() })
        assertArrayEquals(k1, WrappedKeyFile(file) { wrap }.deviceKey())

        val home = File(dir, "home").path
        Reporter.open(home, store).use { it.createDraft() }
        Reporter.open(home, WrappedKeyFile(file) { wrap }).use { assertEquals(1, it.drafts().size) }
    }

    @Test
    fun `a damaged file or another wrapping key is an error, and the file is kept`() {
        val dir = tempDir("keys-bad-")
        val file = File(dir, "device.key.wrapped")
        val wrap = aes()
        WrappedKeyFile(file) { wrap }.deviceKey()
        val original = file.readBytes()

        val other = assertThrows(BeraniException.DeviceKeyUnavailable::class.java) { WrappedKeyFile(file) { aes() }.deviceKey() }
        assertTrue(other.detail.isNotBlank())
        val gone = assertThrows(BeraniException.DeviceKeyUnavailable::class.java) { WrappedKeyFile(file) { null }.deviceKey() }
        assertTrue(gone.detail.contains("gone"))
        file.writeBytes(original.copyOf().also { it[20] = (it[20].toInt() xor 1).toByte() })
        assertThrows(BeraniException.DeviceKeyUnavailable::class.java) { WrappedKeyFile(file) { wrap }.deviceKey() }
        assertEquals(original.size, file.length().toInt())
        file.writeBytes(original)
        assertEquals(32, WrappedKeyFile(file) { wrap }.deviceKey().size)
    }
}
