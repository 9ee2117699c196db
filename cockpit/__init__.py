"""Administration commands of the cockpit (``python -m cockpit.users …``, ``python -m cockpit.audit …``)."""
