// The Berani Android app: a thin Kotlin UI on the Android framework API (no AndroidX, no
// Jetpack, no Compose) over libberani_ffi.so, the uniffi facade of the Rust core.
//
//   ./gradlew :android:assembleDebug     # debug APKs, one per ABI, in android/build/outputs/apk/debug
//   ./gradlew :android:assembleRelease   # shrunk (R8), resources shrunk, native code stripped
//
// Needs: the Android SDK (platform 36) and NDK (ANDROID_NDK_HOME or ndkVersion below), rustup
// with the targets aarch64-linux-android, armv7-linux-androideabi and x86_64-linux-android,
// and cargo-ndk (`cargo install cargo-ndk`). Before Kotlin compiles, two tasks run:
//   cargoNdkBuild         libberani_ffi.so for arm64-v8a, armeabi-v7a and x86_64 (cargo profile
//                         `phone`: fat LTO, size-optimised) into build/generated/rustJniLibs;
//   generateUniffiKotlin  the host's libberani_ffi (debug, unstripped) and the in-repo
//                         uniffi-bindgen, which writes the Kotlin package id.berani.core (library
//                         mode) into build/generated/source/uniffi — never committed.
// Cargo builds go to build/cargo (CARGO_TARGET_DIR), apart from the developers' target/.
//
// This file cannot be run on the project's CI (no SDK or NDK there); CI compiles the same
// Kotlin against Robolectric's android-all and runs the JVM tests (scripts/test-android).
import org.gradle.api.file.ConfigurableFileCollection
import org.gradle.api.file.DirectoryProperty
import org.gradle.api.provider.ListProperty
import org.gradle.api.tasks.PathSensitivity
import org.gradle.process.ExecOperations
import javax.inject.Inject

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

/** The three ABIs the app ships, as Android and as Rust name them. */
val androidAbis = mapOf(
    "arm64-v8a" to "aarch64-linux-android",
    "armeabi-v7a" to "armv7-linux-androideabi",
    "x86_64" to "x86_64-linux-android",
)
val minSdkVersion = 24
val repoRoot: Directory = rootProject.layout.projectDirectory
val cargoTarget = rootProject.layout.buildDirectory.dir("cargo")

