// What every screen has: FLAG_SECURE (no screenshots, no preview in recent apps), the chosen
// language, a top bar with the quick-exit button, the emergency bar, a scrolling body and a
// footer for the screen's main buttons. Screens draw themselves again from their presenter in
// render(), so nothing on screen is ever the only copy of an answer.
package id.berani.ui

import android.app.Activity
import android.app.AlertDialog
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.graphics.Typeface
import android.net.Uri
import android.os.Build
import android.os.Bundle
import android.os.Handler
import android.os.Looper
import android.util.TypedValue
import android.view.KeyEvent
import android.view.View
import android.view.ViewGroup
import android.view.WindowManager
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import id.berani.BeraniApp
import id.berani.R
import id.berani.Services
import id.berani.platform.Locales
import id.berani.present.Emergency
import id.berani.present.Language
import id.berani.present.Palette
import id.berani.present.Reach
import id.berani.present.Strings
import id.berani.present.Text
import id.berani.present.of

abstract class BaseActivity : Activity() {
    protected val app: BeraniApp get() = application as BeraniApp
    protected val services: Services get() = app.services
    protected val language: Language get() = services.settings.language
    protected lateinit var strings: Strings
    protected lateinit var ui: Views
    protected lateinit var content: LinearLayout
    protected lateinit var footer: LinearLayout
    private lateinit var emergencyBox: LinearLayout
    private lateinit var titleView: TextView
    private val main = Handler(Looper.getMainLooper())
    private var pendingPermission: (() -> Unit)? = null

    /** Show the emergency numbers first and large (someone is in danger now). */
    protected open val emergencyFirst: Boolean get() = false

    protected fun s(id: Int, vararg args: Any): String = strings.get(id, *args)
    protected fun s(t: Text): String = strings.of(t)

