from django.contrib.admin.apps import AdminConfig


class SiteAdminConfig(AdminConfig):
    """The admin app with our site (config.admin.SiteAdmin) as the default `admin.site`.

    Also the place the project-wide (config/) deployment checks are registered, config/ not being an app.
    """

    default_site = "config.admin.SiteAdmin"

    def ready(self) -> None:
        super().ready()
        from . import checks

        checks.register()
