"""Local servers that speak the platforms' APIs, for tests, the demo and curious admins."""
