"""Seed Syria, its 14 governorates, the parties SNHR reports on, and the three role groups.

Everything seeded here is ordinary data: admins edit it (or add another conflict's places and
parties) in the admin without code changes.
"""

from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations

GOVERNORATES = [
    # (English, Arabic, latitude, longitude of the governorate's capital)
    ("Damascus", "دمشق", "33.513800", "36.276500"),
    ("Rif Dimashq", "ريف دمشق", "33.570000", "36.400000"),
    ("Aleppo", "حلب", "36.202100", "37.134300"),
    ("Homs", "حمص", "34.732400", "36.713700"),
    ("Hama", "حماة", "35.131800", "36.757800"),
    ("Latakia", "اللاذقية", "35.531700", "35.790100"),
    ("Tartus", "طرطوس", "34.889000", "35.886600"),
    ("Idlib", "إدلب", "35.930600", "36.633900"),
    ("Raqqa", "الرقة", "35.952800", "39.007900"),
    ("Deir ez-Zor", "دير الزور", "35.335900", "40.140800"),
    ("Al-Hasakah", "الحسكة", "36.502400", "40.747700"),
    ("Daraa", "درعا", "32.618900", "36.102100"),
    ("As-Suwayda", "السويداء", "32.709000", "36.569500"),
    ("Quneitra", "القنيطرة", "33.125800", "35.824500"),
]

PERPETRATORS = [
    # (English, Arabic, parent's English name or None)
    ("Syrian-Russian alliance", "التحالف السوري الروسي", None),
    ("Syrian regime forces", "قوات النظام السوري", "Syrian-Russian alliance"),
    ("Russian forces", "القوات الروسية", "Syrian-Russian alliance"),
    ("ISIS", "تنظيم داعش", None),
    ("Hay'at Tahrir al-Sham", "هيئة تحرير الشام", None),
    ("Armed opposition / Syrian National Army", "المعارضة المسلحة / الجيش الوطني السوري", None),
    ("Syrian Democratic Forces", "قوات سوريا الديمقراطية", None),
    ("International coalition", "قوات التحالف الدولي", None),
    ("Other parties", "جهات أخرى", None),
]

VIEW_REFERENCE = ["view_location", "view_perpetrator", "view_reportingperiod"]
ROLE_PERMISSIONS = {
    "documenter": VIEW_REFERENCE
    + ["add_incident", "change_incident", "view_incident", "add_victim", "change_victim", "view_victim"],
    "reviewer": VIEW_REFERENCE + ["view_incident", "view_victim", "review_record"],
    "admin": VIEW_REFERENCE
    + [
        "add_location",
        "change_location",
        "delete_location",
        "add_perpetrator",
        "change_perpetrator",
        "delete_perpetrator",
        "add_reportingperiod",
        "change_reportingperiod",
        "delete_reportingperiod",
        "add_incident",
        "change_incident",
        "view_incident",
        "add_victim",
        "change_victim",
        "view_victim",
        "review_record",
        "manage_counts",
    ],
}


def seed(apps, schema_editor):
    Location = apps.get_model("incidents", "Location")
    Perpetrator = apps.get_model("incidents", "Perpetrator")
    syria, _ = Location.objects.get_or_create(
        parent=None,
        name="Syria",
        defaults={"name_ar": "سوريا", "level": "country", "latitude": Decimal("34.802100"), "longitude": Decimal("38.996800")},
    )
    for name, name_ar, lat, lon in GOVERNORATES:
        Location.objects.get_or_create(
            parent=syria,
            name=name,
            defaults={"name_ar": name_ar, "level": "governorate", "latitude": Decimal(lat), "longitude": Decimal(lon)},
        )
    by_name = {}
    for name, name_ar, parent in PERPETRATORS:
        by_name[name], _ = Perpetrator.objects.get_or_create(
            name=name, parent=by_name.get(parent), defaults={"name_ar": name_ar}
        )

    app_config = apps.get_app_config("incidents")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="incidents", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
