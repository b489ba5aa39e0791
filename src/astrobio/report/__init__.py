"""The run summary and the self-contained HTML report of a run (`astrobio run`, `astrobio report`)."""

REPORT_FILE = "report.html"
"""The report's name in a run folder; here, so naming it does not import the renderers (matplotlib)."""
