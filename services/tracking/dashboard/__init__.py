"""The operators' dashboard, served by tracking at `/dashboard`: plain HTML, CSS and
JavaScript modules under `static/` (no build step, nothing from another origin), and the
router that serves them (`pages.py`). The page holds no data of its own: it signs the
operator in with a bearer token and reads tracking's JSON API and live event stream."""
