"""The web layer beside the Dash pages: Flask routes (login, admin, intake, the wall, boundaries,
health), the request's viewer and scope (``web/session.py``), hardening and jobs."""
