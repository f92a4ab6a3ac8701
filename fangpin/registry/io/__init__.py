"""Import and export of the national system's person-level 监测对象信息 export.

Modules (data flows top to bottom on import):
- ``values``   the national value lists (code tables) with the spellings real files use for them, the
               spelling report (``Spellings``), 是/否 and hand-typed numbers; shared by every national file.
- ``columns``  the national column table: headers + aliases → model fields; header and village-name
               normalisation.
- ``convert``  cell converters (是/否, YYYYMMDD / 1975-01-20 / Excel serial, YYYYMM, value lists of
               ``values``, numbers) and export formatters.
- ``read``     xlsx (python-calamine) or CSV (UTF-8/BOM/GB18030) → text cells; header row detection.
- ``villages`` 县/乡/村 names or 村代码 → 12-digit village code within the actor's scope.
- ``validate`` every row checked before anything is written (per distinct value, polars group-bys).
- ``write``    diff against the registry (by 户编号 / 证件号码 / income year) and the writes.
- ``bulk``     fast inserts with simple_history rows (SQLite executemany, PostgreSQL COPY).
- ``report``   the reject report (original rows + 错误原因).
- ``xlsx``     safe spreadsheet writing (formula neutralisation, text cells for IDs).
- ``export``   ``registry_export(*, actor, out_path, region_code=None, unmasked=False, kind=...)``.
- ``kinds``    the other national files, （乡村建设）户信息 and （自定义）行政村信息 (column tables, header
               detection, value spellings, diff and write), used by ``services/kind_imports.py``.

The services are in ``registry/services/imports.py`` (``import_batch_create``, ``import_batch_run``,
``registry_import``), the Huey task in ``registry/tasks.py``, the commands ``import_registry`` and
``export_registry``. See docs/parts/registry_io.md.
"""
