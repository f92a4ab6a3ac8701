"""Demo county generator, ``setup`` / ``demo_county`` / ``demo_generate`` commands.

- ``generator/``: pure-Python synthetic registry (no database): ``county_plan`` / ``province_plan``
  size villages from real NBS village codes (龙安区 410506 at its real 4,226 户 / ~10,588 人, seed 000);
  ``iter_villages`` generates village by village from ``random.Random(seed:village)`` (deterministic,
  order- and thread-independent), gives ID numbers per county (``IdAllocator``) and plants
  data-quality defects at a known rate, listed in a manifest; ``generate_parquet`` streams a province
  to Parquet in chunks (bounded memory, ``--workers`` processes by county).
- ``services/load.py::demo_county_generate``: writes a county into the registry through
  ``bulk_create_with_history`` (source_kind=generated, history dated at birth/marriage/death), keeps
  ``PlantedDefect`` (the answer key of ``fangpin check_registry``) and ``GeneratedMonitoring``, and
  enrols the monitoring objects via ``monitoring.services.enrolment.enrol_existing`` and adds their
  measures via ``monitoring.services.assistance.measure_add``.
- ``services/setup.py::install_setup``: regions, default parameters, one demo user per role.
- Models: ``DemoDataset`` (one per county: seed, scale, as_of, counts, parameter refs),
  ``PlantedDefect`` (code, 户编号, 人编号, detail), ``GeneratedMonitoring``.
- Config: ``data/county_totals.json`` (registered totals per county with their source); parameters
  read from policy (income.monitoring_line per year, catalogue.risk_types,
  income.implausible_per_capita). See docs/parts/demo.md.
"""
