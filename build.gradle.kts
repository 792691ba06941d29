// Root of the Android build: plugin versions only. The app is android/build.gradle.kts.
plugins {
    id("com.android.application") version "8.13.0" apply false
    id("org.jetbrains.kotlin.android") version "2.4.21" apply false
}
