// The string resource (and icon) of every fixed choice of a report.
//
// The core also carries Indonesian and English labels for each choice (`categories()`, …);
// the app keeps its own copies in strings.xml so that every word on screen comes from
// resources, and ChoiceLabelsTest checks that both copies say the same thing.
package id.berani.present

import id.berani.R
import id.berani.core.AgeBand
import id.berani.core.AttachmentKind
import id.berani.core.Category
import id.berani.core.ContactMethod
import id.berani.core.PlaceType
import id.berani.core.Relationship
import id.berani.core.ReporterRole
import id.berani.core.VictimSex

/** One choice on screen: the value, its label, and for categories a description and an icon. */
data class ChoiceItem<T>(val value: T, val label: Int, val description: Int? = null, val icon: Int? = null)

object Labels {
    val categories: List<ChoiceItem<Category>> = listOf(
        ChoiceItem(Category.PHYSICAL, R.string.cat_physical, R.string.cat_physical_desc, R.drawable.ic_cat_physical),
        ChoiceItem(Category.PSYCHOLOGICAL, R.string.cat_psychological, R.string.cat_psychological_desc, R.drawable.ic_cat_psychological),
        ChoiceItem(Category.SEXUAL, R.string.cat_sexual, R.string.cat_sexual_desc, R.drawable.ic_cat_sexual),
        ChoiceItem(Category.NEGLECT, R.string.cat_neglect, R.string.cat_neglect_desc, R.drawable.ic_cat_neglect),
        ChoiceItem(Category.EXPLOITATION, R.string.cat_exploitation, R.string.cat_exploitation_desc, R.drawable.ic_cat_exploitation),
        ChoiceItem(Category.TRAFFICKING, R.string.cat_trafficking, R.string.cat_trafficking_desc, R.drawable.ic_cat_trafficking),
        ChoiceItem(Category.OTHER, R.string.cat_other, R.string.cat_other_desc, R.drawable.ic_cat_other),
    )

    val victims: List<ChoiceItem<VictimSex>> = listOf(
        ChoiceItem(VictimSex.WOMAN, R.string.victim_woman),
        ChoiceItem(VictimSex.GIRL, R.string.victim_girl),
        ChoiceItem(VictimSex.BOY, R.string.victim_boy),
        ChoiceItem(VictimSex.OTHER, R.string.victim_other),
    )

    val ageBands: List<ChoiceItem<AgeBand>> = listOf(
        ChoiceItem(AgeBand.AGE0_TO5, R.string.age_0_5),
        ChoiceItem(AgeBand.AGE6_TO12, R.string.age_6_12),
        ChoiceItem(AgeBand.AGE13_TO17, R.string.age_13_17),
        ChoiceItem(AgeBand.AGE18_TO24, R.string.age_18_24),
        ChoiceItem(AgeBand.AGE25_TO44, R.string.age_25_44),
        ChoiceItem(AgeBand.AGE45_TO59, R.string.age_45_59),
        ChoiceItem(AgeBand.AGE60_PLUS, R.string.age_60_plus),
        ChoiceItem(AgeBand.UNKNOWN, R.string.age_unknown),
    )

    val roles: List<ChoiceItem<ReporterRole>> = listOf(
        ChoiceItem(ReporterRole.VICTIM, R.string.role_victim),
        ChoiceItem(ReporterRole.FAMILY, R.string.role_family),
        ChoiceItem(ReporterRole.NEIGHBOUR, R.string.role_neighbour),
        ChoiceItem(ReporterRole.WITNESS, R.string.role_witness),
        ChoiceItem(ReporterRole.VOLUNTEER, R.string.role_volunteer),
        ChoiceItem(ReporterRole.OTHER, R.string.role_other),
    )

    val places: List<ChoiceItem<PlaceType>> = listOf(
        ChoiceItem(PlaceType.HOUSEHOLD, R.string.place_household),
        ChoiceItem(PlaceType.SCHOOL, R.string.place_school),
        ChoiceItem(PlaceType.PUBLIC_PLACE, R.string.place_public_place),
        ChoiceItem(PlaceType.WORKPLACE, R.string.place_workplace),
        ChoiceItem(PlaceType.ONLINE, R.string.place_online),
        ChoiceItem(PlaceType.OTHER, R.string.place_other),
    )

    val relationships: List<ChoiceItem<Relationship>> = listOf(
        ChoiceItem(Relationship.PARENT, R.string.rel_parent),
        ChoiceItem(Relationship.STEP_PARENT, R.string.rel_step_parent),
        ChoiceItem(Relationship.SPOUSE, R.string.rel_spouse),
        ChoiceItem(Relationship.PARTNER, R.string.rel_partner),
        ChoiceItem(Relationship.RELATIVE, R.string.rel_relative),
        ChoiceItem(Relationship.NEIGHBOUR, R.string.rel_neighbour),
        ChoiceItem(Relationship.FRIEND, R.string.rel_friend),
        ChoiceItem(Relationship.TEACHER, R.string.rel_teacher),
        ChoiceItem(Relationship.EMPLOYER, R.string.rel_employer),
        ChoiceItem(Relationship.CO_WORKER, R.string.rel_co_worker),
        ChoiceItem(Relationship.ONLINE_CONTACT, R.string.rel_online_contact),
        ChoiceItem(Relationship.STRANGER, R.string.rel_stranger),
        ChoiceItem(Relationship.OTHER, R.string.rel_other),
        ChoiceItem(Relationship.UNKNOWN, R.string.rel_unknown),
    )

    val contactMethods: List<ChoiceItem<ContactMethod>> = listOf(
        ChoiceItem(ContactMethod.PHONE, R.string.contact_phone),
        ChoiceItem(ContactMethod.WHATS_APP, R.string.contact_whatsapp),
    )

    val attachmentKinds: List<ChoiceItem<AttachmentKind>> = listOf(
        ChoiceItem(AttachmentKind.PHOTO, R.string.kind_photo),
        ChoiceItem(AttachmentKind.AUDIO, R.string.kind_audio),
        ChoiceItem(AttachmentKind.VIDEO, R.string.kind_video),
        ChoiceItem(AttachmentKind.DOCUMENT, R.string.kind_document),
    )

    fun <T> labelOf(items: List<ChoiceItem<T>>, value: T): Int = items.first { it.value == value }.label
}
