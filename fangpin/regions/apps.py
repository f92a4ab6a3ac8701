from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "fangpin.regions"
    label = "regions"
    verbose_name = "行政区划"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import Region
        from .selectors import region_paths_forget

        # the process cache of region paths (selectors.region_path_names)
        post_save.connect(region_paths_forget, sender=Region, dispatch_uid="regions.paths.save")
        post_delete.connect(region_paths_forget, sender=Region, dispatch_uid="regions.paths.delete")
