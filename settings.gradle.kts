// The Gradle build of the Android app (module :android, in android/). The Rust workspace
// beside it is built by the app's tasks through cargo and cargo-ndk.
//
//   gradle wrapper --gradle-version 8.14.3   # once: writes gradlew and its jar (not committed)
//   ./gradlew :android:assembleDebug         # needs the Android SDK and NDK, and cargo-ndk
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "berani"
include(":android")
