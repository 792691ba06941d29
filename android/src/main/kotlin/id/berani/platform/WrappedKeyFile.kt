// The core's 32-byte device key, kept on disk only wrapped (AES-GCM) under a key that never
// leaves the Android Keystore. Plain JVM code: the Keystore part is the SecretKey handed in
// (KeystoreKeys.kt), so the JVM tests run this with a software AES key.
package id.berani.platform

import id.berani.core.BeraniException
import id.berani.core.DeviceKeyStore
import id.berani.core.newDeviceKey
import java.io.File
import java.io.FileOutputStream
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * A [DeviceKeyStore] whose key lives in [file] as `iv (12 bytes) ‖ AES-GCM ciphertext`, under
 * the key [wrappingKey] returns. The first call makes a new random device key and writes it
 * (to a temporary file, synced, then renamed). A file that exists but does not unwrap is an
 * error and is never replaced: replacing it would lose every draft and queued report.
 */
class WrappedKeyFile(
    private val file: File,
    /** Deletes the wrapping key itself (the Keystore entry), after the wrapped file is gone. */
    private val deleteWrappingKey: () -> Unit = {},
    private val wrappingKey: (create: Boolean) -> SecretKey?,
) : DeviceKeyStore {
    private val lock = Any()

    override fun deviceKey(): ByteArray = synchronized(lock) {
        try {
            if (file.exists()) unwrap(file.readBytes()) else create()
        } catch (e: BeraniException) {
            throw e
        } catch (e: Exception) {
            // The exception's class only: its message could name a path.
            throw BeraniException.DeviceKeyUnavailable("the device key could not be unwrapped (${e.javaClass.simpleName})")
        }
    }

    /**
     * The panic wipe's first step: the wrapped key is overwritten with zeros, synced and
     * deleted, so the device key cannot be unwrapped again (the next [deviceKey] makes a new
     * one). Then the wrapping key itself is deleted from the Keystore, so not even a copy of
     * the old file could be unwrapped; the next [deviceKey] makes a new wrapping key too.
     */
    override fun destroyKey(): Unit = synchronized(lock) {
        for (f in listOf(File(file.path + ".tmp"), file)) {
            if (!f.exists()) continue
            java.io.RandomAccessFile(f, "rw").use {
                it.write(ByteArray(it.length().toInt()))
                it.fd.sync()
            }
            if (!f.delete()) throw BeraniException.DeviceKeyUnavailable("the wrapped device key could not be deleted")
        }
        try {
            deleteWrappingKey()
        } catch (e: Exception) {
            throw BeraniException.DeviceKeyUnavailable("the wrapping key could not be deleted (${e.javaClass.simpleName})")
        }
    }

    private fun unwrap(blob: ByteArray): ByteArray {
        val key = wrappingKey(false)
            ?: throw BeraniException.DeviceKeyUnavailable("the wrapping key is gone from the key store")
        if (blob.size < IV_LEN + TAG_LEN) throw BeraniException.DeviceKeyUnavailable("the wrapped device key is damaged")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_LEN * 8, blob, 0, IV_LEN))
        val plain = cipher.doFinal(blob, IV_LEN, blob.size - IV_LEN)
        if (plain.size != KEY_LEN) throw BeraniException.DeviceKeyUnavailable("the wrapped device key has the wrong length")
        return plain
    }

    private fun create(): ByteArray {
        val key = wrappingKey(true) ?: throw BeraniException.DeviceKeyUnavailable("no wrapping key could be made")
        val deviceKey = newDeviceKey()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        // The Keystore picks the IV itself (randomized encryption); a software key does too.
        cipher.init(Cipher.ENCRYPT_MODE, key)
        val iv = cipher.iv
        check(iv.size == IV_LEN) { "unexpected IV length" }
        val blob = iv + cipher.doFinal(deviceKey)
        file.parentFile?.mkdirs()
        val tmp = File(file.path + ".tmp")
        FileOutputStream(tmp).use {
            it.write(blob)
            it.fd.sync()
        }
        check(tmp.renameTo(file)) { "rename failed" }
        return deviceKey
    }

    companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_LEN = 12
        const val TAG_LEN = 16
        const val KEY_LEN = 32
    }
}
