// The Android Keystore side of the device key: one AES-256-GCM key that cannot be exported,
// used only to wrap and unwrap the core's device key (WrappedKeyFile).
package id.berani.platform

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.io.File
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey

object KeystoreKeys {
    private const val PROVIDER = "AndroidKeyStore"
    private const val ALIAS = "berani-device-key-wrap"

    /**
     * The Keystore key, made on first use when [create]. No user authentication is required:
     * the background job must open the outbox while the phone is locked (sealed reports are
     * already encrypted to the agency; the device key protects drafts against reading the
     * files, not against someone holding the unlocked phone — that is the app PIN's job).
     */
    fun wrappingKey(create: Boolean): SecretKey? {
        val ks = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (ks.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        if (!create) return null
        val gen = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        gen.init(
            KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .build(),
        )
        return gen.generateKey()
    }

    /** Deletes the Keystore key (the panic wipe); nothing to do when there is none. */
    fun deleteWrappingKey() {
        val ks = KeyStore.getInstance(PROVIDER).apply { load(null) }
        if (ks.containsAlias(ALIAS)) ks.deleteEntry(ALIAS)
    }

    /** The app's device key store: the wrapped key in the app's private files. */
    fun deviceKeyStore(filesDir: File): WrappedKeyFile =
        WrappedKeyFile(File(filesDir, "device.key.wrapped"), deleteWrappingKey = ::deleteWrappingKey, wrappingKey = ::wrappingKey)
}
