// The disguise: the launcher shows either "Berani" (alias .Launcher → HomeActivity) or a
// plain calculator, "Kalkulator" (alias .Kalkulator → CalculatorActivity). Exactly one of the
// two aliases is enabled; the activities themselves stay enabled, so the app can always open
// its own screens.
package id.berani.platform

import android.content.ComponentName
import android.content.Context
import android.content.pm.PackageManager

object Disguise {
    const val LAUNCHER = "id.berani.Launcher"
    const val CALCULATOR = "id.berani.Kalkulator"

    /** Shows the calculator in the launcher instead of Berani ([on]), or Berani again. */
    fun apply(ctx: Context, on: Boolean) {
        val pm = ctx.packageManager
        fun set(name: String, enabled: Boolean) = pm.setComponentEnabledSetting(
            ComponentName(ctx, name),
            if (enabled) PackageManager.COMPONENT_ENABLED_STATE_ENABLED else PackageManager.COMPONENT_ENABLED_STATE_DISABLED,
            PackageManager.DONT_KILL_APP,
        )
        // The new entry first, so that the app is never without a launcher entry.
        if (on) {
            set(CALCULATOR, true)
            set(LAUNCHER, false)
        } else {
            set(LAUNCHER, true)
            set(CALCULATOR, false)
        }
    }
}
