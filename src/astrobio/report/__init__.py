"""The run summary and the self-contained HTML report of a run (`astrobio run`, `astrobio report`)."""
