// The Application: builds the Services once per process and schedules delivery when reports
// wait in the outbox.
package id.berani

import android.app.Activity
import android.app.Application
import android.os.Bundle
import android.content.Context
import android.graphics.drawable.Drawable
import id.berani.core.LogLevel
import id.berani.core.initLogging
import id.berani.platform.DeliveryNotifier
import id.berani.platform.DeliveryScheduler
import id.berani.platform.Disguise
import id.berani.platform.KeystoreKeys
import id.berani.platform.LogcatSink
import id.berani.platform.PrefsKeyValue
import id.berani.present.AppSettings
import id.berani.present.OutboxText
import id.berani.present.Strings
import java.io.File
import java.util.concurrent.Executor
import java.util.concurrent.Executors

open class BeraniApp : Application() {
    lateinit var services: Services
        private set

    /** Where slow work (sealing, syncing, fetching the profile) runs off the UI thread. */
    open val executor: Executor by lazy { Executors.newSingleThreadExecutor() }

    override fun onCreate() {
        super.onCreate()
        services = createServices()
        services.safety.afterWipe = { afterWipe() }
        registerActivityLifecycleCallbacks(Foreground())
        runCatching { initLogging(LogcatSink(), LogLevel.INFO) }
        DeliveryNotifier(this, strings(this)).createChannel()
        executor.execute {
            services.ensureProfile()
            if (OutboxText.pending(runCatching { services.reporter.outbox() }.getOrDefault(emptyList())) > 0) {
                DeliveryScheduler.schedule(this)
            }
        }
    }

    /**
     * After a panic wipe the app is as on its first start: Berani's own launcher entry again
     * (a calculator with no PIN behind it opens nothing), no delivery job, no notification,
     * and an empty cache: voice notes being recorded, photos being taken or picked, relay
     * bundles going out or coming in all pass through it.
     */
    private fun afterWipe() {
        cacheDir.listFiles()?.forEach { it.deleteRecursively() }
        Disguise.apply(this, false)
        getSystemService(android.app.job.JobScheduler::class.java)?.cancel(DeliveryScheduler.JOB_ID)
        getSystemService(android.app.NotificationManager::class.java)?.cancelAll()
    }

    /** Counts the app's started screens, for the auto-lock ([id.berani.present.Safety]). */
    private inner class Foreground : ActivityLifecycleCallbacks {
        private var started = 0
        override fun onActivityStarted(activity: Activity) {
            if (started++ == 0) services.safety.cameToForeground()
        }
        override fun onActivityStopped(activity: Activity) {
            if (--started == 0) services.safety.wentToBackground()
        }
        override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) = Unit
        override fun onActivityResumed(activity: Activity) = Unit
        override fun onActivityPaused(activity: Activity) = Unit
        override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) = Unit
        override fun onActivityDestroyed(activity: Activity) = Unit
    }

    protected open fun createServices(): Services {
        val settings = AppSettings(PrefsKeyValue(getSharedPreferences("berani", Context.MODE_PRIVATE)))
        val config = AgencyConfig(
            intakeUrl = getString(R.string.config_intake_url),
            profileKey = getString(R.string.config_profile_key),
            downloadUrl = getString(R.string.config_download_url).ifBlank { null },
        )
        val bundled = { runCatching { assets.open("agency_profile.jws").use { it.readBytes() } }.getOrNull() }
        return Services(File(filesDir, "berani"), KeystoreKeys.deviceKeyStore(filesDir), settings, config, bundled, clock = android.os.SystemClock::elapsedRealtime)
    }

    /** The words of string resources in [context]'s language. */
    open fun strings(context: Context): Strings = Strings { id, args -> context.getString(id, *args) }

    /** A drawable resource (the vector icons). */
    open fun drawable(context: Context, id: Int): Drawable? = context.getDrawable(id)
}
