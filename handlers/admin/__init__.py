"""What admins do: broadcasts, statistics, the export, who is an admin."""
