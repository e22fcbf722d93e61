"""The programme officers' web pages: one route table (``routes``), a module per page group."""