android {
    namespace = "id.berani"
    compileSdk = 36
    ndkVersion = "27.2.12479018"

    defaultConfig {
        applicationId = "id.berani"
        minSdk = minSdkVersion
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
    }

    signingConfigs {
        create("release") {
            val store = providers.gradleProperty("berani.signing.storeFile").orNull
            if (store != null) {
                storeFile = file(store)
                storePassword = providers.gradleProperty("berani.signing.storePassword").orNull
                keyAlias = providers.gradleProperty("berani.signing.keyAlias").orNull
                keyPassword = providers.gradleProperty("berani.signing.keyPassword").orNull
            }
        }
    }

    buildTypes {
        release {
            // R8: shrink and optimise the Kotlin; keep what JNA and the uniffi bindings reach by
            // reflection (proguard-rules.pro). Unused resources go too.
            isMinifyEnabled = true
            isShrinkResources = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
            if (providers.gradleProperty("berani.signing.storeFile").isPresent) {
                signingConfig = signingConfigs.getByName("release")
            }
        }
    }

    // One APK per ABI, so each one a volunteer passes on carries one native library.
    splits {
        abi {
            isEnable = true
            reset()
            include(*androidAbis.keys.toTypedArray())
            isUniversalApk = false
        }
    }

    packaging {
        jniLibs {
            // Compressed inside the APK: a smaller file to send over Bluetooth or WhatsApp, at
            // the cost of extracting the library once at install. Release builds strip it
            // (AGP runs the NDK's llvm-strip; keepDebugSymbols is not set).
            useLegacyPackaging = true
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
        // java.time (used by the generated bindings and the wizard) on API 24 and 25.
        isCoreLibraryDesugaringEnabled = true
    }

    sourceSets["main"].java.srcDir("src/main/kotlin")
    // src/jvmTest holds the JVM tests that scripts/test-android runs (Maven, Robolectric,
    // the host library and a live berani-server); Gradle does not build them.
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // The generated bindings call libberani_ffi.so through JNA; the AAR carries libjnidispatch.so.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.11.0")
    // QR code of the agency's download link (pure Java, MIT).
    implementation("io.nayuki:qrcodegen:1.8.0")
    coreLibraryDesugaring("com.android.tools:desugar_jdk_libs:2.1.5")
}

/** Builds libberani_ffi.so for every ABI with cargo-ndk. */
abstract class CargoNdkBuild : DefaultTask() {
    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val rustSources: ConfigurableFileCollection

    @get:Input
    abstract val abis: ListProperty<String>

    @get:Input
    abstract val platform: Property<Int>

    @get:Internal
    abstract val workspace: DirectoryProperty

    @get:Internal
    abstract val cargoTargetDir: DirectoryProperty

    @get:OutputDirectory
    abstract val outputDir: DirectoryProperty

    @get:Inject
    abstract val exec: ExecOperations

    @TaskAction
    fun build() {
        val out = outputDir.get().asFile
        out.deleteRecursively()
        exec.exec {
            workingDir = workspace.get().asFile
            environment("CARGO_TARGET_DIR", cargoTargetDir.get().asFile.path)
            commandLine(
                listOf("cargo", "ndk") + abis.get().flatMap { listOf("-t", it) } + listOf(
                    "--platform", platform.get().toString(), "-o", out.path,
                    "build", "--locked", "--profile", "phone", "-p", "berani-ffi",
                ),
            )
        }
    }
}

/** Generates the Kotlin bindings from the host build of libberani_ffi (library mode). */
abstract class GenerateUniffiKotlin : DefaultTask() {
    @get:InputFiles
    @get:PathSensitive(PathSensitivity.RELATIVE)
    abstract val rustSources: ConfigurableFileCollection

    @get:Internal
    abstract val workspace: DirectoryProperty

    @get:Internal
    abstract val cargoTargetDir: DirectoryProperty

    @get:OutputDirectory
    abstract val outputDir: DirectoryProperty

    @get:Inject
    abstract val exec: ExecOperations

    @TaskAction
    fun generate() {
        val target = cargoTargetDir.get().asFile
        exec.exec {
            workingDir = workspace.get().asFile
            environment("CARGO_TARGET_DIR", target.path)
            commandLine("cargo", "build", "--locked", "-p", "berani-ffi", "--features", "cli", "--lib", "--bin", "uniffi-bindgen")
        }
        val os = System.getProperty("os.name").lowercase()
        val lib = when {
            os.contains("mac") -> "libberani_ffi.dylib"
            os.contains("windows") -> "berani_ffi.dll"
            else -> "libberani_ffi.so"
        }
        val exe = if (os.contains("windows")) "uniffi-bindgen.exe" else "uniffi-bindgen"
        val out = outputDir.get().asFile
        out.deleteRecursively()
        exec.exec {
            workingDir = workspace.get().asFile
            commandLine(
                File(target, "debug/$exe").path, "generate", "--no-format", "--language", "kotlin",
                "--library", File(target, "debug/$lib").path, "--out-dir", out.path,
            )
        }
    }
}

val rustInputs = files(
    repoRoot.file("Cargo.toml"), repoRoot.file("Cargo.lock"),
    repoRoot.dir("core/src"), repoRoot.dir("core/data"), repoRoot.dir("bindings/src"),
    repoRoot.file("bindings/Cargo.toml"), repoRoot.file("bindings/uniffi.toml"), repoRoot.file("core/Cargo.toml"),
)

val cargoNdkBuild = tasks.register<CargoNdkBuild>("cargoNdkBuild") {
    group = "build"
    description = "Builds libberani_ffi.so for ${androidAbis.keys.joinToString()} with cargo-ndk."
    rustSources.from(rustInputs)
    abis.set(androidAbis.keys.toList())
    platform.set(minSdkVersion)
    workspace.set(repoRoot)
    cargoTargetDir.set(cargoTarget)
    outputDir.set(layout.buildDirectory.dir("generated/rustJniLibs"))
}

val generateUniffiKotlin = tasks.register<GenerateUniffiKotlin>("generateUniffiKotlin") {
    group = "build"
    description = "Generates the Kotlin bindings (id.berani.core) with the in-repo uniffi-bindgen."
    rustSources.from(rustInputs)
    workspace.set(repoRoot)
    cargoTargetDir.set(cargoTarget)
    outputDir.set(layout.buildDirectory.dir("generated/source/uniffi"))
}

// Wire both into every variant: the generated Kotlin is a source folder (so it compiles before
// the app's Kotlin needs it) and the libraries a jniLibs folder.
androidComponents {
    onVariants { variant ->
        (variant.sources.kotlin ?: variant.sources.java)?.addGeneratedSourceDirectory(generateUniffiKotlin, GenerateUniffiKotlin::outputDir)
        variant.sources.jniLibs?.addGeneratedSourceDirectory(cargoNdkBuild, CargoNdkBuild::outputDir)
    }
}
