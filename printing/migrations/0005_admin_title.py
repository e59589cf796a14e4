from django.db import migrations


def use_site_header(apps, schema_editor):
    # django-admin-interface's default theme (made on first use) says "Django
    # administration"; without a theme title the admin shows the site header instead: the
    # shop's name, translated.
    Theme = apps.get_model("admin_interface", "Theme")
    if not Theme.objects.exists():
        Theme.objects.create(name="Django", title="", active=True)
    Theme.objects.filter(title="Django administration").update(title="")


class Migration(migrations.Migration):
    dependencies = [
        ("printing", "0004_escpos_and_network_printers"),
        ("admin_interface", "0032_alter_theme_defaults"),
    ]

    operations = [migrations.RunPython(use_site_header, migrations.RunPython.noop)]
