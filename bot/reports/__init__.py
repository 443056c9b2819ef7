"""Reports: the plan's figures (KPIs) and the Word/Excel/Markdown report files."""
