"""What every HTML page shares, the web chat's and the office's: signed cookies and tokens,
posted forms, broadcast HTML made safe."""
