// Background delivery on the framework JobScheduler: a persisted job with a network
// constraint and exponential backoff that syncs the outbox within JobScheduler's 10-minute
// limit and runs again until the outbox is empty; and the "Send now" progress notification.
package id.berani.platform

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.job.JobInfo
import android.app.job.JobParameters
import android.app.job.JobScheduler
import android.app.job.JobService
import android.content.ComponentName
import android.content.Context
import android.os.Build
import id.berani.BeraniApp
import id.berani.R
import id.berani.core.SyncSummary
import id.berani.present.DeliveryPolicy
import id.berani.present.OutboxText
import id.berani.present.SendProgress
import id.berani.present.Strings
import id.berani.present.of
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread

object DeliveryScheduler {
    const val JOB_ID = 129

    /** The job as scheduled: any network, kept across reboots, exponential backoff. */
    fun jobInfo(ctx: Context): JobInfo =
        JobInfo.Builder(JOB_ID, ComponentName(ctx, DeliveryJob::class.java))
            .setRequiredNetworkType(JobInfo.NETWORK_TYPE_ANY)
            .setPersisted(true)
            .setBackoffCriteria(DeliveryPolicy.BACKOFF_INITIAL_MS, JobInfo.BACKOFF_POLICY_EXPONENTIAL)
            .build()

    /** Makes sure the job is scheduled (it replaces a pending one; a running one finishes first). */
    fun schedule(ctx: Context) {
        val app = ctx.applicationContext
        val js = app.getSystemService(JobScheduler::class.java) ?: return
        if (js.allPendingJobs.none { it.id == JOB_ID }) js.schedule(jobInfo(app))
    }
}

/** Syncs the outbox when a network is there; asks to run again while anything is left. */
class DeliveryJob : JobService() {
    private val worker = AtomicReference<Thread?>()

    override fun onStartJob(params: JobParameters): Boolean {
        val app = application as BeraniApp
        worker.set(thread(name = "berani-delivery") {
            val summary: SyncSummary? = try {
                app.services.ensureProfile()
                app.services.sync.run(DeliveryPolicy.JOB_BUDGET_SECONDS, SendProgress(emptyList()))
            } catch (e: Exception) {
                null
            }
            // true: JobScheduler runs it again after the backoff, once a network is there.
            val messages = runCatching { app.services.reporter.queuedMessages() }.getOrDefault(0u)
            jobFinished(params, DeliveryPolicy.needsAnotherRun(summary, messages))
        })
        return true
    }

    override fun onStopJob(params: JobParameters): Boolean {
        // The system takes the network or the time away: stop soon, run again later.
        (application as BeraniApp).services.sync.cancel()
        return true
    }
}

/** The "Send now" notification: only "Berani: mengirim laporan (2/3)", never any content. */
class DeliveryNotifier(private val ctx: Context, private val strings: Strings) {
    private val nm = ctx.getSystemService(NotificationManager::class.java)

    fun createChannel() {
        if (Build.VERSION.SDK_INT >= 26) {
            val ch = NotificationChannel(CHANNEL, strings.get(R.string.notif_channel), NotificationManager.IMPORTANCE_LOW)
            ch.setShowBadge(false)
            ch.lockscreenVisibility = Notification.VISIBILITY_SECRET
            nm?.createNotificationChannel(ch)
        }
    }

    private fun builder(): Notification.Builder =
        (if (Build.VERSION.SDK_INT >= 26) Notification.Builder(ctx, CHANNEL) else @Suppress("DEPRECATION") Notification.Builder(ctx))
            .setSmallIcon(R.drawable.ic_send)
            // Nothing on the lock screen: a shared phone must not show that a report is going.
            .setVisibility(Notification.VISIBILITY_SECRET)
            .setOnlyAlertOnce(true)

    fun progress(p: SendProgress) {
        nm?.notify(ID, builder().setContentTitle(strings.of(p.text)).setProgress(100, p.percent, false).setOngoing(true).build())
    }

    fun finished(summary: SyncSummary?) {
        val t = when {
            summary == null -> R.string.notif_waiting
            summary.pending == 0u -> R.string.notif_done
            else -> R.string.notif_waiting
        }
        nm?.notify(ID, builder().setContentTitle(strings.get(t)).setAutoCancel(true).build())
    }

    companion object {
        const val CHANNEL = "delivery"
        const val ID = 1
    }
}

/** "Send now": one sync with a progress notification; leaves the job scheduled if anything remains. */
object SendNow {
    fun start(app: BeraniApp, notify: Boolean) {
        if (app.services.sync.isRunning) return
        thread(name = "berani-send-now") {
            val services = app.services
            val pending = runCatching { services.reporter.outbox() }.getOrDefault(emptyList())
                .filter { OutboxText.pending(listOf(it)) == 1 }.map { it.id }
            val notifier = if (notify) DeliveryNotifier(app, app.strings(app)) else null
            val progress = SendProgress(pending)
            var last = 0L
            progress.onChange = { p ->
                val now = System.currentTimeMillis()
                if (now - last > 500) {
                    last = now
                    notifier?.progress(p)
                }
            }
            notifier?.progress(progress)
            val summary = try {
                services.ensureProfile()
                services.sync.run(DeliveryPolicy.SEND_NOW_BUDGET_SECONDS, progress)
            } catch (e: Exception) {
                null
            }
            notifier?.finished(summary)
            val messages = runCatching { services.reporter.queuedMessages() }.getOrDefault(0u)
            if (DeliveryPolicy.needsAnotherRun(summary, messages)) DeliveryScheduler.schedule(app)
        }
    }
}