    override fun attachBaseContext(base: Context) {
        val app = base.applicationContext as? BeraniApp
        val lang = app?.let { runCatching { it.services.settings.language }.getOrNull() } ?: Language.ID
        super.attachBaseContext(Locales.wrap(base, lang))
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        setTheme(android.R.style.Theme_Material_Light_NoActionBar)
        super.onCreate(savedInstanceState)
        window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)
        strings = app.strings(this)
        ui = Views(this, app)
        val root = ui.column().apply { setBackgroundColor(Palette.BACKGROUND) }
        root.addView(topBar())
        emergencyBox = ui.column().apply { setPadding(ui.dp(12), ui.dp(4), ui.dp(12), ui.dp(8)) }
        root.addView(emergencyBox)
        content = ui.column().apply { setPadding(ui.dp(16), ui.dp(8), ui.dp(16), ui.dp(24)) }
        root.addView(ScrollView(this).apply {
            isFillViewport = true
            addView(content)
            layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, 0, 1f)
        })
        footer = ui.column().apply { setPadding(ui.dp(16), 0, ui.dp(16), ui.dp(8)) }
        root.addView(footer)
        // Edge to edge (enforced from targetSdk 35): keep clear of the status and navigation bars.
        root.setOnApplyWindowInsetsListener { v, insets ->
            @Suppress("DEPRECATION")
            v.setPadding(insets.systemWindowInsetLeft, insets.systemWindowInsetTop, insets.systemWindowInsetRight, insets.systemWindowInsetBottom)
            insets
        }
        setContentView(root)
    }

    /** This screen may only be shown once the PIN was typed (all but the lock screens). */
    protected open val lockable: Boolean get() = true

    override fun onResume() {
        super.onResume()
        if (lockable && services.safety.needsUnlock) {
            showLock(this)
            return
        }
        refresh()
    }

    /** Draws the whole screen again from the presenter. */
    fun refresh() {
        titleView.text = s(screenTitle())
        content.removeAllViews()
        footer.removeAllViews()
        renderEmergency()
        render()
    }

    protected abstract fun screenTitle(): Int
    protected abstract fun render()

    private fun topBar(): View = ui.row().apply {
        setPadding(ui.dp(16), ui.dp(8), ui.dp(8), ui.dp(4))
        gravity = android.view.Gravity.CENTER_VERTICAL
        titleView = TextView(this@BaseActivity).apply {
            setTextSize(TypedValue.COMPLEX_UNIT_SP, 22f)
            setTypeface(typeface, Typeface.BOLD)
            setTextColor(Palette.TEXT)
            if (Build.VERSION.SDK_INT >= 28) isAccessibilityHeading = true
            layoutParams = LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f)
        }
        addView(titleView)
        addView(ui.button(s(R.string.quick_exit), s(R.string.quick_exit_desc), Palette.EXIT, Palette.ON_PRIMARY, 18f, 48) { quickExit() }.apply {
            id = R.id.quick_exit
            // A long press is the panic wipe (it asks once, then leaves).
            setOnLongClickListener {
                askWipe { quickExit() }
                true
            }
            if (Build.VERSION.SDK_INT >= 21) {
                accessibilityDelegate = object : View.AccessibilityDelegate() {
                    override fun onInitializeAccessibilityNodeInfo(host: View, info: android.view.accessibility.AccessibilityNodeInfo) {
                        super.onInitializeAccessibilityNodeInfo(host, info)
                        info.addAction(android.view.accessibility.AccessibilityNodeInfo.AccessibilityAction(
                            android.view.accessibility.AccessibilityNodeInfo.ACTION_LONG_CLICK, s(R.string.quick_exit_long_desc)))
                    }
                }
            }
            layoutParams = LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT)
        })
    }

    private fun renderEmergency() {
        emergencyBox.removeAllViews()
        val actions = Emergency.bar(services.profile())
        if (emergencyFirst) {
            emergencyBox.setBackgroundColor(Palette.EMERGENCY_BAR)
            emergencyBox.addView(ui.heading(s(R.string.em_heading_danger), 22f))
            for (a in actions) emergencyBox.addView(actionButton(a, large = true))
        } else {
            emergencyBox.setBackgroundColor(Palette.BACKGROUND)
            // 112 and SAPA by phone; SAPA by WhatsApp and the agency's first hotline below.
            val first = actions.take(2).map { actionButton(it, large = false) }
            val second = actions.drop(2).take(2).map { actionButton(it, large = false) }
            emergencyBox.addView(ui.pair(*first.toTypedArray()))
            if (second.isNotEmpty()) emergencyBox.addView(ui.pair(*second.toTypedArray()))
        }
    }

    private fun actionButton(a: id.berani.present.EmergencyAction, large: Boolean): Button {
        val color = if (a.reach == Reach.WHATSAPP) Palette.WHATSAPP else Palette.EMERGENCY
        return ui.button(s(a.label), s(a.description), color, Palette.ON_EMERGENCY, if (large) 22f else 17f, if (large) 72 else 48) {
            open(a.uri, a.reach)
        }
    }

    /** Opens the dialer (no call permission: one more tap on the phone's own call button) or WhatsApp. */
    protected fun open(uri: String, reach: Reach) {
        val intent = if (reach == Reach.CALL) Intent(Intent.ACTION_DIAL, Uri.parse(uri)) else Intent(Intent.ACTION_VIEW, Uri.parse(uri))
        try {
            startActivity(intent)
        } catch (_: android.content.ActivityNotFoundException) {
            toastProblem(s(R.string.error_no_app))
        }
    }

    /** Leaves at once: the home screen comes up and the app disappears from recent apps. */
    fun quickExit() {
        runCatching {
            startActivity(Intent(Intent.ACTION_MAIN).addCategory(Intent.CATEGORY_HOME).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK))
        }
        finishAndRemoveTask()
    }

    /**
     * The panic wipe, asked once: keep sending the reports already queued (sealed to the
     * office, unreadable here), or delete everything, or cancel. Keeping is offered only when
     * reports wait and the home is open. [then] runs after the wipe.
     */
    fun askWipe(then: () -> Unit) {
        val queued = if (services.safety.needsUnlock) 0 else
            runCatching { id.berani.present.OutboxText.pending(services.reporter.outbox()) }.getOrDefault(0)
        val b = AlertDialog.Builder(this)
            .setMessage(if (queued > 0) s(R.string.wipe_question_queued, queued) else s(R.string.wipe_question))
            .setNegativeButton(s(R.string.wipe_everything)) { _, _ -> wipe(false, then) }
            .setNeutralButton(s(R.string.wipe_cancel), null)
        if (queued > 0) b.setPositiveButton(s(R.string.wipe_keep_sending)) { _, _ -> wipe(true, then) }
        b.show()
    }

    private fun wipe(keepSending: Boolean, then: () -> Unit) {
        work({ services.wipe(keepSending) }) { r ->
            if (r.isFailure) {
                toastProblem(s(R.string.wipe_failed))
                return@work
            }
            if (r.getOrNull()?.keptReports?.let { it > 0u } == true) id.berani.platform.DeliveryScheduler.schedule(this)
            then()
        }
    }

    override fun dispatchKeyEvent(event: KeyEvent): Boolean {
        if (event.keyCode == KeyEvent.KEYCODE_VOLUME_DOWN && event.action == KeyEvent.ACTION_DOWN && services.settings.volumeKeyExit) {
            quickExit()
            return true
        }
        return super.dispatchKeyEvent(event)
    }

    protected fun toastProblem(words: String) {
        android.widget.Toast.makeText(this, words, android.widget.Toast.LENGTH_LONG).show()
    }

    /** Runs [task] off the UI thread, then [done] on it (unless the screen is gone by then). */
    protected fun <T> work(task: () -> T, done: (Result<T>) -> Unit) {
        app.executor.execute {
            val r = runCatching(task)
            main.post { if (!isDestroyed) done(r) }
        }
    }

    /**
     * Asks for [permission] only when a feature needs it, after saying in plain words why
     * ([explanation]); runs [then] once granted.
     */
    protected fun withPermission(permission: String, explanation: Int, then: () -> Unit) {
        if (Build.VERSION.SDK_INT < 23 || checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED) {
            then()
            return
        }
        AlertDialog.Builder(this)
            .setMessage(s(explanation))
            .setPositiveButton(s(R.string.permission_continue)) { _, _ ->
                pendingPermission = then
                requestPermissions(arrayOf(permission), REQUEST_PERMISSION)
            }
            .setNegativeButton(s(R.string.permission_not_now), null)
            .show()
    }

    /** Whether [permission] is granted (notifications: "Send now" works without them, just silently). */
    protected fun granted(permission: String) =
        Build.VERSION.SDK_INT < 23 || checkSelfPermission(permission) == PackageManager.PERMISSION_GRANTED

    override fun onRequestPermissionsResult(requestCode: Int, permissions: Array<out String>, grantResults: IntArray) {
        super.onRequestPermissionsResult(requestCode, permissions, grantResults)
        if (requestCode != REQUEST_PERMISSION) return
        val then = pendingPermission
        pendingPermission = null
        if (grantResults.isNotEmpty() && grantResults[0] == PackageManager.PERMISSION_GRANTED) then?.invoke()
        else toastProblem(s(R.string.permission_denied))
    }

    protected fun go(screen: Class<out Activity>) = startActivity(Intent(this, screen))

    companion object {
        const val REQUEST_PERMISSION = 7

        /**
         * Clears the app's screens and shows the way in: the calculator when disguised, the
         * PIN screen otherwise.
         */
        fun showLock(from: Activity) {
            val app = from.application as BeraniApp
            val cls = if (app.services.settings.disguised) CalculatorActivity::class.java else LockActivity::class.java
            from.startActivity(Intent(from, cls).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TASK))
            from.finish()
        }

        /** A fresh start at Home, the screens before it gone (after an unlock or a wipe). */
        fun showHome(from: Activity) {
            from.startActivity(Intent(from, HomeActivity::class.java).addFlags(Intent.FLAG_ACTIVITY_NEW_TASK or Intent.FLAG_ACTIVITY_CLEAR_TASK))
            from.finish()
        }
    }
}
