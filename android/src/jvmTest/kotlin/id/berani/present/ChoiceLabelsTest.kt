// The choice labels in strings.xml are the core's own labels, word for word, in both
// languages, so that the app and the report document (and the case desk) say the same thing.
package id.berani.present

import id.berani.ResStrings
import id.berani.core.ChoiceLabel
import id.berani.core.ageBands
import id.berani.core.attachmentKinds
import id.berani.core.categories
import id.berani.core.contactMethods
import id.berani.core.placeTypes
import id.berani.core.relationships
import id.berani.core.reporterRoles
import id.berani.core.victimSexes
import org.junit.Assert.assertEquals
import org.junit.Test

class ChoiceLabelsTest {
    private val id = ResStrings(Language.ID)
    private val en = ResStrings(Language.EN)

    private fun <T> check(app: List<ChoiceItem<T>>, core: List<Pair<T, ChoiceLabel>>) {
        assertEquals(core.map { it.first }, app.map { it.value })
        for ((value, label) in core) {
            val item = app.first { it.value == value }
            assertEquals("$value (id)", label.labelId, id.get(item.label))
            assertEquals("$value (en)", label.labelEn, en.get(item.label))
        }
    }

    @Test
    fun `every choice has the core's label in both languages, in the core's order`() {
        check(Labels.categories, categories().map { it.value to it.label })
        check(Labels.victims, victimSexes().map { it.value to it.label })
        check(Labels.ageBands, ageBands().map { it.value to it.label })
        check(Labels.roles, reporterRoles().map { it.value to it.label })
        check(Labels.places, placeTypes().map { it.value to it.label })
        check(Labels.relationships, relationships().map { it.value to it.label })
        check(Labels.contactMethods, contactMethods().map { it.value to it.label })
        check(Labels.attachmentKinds, attachmentKinds().map { it.value to it.label })
        for (c in categories()) {
            val item = Labels.categories.first { it.value == c.value }
            assertEquals(c.descriptionId, id.get(item.description!!))
            assertEquals(c.descriptionEn, en.get(item.description))
        }
    }
}
