"""The web page served by ``loa run``: calendar, previews, queue, plan, reports, channels."""
