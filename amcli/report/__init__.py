"""Files that runs leave behind: metrics.json, markers, plots."""
