from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "fangpin.screening"
    label = "screening"
    verbose_name = "部门筛查预警"

    def ready(self) -> None:
        from fangpin.accounts.scope import register_region_path

        from .models import LinkReview, ScreeningHit

        register_region_path(ScreeningHit, "household__village__code")
        register_region_path(LinkReview, "candidate__household__village__code")

        from fangpin.core.rotation import register_reindexer

        from .protect import reindex_batch_files

        register_reindexer(reindex_batch_files)  # batch files carry the ID's blind index
