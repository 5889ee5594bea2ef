from django.contrib.admin.apps import AdminConfig


class SiteAdminConfig(AdminConfig):
    """The admin app with our site (config.admin.SiteAdmin) as the default `admin.site`."""

    default_site = "config.admin.SiteAdmin"
