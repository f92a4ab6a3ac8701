"""Browser views, one module per area (``views/<area>.py`` with templates in ``templates/web/<area>/`` and
routes in ``urls/<area>.py``). Views are thin: they parse the request, call selectors (reads) and services
(writes) with today's date passed explicitly, and render. No business rule lives here."""
