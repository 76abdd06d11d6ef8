"""gunicorn reads this file from the directory it starts in: its master process and its workers log
through the portal's LOGGING (one line per event, JSON in production), not a format of their own."""

from portal.settings import LOGGING

logconfig_dict = LOGGING
